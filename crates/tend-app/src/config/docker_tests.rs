//! Tests of the `[docker]` table: every error with its exact message, a full example, the
//! defaults, and the mounts' checks on disk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::docker::DockerBuild;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("tend.toml"))
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(config) => panic!("expected an error for {text:?}, got {config:#?}"),
        Err(error) => error.to_string(),
    }
}

/// A program `web`, then `docker` (the lines of a `[docker]` table and what follows it).
fn with_docker(docker: &str) -> String {
    format!("[programs.web]\ncommand = \"x\"\nrunner = \"docker\"\n\n[docker]\n{docker}\n")
}

const DOCKER_KEYS: &str = "image, build, mounts, network, init, user, env, fallback, extras";
const ONE_IMAGE: &str = r#"expected image = "name:tag" to run an image as it is, or build = { base = "..." } to build one"#;
const KNOWN_EXTRAS: &str = "build-tools, ffmpeg, git, node, python, pytorch-cpu, tesseract";

#[test]
fn error_messages() {
    let cases: Vec<(&str, String, String)> = vec![
        (
            "not a table",
            "docker = \"yes\"\n[programs.web]\ncommand = \"x\"\n".into(),
            "tend.toml:1:10: docker: wrong type: found a string; expected a table, like [docker] \
             with image = \"debian:bookworm-slim\""
                .into(),
        ),
        (
            "unknown key",
            with_docker("image = \"a:1\"\nmount = []"),
            format!(
                "tend.toml:7:1: unknown key `mount` in [docker]; expected one of: {DOCKER_KEYS}"
            ),
        ),
        (
            "unknown key in build",
            with_docker("build = { base = \"a:1\", extra = [] }"),
            "tend.toml:6:25: unknown key `extra` in [docker.build]; expected one of: base, \
             extras, steps"
                .into(),
        ),
        (
            "unknown key in a mount",
            with_docker("image = \"a:1\"\nmounts = [{ source = \"/srv\", readonly = true }]"),
            "tend.toml:7:30: unknown key `readonly` in [docker.mounts[0]]; expected one of: \
             source, target, ro"
                .into(),
        ),
        (
            "unknown key in an extra",
            with_docker("image = \"a:1\"\n[docker.extras.ocr]\napt_packages = [\"x\"]"),
            "tend.toml:8:1: unknown key `apt_packages` in [docker.extras.ocr]; expected one of: \
             apt, pip, pip_index, needs"
                .into(),
        ),
        (
            "image and build",
            with_docker("image = \"a:1\"\nbuild = { base = \"b:1\" }"),
            format!("tend.toml:7:1: docker.build: both `image` and `build` are given; {ONE_IMAGE}"),
        ),
        (
            "build and image",
            with_docker("build.base = \"b:1\"\nimage = \"a:1\""),
            format!("tend.toml:7:1: docker.image: both `image` and `build` are given; {ONE_IMAGE}"),
        ),
        (
            "neither image nor build",
            with_docker("network = \"host\""),
            format!("tend.toml:5:2: docker: missing key `image` or `build`; {ONE_IMAGE}"),
        ),
        (
            "empty image",
            with_docker("image = \"\""),
            "tend.toml:6:9: docker.image: empty string; expected an image reference, like \
             image = \"debian:bookworm-slim\""
                .into(),
        ),
        (
            "image with a space",
            with_docker("image = \"debian bookworm\""),
            "tend.toml:6:9: docker.image: invalid image \"debian bookworm\"; expected an image \
             reference, like image = \"debian:bookworm-slim\""
                .into(),
        ),
        (
            "build without base",
            with_docker("build = { extras = [\"git\"] }"),
            "tend.toml:6:1: docker.build: missing key `base`; expected the image to build from, \
             like base = \"debian:bookworm-slim\""
                .into(),
        ),
        (
            "unknown extra in build",
            with_docker("build = { base = \"b:1\", extras = [\"git\", \"pyton\"] }"),
            format!(
                "tend.toml:6:42: docker.build.extras[1]: unknown extra \"pyton\"; expected one \
                 of: {KNOWN_EXTRAS}, or a [docker.extras.pyton] table"
            ),
        ),
        (
            "unknown extra in needs",
            with_docker(
                "image = \"a:1\"\n[docker.extras.ocr]\nneeds = [\"python\", \"tesseract-ocr\"]",
            ),
            "tend.toml:8:20: docker.extras.ocr.needs[1]: unknown extra \"tesseract-ocr\"; \
             expected one of: build-tools, ffmpeg, git, node, ocr, python, pytorch-cpu, \
             tesseract, or a [docker.extras.tesseract-ocr] table"
                .into(),
        ),
        (
            "extras cycle",
            with_docker(
                "image = \"a:1\"\n[docker.extras.a]\nneeds = [\"git\", \"b\"]\n\
                 [docker.extras.b]\nneeds = [\"a\"]",
            ),
            "tend.toml:8:17: docker.extras.a.needs[1]: extras need each other in a cycle: \
             a → b → a; expected needs without a cycle: remove one of them"
                .into(),
        ),
        (
            "extras cycle through a built-in",
            with_docker("image = \"a:1\"\n[docker.extras.python]\nneeds = [\"pytorch-cpu\"]"),
            "tend.toml:8:10: docker.extras.python.needs[0]: extras need each other in a cycle: \
             python → pytorch-cpu → python; expected needs without a cycle: remove one of them"
                .into(),
        ),
        (
            "an extra needing itself",
            with_docker("image = \"a:1\"\nextras.me.needs = [\"me\"]"),
            "tend.toml:7:20: docker.extras.me.needs[0]: extras need each other in a cycle: \
             me → me; expected needs without a cycle: remove one of them"
                .into(),
        ),
        (
            "invalid extra name",
            with_docker("image = \"a:1\"\n[docker.extras.\"my extra\"]"),
            "tend.toml:7:16: docker.extras.\"my extra\": invalid extra name \"my extra\"; \
             expected letters, digits, '.', '_' or '-', starting with a letter or digit"
                .into(),
        ),
        (
            "invalid apt package",
            with_docker("image = \"a:1\"\nextras.x.apt = [\"ffmpeg; rm -rf /\"]"),
            "tend.toml:7:17: docker.extras.x.apt[0]: invalid apt package name \"ffmpeg; rm -rf \
             /\"; expected an array of apt package names, like apt = [\"ffmpeg\"]"
                .into(),
        ),
        (
            "pip option as a package",
            with_docker("image = \"a:1\"\nextras.x.pip = [\"--index-url\", \"https://x\"]"),
            "tend.toml:7:17: docker.extras.x.pip[0]: invalid pip requirement \"--index-url\"; \
             expected an array of pip requirements, like pip = [\"numpy>=1.26\"]; for another \
             index, pip_index = \"https://...\""
                .into(),
        ),
        (
            "pip index not a URL",
            with_docker("image = \"a:1\"\nextras.x.pip_index = \"download.pytorch.org\""),
            "tend.toml:7:22: docker.extras.x.pip_index: invalid index URL \
             \"download.pytorch.org\"; expected the URL of a package index, like \
             \"https://download.pytorch.org/whl/cpu\""
                .into(),
        ),
        (
            "a FROM step",
            with_docker("build = { base = \"b:1\", steps = [\"FROM alpine\"] }"),
            "tend.toml:6:34: docker.build.steps[0]: a FROM step would start another image; \
             expected the image to build from in build.base"
                .into(),
        ),
        (
            "an unknown step",
            with_docker("build = { base = \"b:1\", steps = [\"RUN true\", \"RUM true\"] }"),
            "tend.toml:6:46: docker.build.steps[1]: unknown Dockerfile instruction `RUM`; \
             expected a step starting with one of: RUN, ENV, ARG, WORKDIR, USER, COPY, ADD, \
             LABEL, EXPOSE, SHELL, VOLUME, ENTRYPOINT, CMD, HEALTHCHECK, STOPSIGNAL, ONBUILD"
                .into(),
        ),
        (
            "mounts not an array",
            with_docker("image = \"a:1\"\nmounts = \"/srv\""),
            "tend.toml:7:10: docker.mounts: wrong type: found a string; expected an array of \
             absolute paths or tables, like mounts = [\"/srv/data\", { source = \
             \"/var/cache/app\", target = \"/cache\", ro = true }]"
                .into(),
        ),
        (
            "relative mount source",
            with_docker("image = \"a:1\"\nmounts = [\"data\"]"),
            "tend.toml:7:11: docker.mounts[0]: relative mount source \"data\"; expected an \
             absolute path on this machine; the app's folder is mounted at /app already, so its \
             data is /app/data inside"
                .into(),
        ),
        (
            "relative mount source upwards, in a table",
            with_docker("image = \"a:1\"\nmounts = [{ source = \"../shared\" }]"),
            "tend.toml:7:22: docker.mounts[0].source: relative mount source \"../shared\"; \
             expected an absolute path on this machine (the app's folder is mounted at /app \
             already)"
                .into(),
        ),
        (
            "mount without source",
            with_docker("image = \"a:1\"\nmounts = [{ target = \"/x\" }]"),
            "tend.toml:7:11: docker.mounts[0]: missing key `source`; expected the host path to \
             mount, like { source = \"/srv/data\", target = \"/data\" }"
                .into(),
        ),
        (
            "relative mount target",
            with_docker("image = \"a:1\"\nmounts = [{ source = \"/srv\", target = \"data\" }]"),
            "tend.toml:7:39: docker.mounts[0].target: invalid mount target \"data\"; expected \
             an absolute path in the container, like \"/cache\""
                .into(),
        ),
        (
            "mount target with ..",
            with_docker(
                "image = \"a:1\"\nmounts = [{ source = \"/srv\", target = \"/x/../etc\" }]",
            ),
            "tend.toml:7:39: docker.mounts[0].target: invalid mount target \"/x/../etc\"; \
             expected an absolute path in the container, like \"/cache\""
                .into(),
        ),
        (
            "mount target /",
            with_docker("image = \"a:1\"\nmounts = [{ source = \"/srv\", target = \"/\" }]"),
            "tend.toml:7:39: docker.mounts[0].target: invalid mount target \"/\"; expected an \
             absolute path in the container, like \"/cache\""
                .into(),
        ),
        (
            "mount targets that clash",
            with_docker(
                "image = \"a:1\"\nmounts = [\n  \"/srv/data\",\n  { source = \"/opt/x\", target = \"/mnt/data/\" },\n]",
            ),
            "tend.toml:9:33: docker.mounts[1].target: mount target /mnt/data is also the target \
             of docker.mounts[0]; expected a target of its own"
                .into(),
        ),
        (
            "default mount targets that clash",
            with_docker("image = \"a:1\"\nmounts = [\"/srv/data\", \"/home/me/data\"]"),
            "tend.toml:7:24: docker.mounts[1]: mount target /mnt/data (from the source's name) \
             is also the target of docker.mounts[0]; expected a target of its own: a table, like \
             { source = \"...\", target = \"/mnt/other\" }"
                .into(),
        ),
        (
            "mount target of the app folder",
            with_docker("image = \"a:1\"\nmounts = [{ source = \"/srv\", target = \"/app\" }]"),
            "tend.toml:7:39: docker.mounts[0].target: mount target /app is where tend mounts \
             the app's folder; expected a target of its own"
                .into(),
        ),
        (
            "mount target of the state folder",
            with_docker(
                "image = \"a:1\"\nmounts = [{ source = \"/srv\", target = \"//tend/state/\" }]",
            ),
            "tend.toml:7:39: docker.mounts[0].target: mount target /tend/state is where tend \
             mounts the app's state folder; expected a target of its own"
                .into(),
        ),
        (
            "mount of /",
            with_docker("image = \"a:1\"\nmounts = [\"/\"]"),
            "tend.toml:7:11: docker.mounts[0]: / has no name to mount it under /mnt; expected a \
             table with a target, like { source = \"/\", target = \"/host\" }"
                .into(),
        ),
        (
            "ro not a boolean",
            with_docker("image = \"a:1\"\nmounts = [{ source = \"/srv\", ro = \"yes\" }]"),
            "tend.toml:7:35: docker.mounts[0].ro: wrong type: found a string; expected true or \
             false"
                .into(),
        ),
        (
            "invalid network",
            with_docker("image = \"a:1\"\nnetwork = \"my net\""),
            "tend.toml:7:11: docker.network: invalid network \"my net\"; expected a Docker \
             network: \"host\" (the default), \"bridge\", \"none\" or a network's name"
                .into(),
        ),
        (
            "init not a boolean",
            with_docker("image = \"a:1\"\ninit = \"tini\""),
            "tend.toml:7:8: docker.init: wrong type: found a string; expected true (an init as \
             PID 1, the default) or false"
                .into(),
        ),
        (
            "invalid user",
            with_docker("image = \"a:1\"\nuser = \"1000:1000:1\""),
            "tend.toml:7:8: docker.user: invalid user \"1000:1000:1\"; expected \"host\" (the \
             host's uid:gid on Linux, the default), \"image\" (the image's user), or a user: \
             \"name\", \"uid\" or \"uid:gid\""
                .into(),
        ),
        (
            "unknown fallback",
            with_docker("image = \"a:1\"\nfallback = \"host\""),
            "tend.toml:7:12: docker.fallback: unknown fallback \"host\"; expected one of: none, \
             native"
                .into(),
        ),
        (
            "env value",
            with_docker("image = \"a:1\"\nenv = { A = [1] }"),
            "tend.toml:7:13: docker.env.A: wrong type: found an array; expected a string, like \
             PORT = \"8000\""
                .into(),
        ),
    ];
    let mut failures = Vec::new();
    for (what, text, expected) in &cases {
        let got = error(text);
        if got != *expected {
            failures.push(format!("{what}:\n  expected: {expected}\n  got:      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn full_example() {
    let text = r#"
[programs.web]
command = "python3 app.py"
runner = "docker"

[docker]
build = { base = "debian:bookworm-slim", extras = ["ocr", "git"], steps = ["RUN useradd bot"] }
mounts = ["/srv/models", { source = "/var/cache/bot/", target = "/cache", ro = true }]
network = "bridge"
init = false
user = "1000:100"
env = { LANG = "C.UTF-8", WORKERS = 2 }
fallback = "native"

[docker.extras.ocr]
apt = ["tesseract-ocr"]
pip = ["torch", "pytesseract>=0.3"]
pip_index = "https://download.pytorch.org/whl/cpu"
needs = ["python"]
"#;
    let config = parse(text).unwrap();
    let docker = config.docker.as_ref().unwrap();
    assert_eq!(
        docker.image,
        DockerImage::Build(DockerBuild {
            base: "debian:bookworm-slim".into(),
            extras: vec!["ocr".into(), "git".into()],
            steps: vec!["RUN useradd bot".into()],
        })
    );
    assert_eq!(
        docker.mounts,
        [
            Mount { source: "/srv/models".into(), target: "/mnt/models".into(), read_only: false },
            Mount { source: "/var/cache/bot".into(), target: "/cache".into(), read_only: true },
        ]
    );
    assert_eq!(docker.network, "bridge");
    assert!(!docker.init);
    assert_eq!(docker.user, DockerUser::Named("1000:100".into()));
    let env: BTreeMap<String, String> =
        [("LANG", "C.UTF-8"), ("WORKERS", "2")].map(|(k, v)| (k.into(), v.into())).into();
    assert_eq!(docker.env, env);
    assert_eq!(docker.fallback, Fallback::Native);
    let ocr = docker.extras.get("ocr").unwrap();
    assert_eq!(ocr.apt, ["tesseract-ocr"]);
    assert_eq!(ocr.pip, ["torch", "pytesseract>=0.3"]);
    assert_eq!(ocr.pip_index.as_deref(), Some("https://download.pytorch.org/whl/cpu"));
    assert_eq!(ocr.needs, ["python"]);
    assert!(docker.extras.is_own("ocr") && docker.extras.get("git").is_some());
    assert_eq!(config.docker_for(&config.programs[0]).unwrap(), Some(docker.as_ref()));

    let all = docker.all_mounts(Path::new("/srv/bot"), Path::new("/home/me/.tend/apps/bot"));
    let targets: Vec<(&str, &str, bool)> =
        all.iter().map(|m| (m.source.to_str().unwrap(), m.target.as_str(), m.read_only)).collect();
    assert_eq!(
        targets,
        [
            ("/srv/bot", "/app", false),
            ("/home/me/.tend/apps/bot", "/tend/state", false),
            ("/srv/models", "/mnt/models", false),
            ("/var/cache/bot", "/cache", true),
        ]
    );
}

#[test]
fn defaults() {
    let config = parse(&with_docker("image = \"busybox:1.36\"")).unwrap();
    let docker = *config.docker.unwrap();
    let mut expected = DockerConfig::new(DockerImage::Named("busybox:1.36".into()));
    assert_eq!(docker, expected);
    // Spelled out, so that a changed default is a visible decision.
    expected.network = "host".into();
    expected.init = true;
    expected.user = DockerUser::Host;
    expected.fallback = Fallback::None;
    assert_eq!(docker, expected);
    assert!(docker.mounts.is_empty() && docker.env.is_empty());
    assert_eq!(docker.extras, crate::docker::Registry::builtin());

    for (user, expected) in [
        ("host", DockerUser::Host),
        ("image", DockerUser::Image),
        ("bot", DockerUser::Named("bot".into())),
        ("0", DockerUser::Named("0".into())),
        ("bot:staff", DockerUser::Named("bot:staff".into())),
    ] {
        let config = parse(&with_docker(&format!("image = \"a\"\nuser = \"{user}\""))).unwrap();
        assert_eq!(config.docker.unwrap().user, expected, "{user}");
    }
    // The mount target is named after the source, sanitised.
    let config = parse(&with_docker("image = \"a\"\nmounts = [\"/srv/My Models\"]")).unwrap();
    assert_eq!(config.docker.unwrap().mounts[0].target, "/mnt/My-Models");
}

#[test]
fn a_docker_program_needs_the_table_when_it_runs_or_is_shown() {
    // Loading does not check it: while the Docker runner is not there, `tend up` says that.
    let config = parse("[programs.web]\ncommand = \"x\"\nrunner = \"docker\"\n").unwrap();
    assert_eq!(config.docker, None);
    let error = config.docker_for(&config.programs[0]).unwrap_err();
    assert!(matches!(&error, ConfigError::NoDockerTable { program } if program == "web"));
    assert_eq!(
        error.to_string(),
        "program `web` has runner = \"docker\", but there is no [docker] table; add one, like \
         [docker] with image = \"debian:bookworm-slim\" (or build = { base = \"…\" }), or use \
         runner = \"native\""
    );
    // A native program has no [docker] table to run with, whether or not there is one.
    let config = parse("[programs.web]\ncommand = \"x\"\n[docker]\nimage = \"a\"\n").unwrap();
    assert_eq!(config.docker_for(&config.programs[0]).unwrap(), None);
}

#[test]
fn mount_sources_must_exist_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.toml");
    let data = dir.path().join("data");
    let missing = dir.path().join("missing");
    std::fs::create_dir(&data).unwrap();
    let toml_path = |p: &Path| format!("{:?}", p.to_str().unwrap());
    let text = format!(
        "[programs.web]\ncommand = \"x\"\n[docker]\nimage = \"a\"\nmounts = [{}, {{ source = {} }}]\n",
        toml_path(&data),
        toml_path(&missing)
    );
    std::fs::write(&path, &text).unwrap();
    // Parsing alone does not look.
    assert_eq!(Config::parse(&text, &path).unwrap().docker.unwrap().mounts.len(), 2);
    let error = Config::load(&path).unwrap_err().to_string();
    let column = text.lines().nth(4).unwrap().find("source = ").unwrap() + 10;
    assert_eq!(
        error,
        format!(
            "{}:5:{column}: docker.mounts[1].source: {} does not exist; expected an existing \
             folder or file to mount: create it, or fix the path",
            path.display(),
            missing.display()
        )
    );
    std::fs::write(&missing, "a file is fine too").unwrap();
    let config = Config::load(&path).unwrap();
    let mounts = config.docker.unwrap().mounts;
    assert_eq!(
        (mounts[0].source.as_path(), mounts[0].target.as_str()),
        (data.as_path(), "/mnt/data")
    );
    assert_eq!(mounts[1].target, "/mnt/missing");
}
