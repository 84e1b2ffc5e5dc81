//! The `[docker]` table from the command line: its errors stop `tend up` with one message
//! naming the file, line, column and key; `tend docker dockerfile` prints the Dockerfile of a
//! `build`; `tend env` shows what a docker program gets. No daemon is needed.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;

use common::*;

/// A docker program `web`, then the `[docker]` table's lines.
fn app(docker: &str) -> String {
    format!(
        "name = \"demo\"\n\n[programs.web]\ncommand = \"sleep 1\"\nrunner = \"docker\"\n\n[docker]\n{docker}\n"
    )
}

/// Runs `tend up` on `config` and checks exit 1 and that stderr is the one line `expected`.
#[track_caller]
fn rejects(sb: &Sandbox, config: &str, expected: &str) {
    sb.write("tend.toml", config);
    let done = sb.run(&["up"]);
    done.assert_code(1);
    assert_eq!(done.stderr, format!("tend: error: {expected}\n"));
    assert!(done.stdout.is_empty(), "{}", done.stdout);
    assert!(!sb.home.exists(), "a bad config must not create any state");
}

#[test]
fn unknown_key() {
    rejects(
        &Sandbox::new(),
        &app("image = \"busybox:1\"\nvolumes = []"),
        "tend.toml:9:1: unknown key `volumes` in [docker]; expected one of: image, build, mounts, \
         network, init, user, env, fallback, extras",
    );
}

#[test]
fn image_and_build() {
    rejects(
        &Sandbox::new(),
        &app("image = \"busybox:1\"\nbuild = { base = \"debian:bookworm-slim\" }"),
        "tend.toml:9:1: docker.build: both `image` and `build` are given; expected image = \
         \"name:tag\" to run an image as it is, or build = { base = \"...\" } to build one",
    );
}

#[test]
fn relative_mount_source() {
    rejects(
        &Sandbox::new(),
        &app("image = \"busybox:1\"\nmounts = [\"data\"]"),
        "tend.toml:9:11: docker.mounts[0]: relative mount source \"data\"; expected an absolute \
         path on this machine; the app's folder is mounted at /app already, so its data is \
         /app/data inside",
    );
}

#[test]
fn missing_mount_source() {
    let sb = Sandbox::new();
    let missing = sb.path("models");
    rejects(
        &sb,
        &app(&format!("image = \"busybox:1\"\nmounts = [{}]", toml_str(&text(&missing)))),
        &format!(
            "tend.toml:9:11: docker.mounts[0]: {} does not exist; expected an existing folder or \
             file to mount: create it, or fix the path",
            missing.display()
        ),
    );
}

#[test]
fn mount_targets_that_clash() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("a/cache")).unwrap();
    std::fs::create_dir_all(sb.path("b/cache")).unwrap();
    let (a, b) = (toml_str(&sb.path_str("a/cache")), toml_str(&sb.path_str("b/cache")));
    rejects(
        &sb,
        &app(&format!("image = \"busybox:1\"\nmounts = [{a}, {b}]")),
        &format!(
            "tend.toml:9:{}: docker.mounts[1]: mount target /mnt/cache (from the source's name) \
             is also the target of docker.mounts[0]; expected a target of its own: a table, like \
             {{ source = \"...\", target = \"/mnt/other\" }}",
            "mounts = [".len() + a.chars().count() + 3
        ),
    );
    rejects(
        &sb,
        &app(&format!(
            "image = \"busybox:1\"\nmounts = [{{ source = {a}, target = \"/tend/state\" }}]"
        )),
        &format!(
            "tend.toml:9:{}: docker.mounts[0].target: mount target /tend/state is where tend \
             mounts the app's state folder; expected a target of its own",
            "mounts = [{ source = ".len() + a.chars().count() + ", target = ".len() + 1
        ),
    );
}

#[test]
fn unknown_extra() {
    rejects(
        &Sandbox::new(),
        &app("build = { base = \"debian:bookworm-slim\", extras = [\"ffmpeg\", \"nodejs\"] }"),
        "tend.toml:8:62: docker.build.extras[1]: unknown extra \"nodejs\"; expected one of: \
         build-tools, ffmpeg, git, node, python, pytorch-cpu, tesseract, or a \
         [docker.extras.nodejs] table",
    );
}

#[test]
fn extras_cycle() {
    rejects(
        &Sandbox::new(),
        &app("build = { base = \"debian:bookworm-slim\", extras = [\"ml\"] }\n\n\
             [docker.extras.ml]\npip = [\"scikit-learn\"]\nneeds = [\"python\", \"data\"]\n\n\
             [docker.extras.data]\nneeds = [\"ml\"]"),
        "tend.toml:12:20: docker.extras.ml.needs[1]: extras need each other in a cycle: ml → \
         data → ml; expected needs without a cycle: remove one of them",
    );
}

#[test]
fn a_docker_program_whose_image_is_missing_is_fatal_and_says_what_to_do() {
    let sb = Sandbox::new();
    sb.write("tend.toml", &app("image = \"tend-test-no-such-image:1\""));
    let done = sb.run(&["up"]);
    done.assert_code(1);
    // With a daemon: the image is named; without one: the daemon is.
    let said = done.stderr.contains(
        "image `tend-test-no-such-image:1` is not on this machine; build it (a `build` table, \
         or `docker build -t tend-test-no-such-image:1 …`) or pull it",
    ) || done.stderr.contains("no Docker daemon answers at ");
    assert!(said, "{}", done.stderr);
    assert!(done.stderr.contains("web: fatal: it cannot be started"), "{}", done.stderr);
}

const BUILD: &str = r#"build = { base = "debian:bookworm-slim", extras = ["ocr", "git"], steps = ["RUN useradd --create-home bot"] }

[docker.extras.ocr]
apt = ["tesseract-ocr"]
pip = ["pytesseract", "opencv-python-headless>=4.9"]
needs = ["pytorch-cpu"]"#;

#[test]
fn docker_dockerfile_prints_the_dockerfile_of_the_build() {
    let sb = Sandbox::new();
    sb.write("tend.toml", &app(BUILD));
    let done = sb.run(&["docker", "dockerfile"]);
    done.assert_code(0);
    assert!(done.stderr.is_empty(), "{}", done.stderr);
    let config = tend_app::config::Config::load(&sb.path("tend.toml")).unwrap();
    let docker = config.docker.unwrap();
    let tend_app::config::DockerImage::Build(build) = &docker.image else { panic!() };
    assert_eq!(done.stdout, tend_app::docker::dockerfile(build, &docker.extras).unwrap());
    let lines: Vec<&str> = done.stdout.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "# Generated by tend from the [docker] build table of tend.toml (`tend docker \
             dockerfile` prints it).",
            "# Extras, in install order: python, pytorch-cpu, ocr, git",
            "FROM debian:bookworm-slim",
            "USER 0",
        ]
    );
    let at = |needle: &str| line_index(&done.stdout, needle);
    assert!(
        at("--index-url https://download.pytorch.org/whl/cpu")
            < at("'opencv-python-headless>=4.9'")
    );
    assert_eq!(lines.last(), Some(&"RUN useradd --create-home bot"));

    // -f names another app; the output is the same for the same table.
    std::fs::create_dir_all(sb.path("other")).unwrap();
    sb.write("other/app.toml", &app(BUILD));
    let again = sb.run(&["docker", "dockerfile", "-f", "other/app.toml"]);
    again.assert_code(0);
    assert_eq!(again.stdout, done.stdout);
    assert!(!sb.home.exists(), "printing a Dockerfile writes no state");
}

#[test]
fn docker_dockerfile_needs_a_build() {
    let sb = Sandbox::new();
    sb.write("tend.toml", &app("image = \"busybox:1\""));
    let done = sb.run(&["docker", "dockerfile"]);
    done.assert_code(1);
    assert_eq!(
        done.stderr,
        "tend: error: tend.toml: [docker] runs the image \"busybox:1\" as it is, so there is no \
         Dockerfile; use build = { base = \"busybox:1\" } instead of image for tend to build one\n"
    );
    sb.write("tend.toml", "[programs.web]\ncommand = \"sleep 1\"\n");
    let done = sb.run(&["docker", "dockerfile"]);
    done.assert_code(1);
    assert_eq!(
        done.stderr,
        "tend: error: tend.toml has no [docker] table; add one with build = { base = \
         \"debian:bookworm-slim\" } for tend to build an image\n"
    );
    // A bad table is the same error as for `tend up`.
    sb.write("tend.toml", &app("image = \"busybox:1\"\nbuild.base = \"x\""));
    let done = sb.run(&["docker", "dockerfile"]);
    done.assert_code(1);
    assert!(
        done.stderr.starts_with("tend: error: tend.toml:9:1: docker.build: both"),
        "{}",
        done.stderr
    );
}

#[test]
fn docker_help_names_the_subcommand() {
    let done = Sandbox::new().run(&["docker", "--help"]);
    done.assert_code(0);
    assert!(done.stdout.contains("dockerfile"), "{}", done.stdout);
    assert!(done.stdout.contains("/app") && done.stdout.contains("/tend/state"), "{}", done.stdout);
}

#[test]
fn tend_env_shows_what_a_docker_program_gets() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    let secrets = sb.write(".env", "API_KEY=s3cr3t-value\nSHARED=from-dotenv\nLAYER=dotenv\n");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    sb.write(
        "tend.toml",
        "name = \"boxed\"\n\n[programs.web]\ncommand = \"sleep 1\"\nrunner = \"docker\"\n\
         env = { LAYER = \"program\", PORT = \"8080\" }\n\n\
         [programs.native]\ncommand = \"sleep 1\"\n\n\
         [docker]\nimage = \"busybox:1\"\nenv = { LAYER = \"docker\", LANG = \"C.UTF-8\", TEND_APP = \"no\" }\n",
    );
    let shown = sb.spawn_env(&["env", "web", "--json"], &[("TEND_TEST_HOST_ONLY", "1")]).wait();
    shown.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let vars: BTreeMap<String, (String, String)> = json["programs"]["web"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let key = v["key"].as_str().unwrap().to_owned();
            let source = v["source"]["kind"].as_str().unwrap().to_owned();
            (key, (v["value"].as_str().unwrap().to_owned(), source))
        })
        .collect();
    let get = |key: &str| vars.get(key).map(|(v, s)| (v.as_str(), s.as_str()));
    assert_eq!(get("LAYER"), Some(("program", "config")), "the program's env wins");
    assert_eq!(get("LANG"), Some(("C.UTF-8", "docker")), "then the [docker] env");
    assert_eq!(get("SHARED"), Some(("***", "file")), "dotenv values are secrets, masked");
    assert_eq!(get("API_KEY"), Some(("***", "file")));
    assert_eq!(get("TEND_APP"), Some(("boxed", "tend")), "tend's variables win");
    assert_eq!(get("TEND_STATE_DIR"), Some(("/tend/state", "tend")), "as the container sees it");
    assert_eq!(get("TEND_TEST_HOST_ONLY"), None, "tend's own environment is not passed in");
    assert!(vars.values().all(|(_, source)| source != "environment"), "{vars:?}");

    // The text form says where the rest comes from; a native program is as it was.
    let text = sb.run(&["env"]);
    text.assert_code(0);
    assert!(
        text.stdout.starts_with(
            "# web\n# runs in Docker: over the image's own variables (not shown); tend's own \
             environment is not passed in\n"
        ),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("LANG=C.UTF-8"), "{}", text.stdout);
    let native = text.stdout.split("# native\n").nth(1).unwrap();
    assert!(!native.contains("runs in Docker"), "{native}");
    let state = sb.app("boxed").dir;
    assert!(native.contains(&format!("TEND_STATE_DIR={}", state.display())), "{native}");
}

#[test]
fn tend_env_of_a_docker_program_without_the_table_names_it() {
    let sb = Sandbox::new();
    sb.write("tend.toml", "[programs.web]\ncommand = \"sleep 1\"\nrunner = \"docker\"\n");
    let done = sb.run(&["env", "web"]);
    done.assert_code(1);
    assert_eq!(
        done.stderr,
        "tend: error: tend.toml: program `web` has runner = \"docker\", but there is no [docker] \
         table; add one, like [docker] with image = \"debian:bookworm-slim\" (or build = { base \
         = \"…\" }), or use runner = \"native\"\n"
    );
}

#[test]
fn with_fallback_native_a_docker_program_runs_natively_when_docker_is_unreachable() {
    let sb = Sandbox::new();
    let ready = sb.path_str("ready");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[docker]\nimage = \"tend-test-any:1\"\nfallback = \"native\"\n\n\
             [programs.web]\nrunner = \"docker\"\ncommand = [\"sh\", \"-c\", {}]\n",
            toml_str(&format!("pwd > {}; exec sleep 60", sh_quote(&ready)))
        ),
    );
    let dead = sb.path_str("dead.sock");
    let tend = sb.spawn_env(&["up"], &[("DOCKER_HOST", &format!("unix://{dead}"))]);
    // It ran natively: in the app's folder on the host, not /app.
    assert_eq!(sb.wait_file(&sb.path("ready")).trim(), sb.cwd.to_str().unwrap());
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let web = &json["programs"][0];
    assert_eq!(web["runner"], "native", "{json}");
    let why = web["fallback"].as_str().unwrap_or_default();
    assert!(why.starts_with(&format!("no Docker daemon answers at unix://{dead}")), "{json}");
    let table = sb.run(&["status"]);
    assert!(
        table.stdout.contains("web: runs natively: no Docker daemon answers at "),
        "{}",
        table.stdout
    );
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    let log = sb.app("demo").read_tend_log();
    assert!(
        log.contains("web: Docker cannot run it (no Docker daemon answers at ")
            && log.contains("running it natively instead (fallback = \"native\")"),
        "{log}"
    );
}
