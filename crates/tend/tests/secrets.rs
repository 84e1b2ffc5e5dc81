//! Secrets from dotenv files: precedence, edits picked up at the next spawn, masking, and
//! `tend env`.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;

use common::*;

fn env_of(text: &str) -> BTreeMap<String, String> {
    text.split('\0')
        .filter_map(|record| record.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn layers_apply_in_the_documented_precedence() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(&sb.home).unwrap();
    let home_env = sb.home.join(".env");
    std::fs::write(&home_env, "A=home\nB=home\nC=home\nD=home\nE=home\nTEND_APP=home\n").unwrap();
    private(&home_env);
    private(&sb.write(".env", "B=app\nC=app\nD=app\nE=app\n"));
    private(&sb.write("extra.env", "C=files\nD=files\nE=files\n"));
    let dump = sb.path("env");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"layers\"\n[programs.p]\ncommand = [{}, \"env-dump\", {}]\nenv_files = [\"extra.env\"]\nenv = {{ E = \"config\" }}\n",
            toml_str(&testbin_str()),
            toml_str(&dump.to_string_lossy())
        ),
    );
    let mut tend = sb
        .command(&["up"])
        .env("D", "host")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let env = env_of(&sb.wait_file(&dump));
    // SAFETY: signals the tend this test started.
    unsafe { libc::kill(tend.id() as i32, libc::SIGTERM) };
    assert!(tend.wait().unwrap().success());
    let got: Vec<(&str, &str)> = ["A", "B", "C", "D", "E", "TEND_APP"]
        .iter()
        .map(|k| (*k, env.get(*k).map(String::as_str).unwrap_or("<unset>")))
        .collect();
    assert_eq!(
        got,
        vec![
            ("A", "home"),
            ("B", "app"),
            ("C", "files"),
            ("D", "host"),
            ("E", "config"),
            ("TEND_APP", "layers")
        ]
    );
}

#[test]
fn an_edited_dotenv_file_takes_effect_at_the_next_start() {
    let sb = Sandbox::new();
    let env_file = sb.write(".env", "WORD=one\n");
    private(&env_file);
    let out = sb.path("out");
    let go = sb.path("go");
    // Each start appends $WORD; the first run waits for the test's signal, then asks for a
    // restart (exit 42); the second stays up.
    let script = format!(
        "echo \"$WORD\" >> {out}; if [ \"$TEND_RESTART_COUNT\" = 0 ]; then while [ ! -e {go} ]; do sleep 0.02; done; exit 42; fi; exec sleep 300",
        out = sh_quote(&out.to_string_lossy()),
        go = sh_quote(&go.to_string_lossy())
    );
    sb.write(
        "tend.toml",
        &format!("[programs.w]\ncommand = [\"sh\", \"-c\", {}]\n", toml_str(&script)),
    );
    let tend = sb.spawn(&["up"]);
    sb.wait_lines(&out, 1);
    std::fs::write(&env_file, "WORD=two\n").unwrap();
    std::fs::write(&go, "").unwrap();
    let text = sb.wait_lines(&out, 2);
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    assert_eq!(text.lines().collect::<Vec<_>>(), vec!["one", "two"]);
}

#[test]
fn secrets_never_reach_tends_logs_or_errors() {
    let sb = Sandbox::new();
    let secret = "s3cr3t-Value-9f8e7d";
    private(&sb.write(".env", &format!("TOKEN={secret}\nCMD=no-such-cmd-{secret}\n")));
    let dump = sb.path("env");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"sec\"\n[programs.ok]\ncommand = [{}, \"env-dump\", {}]\n[programs.bad]\ncommand = [\"no-such-cmd-{secret}\"]\n",
            toml_str(&testbin_str()),
            toml_str(&dump.to_string_lossy())
        ),
    );
    let tend = sb.spawn(&["-vv", "up"]);
    let env = env_of(&sb.wait_file(&dump));
    assert_eq!(env.get("TOKEN").map(String::as_str), Some(secret), "the program gets it");
    let app = sb.app("sec");
    sb.wait_text(&app.tend_log(), "bad: cannot start");
    tend.signal(libc::SIGTERM);
    let finished = tend.wait();
    let log = app.read_tend_log();
    for (what, text) in
        [("tend.log", &log), ("stderr", &finished.stderr), ("stdout", &finished.stdout)]
    {
        assert!(!text.contains(secret), "the secret is in {what}:\n{text}");
    }
    assert!(log.contains("command `***` not found"), "the failed command is named, masked:\n{log}");
}

#[test]
fn tend_env_shows_sources_and_masks_secrets() {
    let sb = Sandbox::new();
    let env_file = sb.write(".env", "TOKEN=abc123secret\nPORT=1\n");
    sb.write(
        "tend.toml",
        "name = \"envapp\"\n[programs.web]\ncommand = \"sleep 1\"\nenv = { PORT = \"8000\" }\n",
    );

    let masked = sb.run(&["env", "web"]);
    masked.assert_code(0);
    let line = |text: &str, key: &str| {
        text.lines().find(|l| l.starts_with(&format!("{key}="))).unwrap_or_default().to_string()
    };
    let token = line(&masked.stdout, "TOKEN");
    assert!(
        token.starts_with("TOKEN=***") && token.ends_with(&format!("# {}", env_file.display())),
        "{token}"
    );
    assert!(
        line(&masked.stdout, "PORT").starts_with("PORT=8000")
            && line(&masked.stdout, "PORT").ends_with("# config")
    );
    assert!(line(&masked.stdout, "TEND_APP").starts_with("TEND_APP=envapp"));
    assert!(!masked.stdout.contains("abc123secret"));
    assert!(
        masked.stderr.contains("chmod 600"),
        "a readable secrets file is warned about:\n{}",
        masked.stderr
    );

    let shown = sb.run(&["env", "web", "--show-secrets", "--json"]);
    shown.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let vars = json["programs"]["web"].as_array().unwrap();
    let token = vars.iter().find(|v| v["key"] == "TOKEN").unwrap();
    assert_eq!(token["value"], "abc123secret");
    assert_eq!(token["secret"], true);
    assert_eq!(token["source"]["kind"], "file");

    let unknown = sb.run(&["env", "nope"]);
    unknown.assert_code(1);
    assert!(
        unknown.stderr.contains("no program `nope`") && unknown.stderr.contains("web"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_missing_env_file_is_an_error_at_its_line_and_key() {
    let sb = Sandbox::new();
    sb.write(
        "tend.toml",
        &format!(
            "name = \"sec\"\n[programs.p]\ncommand = [{}, \"sleep\", \"300\"]\nenv_files = [\"secrets.env\"]\n",
            toml_str(&testbin_str())
        ),
    );
    let done = sb.run(&["up"]);
    done.assert_code(1);
    assert!(done.stderr.contains("tend.toml:4:"), "{}", done.stderr);
    assert!(done.stderr.contains("programs.p.env_files[0]"), "{}", done.stderr);
    assert!(done.stderr.contains("secrets.env does not exist"), "{}", done.stderr);
}

#[test]
fn a_dotenv_that_is_a_folder_says_so() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path(".env")).unwrap();
    sb.write(
        "tend.toml",
        &format!(
            "name = \"sec\"\n[programs.p]\ncommand = [{}, \"sleep\", \"300\"]\n",
            toml_str(&testbin_str())
        ),
    );
    let done = sb.run(&["up", "-d"]);
    done.assert_code(1);
    assert!(done.stderr.contains(".env is a folder"), "{}", done.stderr);
}

#[test]
fn an_unreadable_dotenv_says_whom_and_what_to_do() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    let env = sb.write(".env", "A=1\n");
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o000)).unwrap();
    sb.write(
        "tend.toml",
        &format!(
            "name = \"sec\"\n[programs.p]\ncommand = [{}, \"sleep\", \"300\"]\n",
            toml_str(&testbin_str())
        ),
    );
    // Root reads every file: run tend without the capabilities that let it (setpriv drops
    // them from the bounding set, so the exec of tend does not get them).
    let template = sb.command(&["up", "-d"]);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        if std::process::Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: running as root and setpriv (util-linux) is missing");
            return;
        }
        let mut cmd = std::process::Command::new("setpriv");
        cmd.arg("--bounding-set=-dac_override,-dac_read_search").arg(tend_bin());
        cmd
    } else {
        std::process::Command::new(tend_bin())
    };
    cmd.args(["up", "-d"]).current_dir(&sb.cwd).stdin(std::process::Stdio::null());
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let done = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot be read by"), "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");
}
