//! What a program gets from tend (its `TEND_*` variables, config `env`) and the run record
//! tend writes for it (`runs/<pgid>.json`).
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;

use common::*;

fn env_of(text: &str) -> BTreeMap<&str, &str> {
    text.split('\0').filter_map(|record| record.split_once('=')).collect()
}

#[test]
fn a_program_gets_the_tend_variables_and_a_matching_run_record() {
    let sb = Sandbox::new();
    let dump = sb.path("env");
    let tend = sb.spawn(&[
        "run",
        "--name",
        "envy",
        "--",
        &testbin_str(),
        "env-dump",
        dump.to_str().unwrap(),
    ]);
    let text = sb.wait_file(&dump);
    let env = env_of(&text);
    let app = sb.app("envy");

    assert_eq!(env.get("TEND_APP"), Some(&"envy"));
    assert_eq!(env.get("TEND_PROGRAM"), Some(&"envy"));
    assert_eq!(env.get("TEND_STATE_DIR").map(std::path::Path::new), Some(app.dir.as_path()));
    assert_eq!(env.get("TEND_RESTART_COUNT"), Some(&"0"));
    assert_eq!(env.get("TEND_RESTART_REASON"), Some(&"start"));
    assert_eq!(env.get("TEND_RESTART_EXIT_CODE"), Some(&"42"));
    assert_eq!(env.get("TEND_LAST_EXIT"), Some(&""), "empty on the first start");
    let kinds =
        ["first_start", "system_reboot", "crash_recovery", "restart", "service_restart", "start"];
    let kind = env.get("TEND_STARTUP_KIND").copied().unwrap_or_default();
    assert!(kinds.contains(&kind), "TEND_STARTUP_KIND={kind:?}");
    let run_id = env.get("TEND_RUN_ID").copied().unwrap_or_default();
    assert!(
        run_id.len() == 32 && run_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "TEND_RUN_ID={run_id:?}"
    );

    // The record of the running program.
    let files = app.run_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.runs().join(&files[0])).unwrap())
            .unwrap();
    let pid = u32::try_from(record["pid"].as_u64().unwrap()).unwrap();
    let _guard = KillOnDrop::new(&[pid]);
    assert_eq!(files[0], format!("{pid}.json"));
    assert_eq!(record["version"], 1);
    assert_eq!(record["app"], "envy");
    assert_eq!(record["program"], "envy");
    assert_eq!(record["pgid"], pid, "the leader heads its own group");
    assert_eq!(record["run_id"], run_id, "the record carries the program's TEND_RUN_ID");
    let leader = tend_runner::process_stats(pid).unwrap();
    assert_eq!(record["start_time"], leader.start_time, "field 22 of /proc/<pid>/stat");
    assert_eq!(leader.pgid, pid);
    let owner = tend_runner::process_stats(tend.pid()).unwrap();
    assert_eq!(record["owner"]["pid"], tend.pid());
    assert_eq!(record["owner"]["start_time"], owner.start_time);
    assert_eq!(record["boot_id"].as_str(), tend_runner::current_boot_id().as_deref());
    assert_eq!(
        record["argv"],
        serde_json::json!([testbin_str(), "env-dump", dump.to_str().unwrap()])
    );
    assert_eq!(record["cwd"].as_str().map(std::path::Path::new), Some(sb.cwd.as_path()));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    assert!(!alive(pid));
    assert!(app.run_files().is_empty(), "{:?}", app.run_files());
}

#[test]
fn config_env_and_dir_reach_the_program_and_tend_variables_win() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("sub")).unwrap();
    let dump = sb.path("env");
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "cfg"

[programs.p]
command = [{bin}, "env-dump", {dump}]
dir = "sub"
env = {{ GREETING = "hello", PORT = 8000, TEND_APP = "not-this" }}
"#,
            bin = toml_str(&testbin_str()),
            dump = toml_str(dump.to_str().unwrap())
        ),
    );
    let tend = sb.spawn(&["up"]);
    let text = sb.wait_file(&dump);
    let env = env_of(&text);
    assert_eq!(env.get("GREETING"), Some(&"hello"));
    assert_eq!(env.get("PORT"), Some(&"8000"));
    assert_eq!(env.get("TEND_APP"), Some(&"cfg"), "tend's own variables come first");
    assert_eq!(env.get("TEND_PROGRAM"), Some(&"p"));
    let app = sb.app("cfg");
    let files = app.run_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.runs().join(&files[0])).unwrap())
            .unwrap();
    let pid = u32::try_from(record["pid"].as_u64().unwrap()).unwrap();
    let _guard = KillOnDrop::new(&[pid]);
    assert_eq!(record["cwd"].as_str().map(std::path::Path::new), Some(sb.path("sub").as_path()));
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    assert!(!alive(pid));
}

#[test]
fn a_restarted_program_is_told_how_its_last_run_ended() {
    let sb = Sandbox::new();
    let seen = sb.path("last-exits");
    let script = format!(
        "printf '%s\\n' \"[$TEND_LAST_EXIT]\" >> {seen}; n=$(wc -l < {seen}); \
         if [ $n -eq 1 ]; then exit 3; elif [ $n -eq 2 ]; then kill -KILL $$; fi; echo $$ > {pid}; exec sleep 300",
        seen = sh_quote(&text(&seen)),
        pid = sh_quote(&sb.path_str("pid")),
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"lastexit\"\n[programs.p]\ncommand = [\"sh\", \"-c\", {}]\n\
             backoff = {{ initial = \"10ms\", max = \"10ms\" }}\n",
            toml_str(&script)
        ),
    );
    let tend = sb.spawn(&["up"]);
    let lines = sb.wait_lines(&seen, 3);
    let pid = pids_of(&sb.wait_lines(&sb.path("pid"), 1))[0];
    let _guard = KillOnDrop::new(&[pid]);
    assert_eq!(lines.lines().collect::<Vec<_>>(), ["[]", "[exit:3]", "[signal:KILL]"]);
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

fn text_of(sb: &Sandbox) -> String {
    text(&sb.app("same").dir)
}

#[test]
fn tend_env_prints_exactly_what_a_spawned_program_sees() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    let dump = sb.path("env");
    let secrets = sb.write(".env", "API_KEY=s3cr3t-value\nSHARED=from-dotenv\n");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    sb.write(
        "tend.toml",
        &format!(
            "name = \"same\"\n[programs.p]\ncommand = [{}, \"env-dump\", {}]\nenv = {{ SHARED = \"from-config\", PORT = \"8080\" }}\n",
            toml_str(&testbin_str()),
            toml_str(&text(&dump))
        ),
    );
    let shown = sb.run(&["env", "p", "--json", "--show-secrets"]);
    shown.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let listed: BTreeMap<String, String> = json["programs"]["p"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["key"].as_str().unwrap().to_owned(), v["value"].as_str().unwrap().to_owned()))
        .filter(|(key, _)| key != "TEND_RUN_ID")
        .collect();

    let tend = sb.spawn(&["up"]);
    let text = sb.wait_text(&dump, "TEND_STATE_DIR=");
    let _guard = KillOnDrop::new(&processes_with_env("TEND_STATE_DIR", &text_of(&sb)));
    let seen: BTreeMap<String, String> = env_of(&text)
        .into_iter()
        .filter(|(key, _)| *key != "TEND_RUN_ID")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(listed, seen, "tend env (left) and the program's environment (right) differ");
    assert_eq!(seen.get("API_KEY").map(String::as_str), Some("s3cr3t-value"));
    assert_eq!(seen.get("SHARED").map(String::as_str), Some("from-config"));
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
