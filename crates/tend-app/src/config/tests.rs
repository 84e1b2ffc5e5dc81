//! Tests of `tend.toml` parsing: every error kind with its exact message, a full example,
//! defaults, and the value parsers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::values::{parse_duration, parse_size};
use super::*;
use tend_runner::Signal;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("tend.toml"))
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(config) => panic!("expected an error for {text:?}, got {config:#?}"),
        Err(error) => error.to_string(),
    }
}

/// A program `web` with `command = "x"` and `extra` lines after it.
fn web(extra: &str) -> String {
    format!("[programs.web]\ncommand = \"x\"\n{extra}\n")
}

const NAME_RULE: &str =
    "expected letters, digits, '.', '_' or '-', starting with a letter or digit";
const COMMAND_RULE: &str =
    r#"expected a string like "python3 app.py" or an array like ["python3", "app.py"]"#;
const PROGRAM_KEYS: &str = "command, dir, env, env_files, runner, restart, restart_exit_code, \
                            backoff, max_restarts, stop, watch, log";
const SIGNAL_RULE: &str = "expected one of: HUP, INT, QUIT, KILL, USR1, USR2, TERM, ALRM, WINCH, \
                           CONT, STOP; by name (TERM, SIGTERM) or number";
const SIZE_RULE: &str =
    "expected a number of bytes, or a number and a unit, like 500KB, 10MiB or 1GB";
const DURATION_RULE: &str = "expected a number and a unit, like 500ms, 10s or 2m";

#[test]
fn error_messages() {
    let no_programs = r#"no programs defined; expected at least one [programs.NAME] table, like [programs.web] with command = "...""#;
    let cases: Vec<(&str, String, String)> = vec![
        // ----- TOML syntax
        (
            "invalid TOML: unterminated string",
            "[programs.web]\ncommand = \"x".into(),
            "tend.toml:2:13: invalid TOML: invalid basic string; expected `\"`".into(),
        ),
        (
            "invalid TOML: duplicate key",
            web("command = \"y\""),
            "tend.toml:3:1: invalid TOML: duplicate key `command`; expected each key once per table"
                .into(),
        ),
        (
            "invalid TOML: duplicate table",
            web("[programs.web]"),
            "tend.toml:3:11: invalid TOML: duplicate key `web`; expected each key once per table"
                .into(),
        ),
        // ----- structure
        ("no programs: empty file", "".into(), format!("tend.toml:1:1: {no_programs}")),
        ("no programs: only a name", "name = \"demo\"\n".into(), format!("tend.toml:1:1: {no_programs}")),
        (
            "no programs: empty table",
            "name = \"demo\"\n[programs]\n".into(),
            format!("tend.toml:2:2: programs: {no_programs}"),
        ),
        (
            "programs: array of tables",
            "[[programs]]\ncommand = \"x\"\n".into(),
            "tend.toml:1:1: programs: wrong type: found an array; expected a table of programs, \
             like [programs.web] (not [[programs]])"
                .into(),
        ),
        (
            "program: not a table",
            "[programs]\nweb = \"x\"\n".into(),
            "tend.toml:2:7: programs.web: wrong type: found a string; expected a table, like \
             [programs.web] with command = \"...\""
                .into(),
        ),
        (
            "unknown key: top level",
            "nmae = \"demo\"\n".into(),
            "tend.toml:1:1: unknown key `nmae` at the top level; expected one of: name, inflight, log, programs, docker, nix, update"
                .into(),
        ),
        (
            "unknown key: program",
            "name = \"demo\"\n\n[programs.web]\ncomand = \"x\"\n".into(),
            format!("tend.toml:4:1: unknown key `comand` in [programs.web]; expected one of: {PROGRAM_KEYS}"),
        ),
        (
            "unknown key: nested table header",
            web("[programs.web.backoff]\ninitail = \"1s\""),
            "tend.toml:4:1: unknown key `initail` in [programs.web.backoff]; expected one of: \
             initial, max, factor, reset_after"
                .into(),
        ),
        (
            "unknown key: inline table",
            web("stop = { signal = \"TERM\", timout = \"5s\" }"),
            "tend.toml:3:27: unknown key `timout` in [programs.web.stop]; expected one of: \
             signal, timeout"
                .into(),
        ),
        (
            "unknown key: app log",
            "[log]\nmax_file = 3\n".into(),
            "tend.toml:2:1: unknown key `max_file` in [log]; expected one of: max_size, max_files"
                .into(),
        ),
        // ----- names
        (
            "invalid app name",
            format!("name = \"my app\"\n{}", web("")),
            format!("tend.toml:1:8: name: invalid app name \"my app\"; {NAME_RULE}"),
        ),
        (
            "invalid program name",
            "[programs.\"my app\"]\ncommand = \"x\"\n".into(),
            format!("tend.toml:1:11: programs.\"my app\": invalid program name \"my app\"; {NAME_RULE}"),
        ),
        (
            "program name starting with a dot",
            "[programs.\".hidden\"]\ncommand = \"x\"\n".into(),
            format!(
                "tend.toml:1:11: programs.\".hidden\": invalid program name \".hidden\"; {NAME_RULE}"
            ),
        ),
        // ----- command
        (
            "missing command",
            "[programs.web]\ndir = \"web\"\n".into(),
            "tend.toml:1:11: programs.web: missing key `command`; expected the program to run, \
             like command = \"python3 app.py\""
                .into(),
        ),
        (
            "empty command array",
            "[programs.web]\ncommand = []\n".into(),
            format!("tend.toml:2:11: programs.web.command: empty command; {COMMAND_RULE}"),
        ),
        (
            "empty command string",
            "[programs.web]\ncommand = \"\"\n".into(),
            format!("tend.toml:2:11: programs.web.command: empty command; {COMMAND_RULE}"),
        ),
        (
            "whitespace command string",
            "[programs.web]\ncommand = \"  \\t \"\n".into(),
            format!("tend.toml:2:11: programs.web.command: empty command; {COMMAND_RULE}"),
        ),
        (
            "empty program in command string",
            "[programs.web]\ncommand = \"'' x\"\n".into(),
            "tend.toml:2:11: programs.web.command: empty program name; expected the program to \
             run first, like \"python3\""
                .into(),
        ),
        (
            "empty program in command array",
            "[programs.web]\ncommand = [\" \", \"x\"]\n".into(),
            "tend.toml:2:12: programs.web.command[0]: empty program name; expected the program to \
             run first, like \"python3\""
                .into(),
        ),
        (
            "unterminated quote in command",
            "[programs.web]\ncommand = \"python3 -c 'print(1)\"\n".into(),
            "tend.toml:2:11: programs.web.command: cannot split command \"python3 -c 'print(1)\": \
             unterminated quote or trailing backslash; expected balanced quotes, or an array of \
             arguments"
                .into(),
        ),
        (
            "shell operator in command",
            "[programs.web]\ncommand = \"app > out.txt\"\n".into(),
            "tend.toml:2:11: programs.web.command: `>` is shell syntax, but commands run without \
             a shell; expected plain arguments; for a shell use command = [\"sh\", \"-c\", \"app > \
             out.txt\"]"
                .into(),
        ),
        (
            "command array item not a string",
            "[programs.web]\ncommand = [\"python3\", 8000]\n".into(),
            "tend.toml:2:23: programs.web.command[1]: wrong type: found an integer; expected a string"
                .into(),
        ),
        (
            "command of the wrong type",
            "[programs.web]\ncommand = true\n".into(),
            format!(
                "tend.toml:2:11: programs.web.command: wrong type: found a boolean; {COMMAND_RULE}"
            ),
        ),
        // ----- scalar values
        (
            "unknown runner",
            web("runner = \"podman\""),
            "tend.toml:3:10: programs.web.runner: unknown runner \"podman\"; expected one of: \
             native, docker, nix, auto"
                .into(),
        ),
        (
            "unknown restart policy",
            web("restart = \"on_failure\""),
            "tend.toml:3:11: programs.web.restart: unknown restart policy \"on_failure\"; expected \
             one of: always, on-failure, never"
                .into(),
        ),
        (
            "restart exit code out of range",
            web("restart_exit_code = 256"),
            "tend.toml:3:21: programs.web.restart_exit_code: exit code 256 is out of range; \
             expected an exit code from 1 to 255, like 42, or false to turn it off"
                .into(),
        ),
        (
            "restart exit code true",
            web("restart_exit_code = true"),
            "tend.toml:3:21: programs.web.restart_exit_code: true is not an exit code; expected an \
             exit code from 1 to 255, like 42, or false to turn it off"
                .into(),
        ),
        (
            "dir empty",
            web("dir = \"\""),
            "tend.toml:3:7: programs.web.dir: empty string; expected a folder relative to \
             tend.toml, like \"web\""
                .into(),
        ),
        (
            "dir wrong type",
            web("dir = 1"),
            "tend.toml:3:7: programs.web.dir: wrong type: found an integer; expected a folder \
             relative to tend.toml, like \"web\""
                .into(),
        ),
        (
            "string with a NUL",
            web("dir = \"a\\u0000b\""),
            "tend.toml:3:7: programs.web.dir: the string contains a NUL character; expected a \
             folder relative to tend.toml, like \"web\""
                .into(),
        ),
        (
            "env: invalid variable name",
            web("env = { \"A=B\" = \"1\" }"),
            "tend.toml:3:9: programs.web.env.\"A=B\": invalid variable name \"A=B\"; expected a \
             name without '=', like PORT"
                .into(),
        ),
        (
            "env: value of the wrong type",
            web("env = { PORT = [8000] }"),
            "tend.toml:3:16: programs.web.env.PORT: wrong type: found an array; expected a \
             string, like PORT = \"8000\""
                .into(),
        ),
        (
            "env_files: item of the wrong type",
            web("env_files = [\".env\", 3]"),
            "tend.toml:3:22: programs.web.env_files[1]: wrong type: found an integer; expected an \
             array of files relative to tend.toml, like [\".env\"]"
                .into(),
        ),
        // ----- durations
        (
            "bad duration",
            web("backoff = { initial = \"1x\" }"),
            format!(
                "tend.toml:3:23: programs.web.backoff.initial: invalid duration \"1x\"; {DURATION_RULE}"
            ),
        ),
        (
            "duration without a unit",
            web("stop.timeout = \"10\""),
            format!("tend.toml:3:16: programs.web.stop.timeout: invalid duration \"10\"; {DURATION_RULE}"),
        ),
        (
            "duration as a number",
            web("[programs.web.stop]\ntimeout = 10"),
            "tend.toml:4:11: programs.web.stop.timeout: wrong type: found an integer; expected a \
             duration string, like \"10s\""
                .into(),
        ),
        (
            "duration too long",
            web("watch = { debounce = \"2y\" }"),
            "tend.toml:3:22: programs.web.watch.debounce: duration \"2y\" is too long; expected at \
             most 365 days"
                .into(),
        ),
        (
            "backoff: initial above the default max",
            web("backoff.initial = \"2m\""),
            "tend.toml:3:19: programs.web.backoff.initial: 2m is more than backoff.max (1m, the \
             default); expected at most backoff.max; set backoff.max too"
                .into(),
        ),
        (
            "backoff: max below initial",
            web("backoff = { initial = \"5s\", max = \"2s\" }"),
            "tend.toml:3:35: programs.web.backoff.max: 2s is less than backoff.initial (5s); \
             expected at least backoff.initial"
                .into(),
        ),
        (
            "backoff: factor below 1",
            web("backoff = { factor = 0.5 }"),
            "tend.toml:3:22: programs.web.backoff.factor: 0.5 is less than 1; expected a number of \
             at least 1, like 2.0"
                .into(),
        ),
        (
            "backoff: factor not finite",
            web("backoff = { factor = inf }"),
            "tend.toml:3:22: programs.web.backoff.factor: not a finite number; expected a number \
             of at least 1, like 2.0"
                .into(),
        ),
        (
            "max_restarts: negative count",
            web("max_restarts = { count = -1 }"),
            "tend.toml:3:26: programs.web.max_restarts.count: -1 is out of range; expected a \
             number of restarts, like 10"
                .into(),
        ),
        (
            "max_restarts: zero window",
            web("max_restarts = { within = \"0s\" }"),
            "tend.toml:3:27: programs.web.max_restarts.within: zero duration; expected a time \
             window, like \"1m\""
                .into(),
        ),
        (
            "max_restarts: not a table",
            web("max_restarts = 10"),
            "tend.toml:3:16: programs.web.max_restarts: wrong type: found an integer; expected a \
             table, like max_restarts = { count = 10, within = \"1m\" }"
                .into(),
        ),
        // ----- signals
        (
            "unknown signal name",
            web("stop = { signal = \"SIGFOO\" }"),
            format!("tend.toml:3:19: programs.web.stop.signal: unknown signal \"SIGFOO\"; {SIGNAL_RULE}"),
        ),
        (
            "unknown signal number",
            web("stop = { signal = 99 }"),
            format!("tend.toml:3:19: programs.web.stop.signal: unknown signal 99; {SIGNAL_RULE}"),
        ),
        // ----- watch
        (
            "watch: no paths",
            web("watch = { paths = [] }"),
            "tend.toml:3:19: programs.web.watch.paths: no paths; expected an array of files or \
             folders relative to the program's dir, like [\"src\"]"
                .into(),
        ),
        (
            "watch: bad ignore glob",
            web("watch = { ignore = [\"*.tmp\", \"src/[abc\"] }"),
            "tend.toml:3:30: programs.web.watch.ignore[1]: invalid glob \"src/[abc\": unclosed \
             character class; missing ']'; expected an array of glob patterns, like \
             [\"**/__pycache__/**\"]"
                .into(),
        ),
        (
            "watch: bad ignore glob as one string",
            web("watch.ignore = \"{a,b\""),
            "tend.toml:3:16: programs.web.watch.ignore: invalid glob \"{a,b\": unclosed \
             alternate group; missing '}' (maybe escape '{' with '[{]'?); expected an array of \
             glob patterns, like [\"**/__pycache__/**\"]"
                .into(),
        ),
        (
            "watch: bad debounce",
            web("watch = { debounce = \"fast\" }"),
            format!(
                "tend.toml:3:22: programs.web.watch.debounce: invalid duration \"fast\"; \
                 {DURATION_RULE}"
            ),
        ),
        (
            "watch: wrong type",
            web("watch = \"src\""),
            "tend.toml:3:9: programs.web.watch: wrong type: found a string; expected a table, like \
             watch = { paths = [\"src\"] }, or true"
                .into(),
        ),
        // ----- sizes
        (
            "bad size unit",
            web("log = { max_size = \"10XB\" }"),
            format!("tend.toml:3:20: programs.web.log.max_size: invalid size \"10XB\"; {SIZE_RULE}"),
        ),
        (
            "size without a number",
            "[log]\nmax_size = \"MiB\"\n[programs.web]\ncommand = \"x\"\n".into(),
            format!("tend.toml:2:12: log.max_size: invalid size \"MiB\"; {SIZE_RULE}"),
        ),
        (
            "zero size",
            web("log.max_size = 0"),
            "tend.toml:3:16: programs.web.log.max_size: zero size; expected more than 0 bytes"
                .into(),
        ),
        (
            "negative size",
            web("log.max_size = -1"),
            "tend.toml:3:16: programs.web.log.max_size: negative size; expected a size, like \
             \"10MiB\", \"500KB\" or a number of bytes"
                .into(),
        ),
        (
            "size too large",
            web("log.max_size = \"99999999999GiB\""),
            format!(
                "tend.toml:3:16: programs.web.log.max_size: size \"99999999999GiB\" is too large; \
                 {SIZE_RULE}"
            ),
        ),
        (
            "max_files zero",
            web("log = { max_files = 0 }"),
            "tend.toml:3:21: programs.web.log.max_files: 0 is out of range; expected a number of \
             files from 1 to 1000, counting the current one"
                .into(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, text, expected) in &cases {
        let actual = error(text);
        if actual != *expected {
            failures.push(format!("{name}:\n  expected: {expected}\n  actual:   {actual}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn error_uses_the_path_as_given_and_counts_columns_in_characters() {
    let text = "# größe\n[programs.web]\ncommand = \"x\"\nenv = { \"ÄÖ\" = 1, \"\" = \"x\" }\n";
    let error = Config::parse(text, Path::new("conf/app.toml")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "conf/app.toml:4:19: programs.web.env.\"\": invalid variable name \"\"; expected a name \
         without '=', like PORT"
    );
    let diagnostic = error.diagnostic().unwrap();
    assert_eq!((diagnostic.line, diagnostic.column), (4, 19));
    assert_eq!(diagnostic.key.as_deref(), Some("programs.web.env.\"\""));
}

#[test]
fn error_position_ignores_a_byte_order_mark() {
    let error = error("\u{feff}nmae = 1\r\n");
    assert!(error.starts_with("tend.toml:1:1: unknown key `nmae`"), "{error}");
    let error = parse("\u{feff}[programs.web]\r\ncommand = []\r\n").unwrap_err().to_string();
    assert!(error.starts_with("tend.toml:2:11: programs.web.command: empty command"), "{error}");
}

#[test]
fn full_example() {
    let text = r#"
name = "demo"

[log]
max_size = "1MiB"
max_files = 3

[programs.web]
command = ["python3", "-m", "http.server", "8000"]
dir = "web"
env = { PORT = "8000", DEBUG = true, WORKERS = 4, RATIO = 0.5 }
env_files = [".env", "/etc/web.env"]
runner = "docker"
restart = "always"
restart_exit_code = 43
backoff = { initial = "500ms", max = "2m", factor = 1.5, reset_after = "1h 30m" }
max_restarts = { count = 3, within = "5m" }
stop = { signal = "SIGINT", timeout = "3s" }
watch = { paths = ["src", "../shared"], ignore = ["**/__pycache__/**", "*.tmp"], debounce = "1s" }
log = { max_files = 7 }

[programs.api]
command = "node server.js --port '8080'"
runner = "nix"
restart = "never"
restart_exit_code = false
stop.signal = 1
watch = true
log.max_size = 2048

[programs.worker]
command = "worker"
runner = "auto"
restart = "on-failure"
backoff.factor = 3
watch = false
"#;
    let path = Path::new("/srv/demo/tend.toml");
    let config = Config::parse(text, path).unwrap();
    let folder = std::path::absolute("/srv/demo").unwrap();
    assert_eq!(config.name, "demo");
    assert_eq!(config.folder, folder);
    assert_eq!(config.log, LogConfig { max_size: 1 << 20, max_files: 3 });
    let names: Vec<&str> = config.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["web", "api", "worker"], "file order, not sorted");

    let web = &config.programs[0];
    let env: BTreeMap<String, String> =
        [("PORT", "8000"), ("DEBUG", "true"), ("WORKERS", "4"), ("RATIO", "0.5")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let expected = ProgramConfig {
        name: "web".into(),
        command: vec!["python3".into(), "-m".into(), "http.server".into(), "8000".into()],
        dir: folder.join("web"),
        env,
        env_files: vec![folder.join(".env"), std::path::absolute("/etc/web.env").unwrap()],
        runner: Runner::Docker,
        auto: None,
        restart: RestartPolicy::Always,
        restart_exit_code: Some(43),
        backoff: Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(120),
            factor: 1.5,
            reset_after: Duration::from_secs(5400),
        },
        max_restarts: MaxRestarts { count: 3, within: Duration::from_secs(300) },
        stop: StopPolicy { signal: Signal::Interrupt, grace: Duration::from_secs(3) },
        watch: Some(Watch {
            // Relative to the program's `dir`.
            paths: vec![folder.join("web/src"), folder.join("web/../shared")],
            ignore: vec!["**/__pycache__/**".into(), "*.tmp".into()],
            debounce: Duration::from_secs(1),
        }),
        log: LogConfig { max_size: 1 << 20, max_files: 7 },
    };
    assert_eq!(*web, expected);

    let api = config.program("api").unwrap();
    assert_eq!(api.command, ["node", "server.js", "--port", "8080"]);
    assert_eq!(api.dir, folder);
    assert_eq!(api.runner, Runner::Nix);
    assert_eq!(api.restart, RestartPolicy::Never);
    assert_eq!(api.restart_exit_code, None);
    assert_eq!(api.stop.signal, Signal::Hangup);
    assert_eq!(api.watch, Some(Watch::new(vec![folder.clone()])));
    assert_eq!(api.log, LogConfig { max_size: 2048, max_files: 3 }, "inherits [log] key by key");

    let worker = config.program("worker").unwrap();
    assert_eq!(worker.runner, Runner::Auto);
    assert_eq!(worker.restart, RestartPolicy::OnFailure);
    assert_eq!(worker.backoff.factor, 3.0);
    assert_eq!(worker.watch, None);
}

#[test]
fn defaults() {
    let config = Config::parse(
        "[programs.web]\ncommand = \"python3 -m http.server 8000\"\n",
        Path::new("/srv/my app!/tend.toml"),
    )
    .unwrap();
    let folder = std::path::absolute("/srv/my app!").unwrap();
    assert_eq!(config.name, "my-app", "the folder name, sanitised");
    assert_eq!(config.folder, folder);
    assert_eq!(config.log, LogConfig { max_size: 10 * 1024 * 1024, max_files: 5 });
    let web = &config.programs[0];
    let mut expected = ProgramConfig::new(
        "web",
        vec!["python3".into(), "-m".into(), "http.server".into(), "8000".into()],
        folder,
    );
    assert_eq!(*web, expected);
    // Spelled out, so that a changed default is a visible decision.
    expected.env = BTreeMap::new();
    assert!(web.env.is_empty() && web.env_files.is_empty());
    assert_eq!(web.runner, Runner::Native);
    assert_eq!(web.restart, RestartPolicy::OnFailure);
    assert_eq!(web.restart_exit_code, Some(42));
    assert_eq!(
        web.backoff,
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 2.0,
            reset_after: Duration::from_secs(30),
        }
    );
    assert_eq!(web.max_restarts, MaxRestarts { count: 10, within: Duration::from_secs(60) });
    assert_eq!(web.stop, StopPolicy { signal: Signal::Terminate, grace: Duration::from_secs(10) });
    assert_eq!(web.watch, None);
    assert_eq!(web.log, LogConfig { max_size: 10 << 20, max_files: 5 });
    assert_eq!(Watch::new(vec![]).debounce, Duration::from_millis(200));
}

#[test]
fn relative_config_path_resolves_from_the_current_directory() {
    let config = parse("[programs.web]\ncommand = \"x\"\ndir = \"./a/./b\"\n").unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(config.folder, cwd);
    assert_eq!(config.programs[0].dir, cwd.join("a").join("b"));
    let config =
        Config::parse("[programs.web]\ncommand = \"x\"\n", Path::new("sub/tend.toml")).unwrap();
    assert_eq!(config.folder, cwd.join("sub"));
    assert_eq!(config.name, "sub");
}

#[test]
fn default_name_resolves_parent_components() {
    let config =
        Config::parse("[programs.web]\ncommand = \"x\"\n", Path::new("/srv/a/../b/tend.toml"))
            .unwrap();
    assert_eq!(config.name, "b");
    let config =
        Config::parse("[programs.web]\ncommand = \"x\"\n", Path::new("/tend.toml")).unwrap();
    assert_eq!(config.name, "app", "the root folder has no name");
}

#[test]
fn command_strings_split_like_a_shell() {
    let cases: &[(&str, &[&str])] = &[
        ("python3 -m http.server 8000", &["python3", "-m", "http.server", "8000"]),
        ("  spaced   out  ", &["spaced", "out"]),
        (r#"echo "a b" 'c d' e\ f"#, &["echo", "a b", "c d", "e f"]),
        ("echo $HOME ~ *.txt", &["echo", "$HOME", "~", "*.txt"]),
        ("grep '|' file", &["grep", "|", "file"]),
        (r"find . -exec rm {} \;", &["find", ".", "-exec", "rm", "{}", ";"]),
        ("echo a;b", &["echo", "a;b"]),
    ];
    for (command, expected) in cases {
        let text = format!("[programs.web]\ncommand = '''{command}'''\n");
        let config = parse(&text).unwrap_or_else(|e| panic!("{command}: {e}"));
        assert_eq!(config.programs[0].command, *expected, "{command}");
    }
}

#[test]
fn command_arrays_are_kept_as_they_are() {
    let config =
        parse("[programs.web]\ncommand = [\"a b\", \"c\", \"\", \"'d'\", \"|\"]\n").unwrap();
    assert_eq!(config.programs[0].command, ["a b", "c", "", "'d'", "|"]);
}

#[test]
fn programs_keep_file_order_in_every_syntax() {
    let text = "programs.zeta.command = \"z\"\n\
                [programs.beta]\ncommand = \"b\"\n\
                [programs.alpha]\ncommand = \"a\"\n";
    let config = parse(text).unwrap();
    let names: Vec<&str> = config.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["zeta", "beta", "alpha"]);
    let text =
        "programs = { c = { command = \"c\" }, a = { command = \"a\" }, b = { command = \"b\" } }";
    let names: Vec<String> = parse(text).unwrap().programs.into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["c", "a", "b"]);
}

#[test]
fn signals_are_normalised() {
    for (given, expected) in [
        ("\"TERM\"", "TERM"),
        ("\"SIGTERM\"", "TERM"),
        ("\"term\"", "TERM"),
        ("\"sigusr1\"", "USR1"),
        ("\"9\"", "KILL"),
        ("15", "TERM"),
        ("2", "INT"),
    ] {
        let config = parse(&web(&format!("stop.signal = {given}"))).unwrap();
        assert_eq!(config.programs[0].stop.signal.name(), expected, "{given}");
    }
    for &name in SIGNALS {
        assert_eq!(normalize_signal(name).map(Signal::name).as_deref(), Some(name));
        let number = signal_number(name).unwrap();
        assert_eq!(normalize_signal(&number.to_string()).map(Signal::name).as_deref(), Some(name));
    }
    assert_eq!(normalize_signal("SEGV"), None);
    assert_eq!(normalize_signal(""), None);
    assert_eq!(normalize_signal("SIG"), None);
}

#[test]
fn durations() {
    let ok = [
        ("200ms", Duration::from_millis(200)),
        ("1s", Duration::from_secs(1)),
        ("1.5s", Duration::from_millis(1500)),
        ("2m", Duration::from_secs(120)),
        ("1h 30m", Duration::from_secs(5400)),
        (" 10s ", Duration::from_secs(10)),
        ("0s", Duration::ZERO),
        ("365d", Duration::from_secs(365 * 86400)),
    ];
    for (text, expected) in ok {
        assert_eq!(parse_duration(text).ok(), Some(expected), "{text}");
    }
    for text in ["", "1x", "10", "s", "-1s", "1 s s", "366d"] {
        assert!(parse_duration(text).is_err(), "{text}");
    }
}

#[test]
fn sizes() {
    let ok = [
        ("1", 1),
        ("10B", 10),
        ("500KB", 500_000),
        ("500kb", 500_000),
        ("10MB", 10_000_000),
        ("1GB", 1_000_000_000),
        ("2KiB", 2048),
        ("10MiB", 10 << 20),
        ("10 MiB", 10 << 20),
        ("1.5MiB", 3 << 19),
        ("1GiB", 1 << 30),
    ];
    for (text, expected) in ok {
        assert_eq!(parse_size(text).ok(), Some(expected), "{text}");
    }
    for text in ["", "MiB", "10XB", "-5", "1.MiB", ".5MiB", "1.2.3KB", "0", "0KiB", "10 M", "1e3"] {
        assert!(parse_size(text).is_err(), "{text}");
    }
}

#[test]
fn names() {
    for name in ["web", "Web2", "a.b_c-d", "0"] {
        assert!(is_valid_name(name), "{name}");
    }
    for name in ["", ".", "..", ".hidden", "-x", "_x", "a b", "a/b", "a\\b", "é"] {
        assert!(!is_valid_name(name), "{name}");
    }
    for (text, expected) in [
        ("My Project", "My-Project"),
        ("..hidden", "hidden"),
        ("a  /  b", "a-b"),
        ("café", "caf"),
        ("é", "app"),
        ("", "app"),
        ("python3", "python3"),
        ("x.sh", "x.sh"),
    ] {
        assert_eq!(sanitize_name(text), expected, "{text}");
        assert!(is_valid_name(&sanitize_name(text)));
    }
}

#[test]
fn load_reads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tend.toml");
    std::fs::write(&path, "[programs.web]\ncommand = \"x\"\ndir = \"web\"\n").unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(config.folder, dir.path());
    assert_eq!(config.programs[0].dir, dir.path().join("web"));
}

#[test]
fn load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("tend.toml");
    let error = Config::load(&missing).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot read {}: ", missing.display()))
            && message.ends_with("; create one or pass -f FILE"),
        "{message}"
    );
    #[cfg(unix)]
    assert_eq!(
        message,
        format!(
            "cannot read {}: No such file or directory (os error 2); create one or pass -f FILE",
            missing.display()
        )
    );

    let not_utf8 = dir.path().join("latin1.toml");
    std::fs::write(&not_utf8, b"name = \"x\"\n# caf\xe9\n").unwrap();
    let error = Config::load(&not_utf8).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{}:2:6: invalid TOML: the file is not valid UTF-8; expected UTF-8 text",
            not_utf8.display()
        )
    );

    let error = Config::load(dir.path()).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error}");
}

#[test]
fn single_program_config() {
    let dir = std::path::absolute("/srv/x").unwrap();
    let program =
        ProgramConfig::new("python3", vec!["python3".into(), "bot.py".into()], dir.clone());
    let config = Config::single("bot", program.clone()).unwrap();
    assert_eq!(config.name, "bot");
    assert_eq!(config.folder, dir);
    assert_eq!(config.programs.len(), 1);
    assert_eq!(config.programs[0], program);

    let error = Config::single("my bot", program.clone()).unwrap_err();
    assert_eq!(error.to_string(), format!("invalid app name \"my bot\"; {NAME_RULE}"));
    let mut bad = program;
    bad.name = "../x".into();
    let error = Config::single("bot", bad).unwrap_err();
    assert_eq!(error.to_string(), format!("invalid program name \"../x\"; {NAME_RULE}"));
}

#[test]
fn runner_and_restart_names_round_trip() {
    for runner in Runner::ALL {
        assert_eq!(Runner::from_name(runner.as_str()), Some(runner));
        assert_eq!(runner.to_string(), runner.as_str());
    }
    for restart in [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never] {
        assert_eq!(restart.as_str().parse::<RestartPolicy>(), Ok(restart));
    }
    assert_eq!(Runner::from_name("Native"), None);
}

#[test]
fn paths_are_absolute() {
    let config = Config::parse(
        "[programs.web]\ncommand = \"x\"\nenv_files = \".env\"\nwatch.paths = \"src\"\n",
        Path::new("rel/tend.toml"),
    )
    .unwrap();
    let web = &config.programs[0];
    assert!(config.folder.is_absolute());
    assert!(web.dir.is_absolute());
    assert_eq!(web.env_files, [config.folder.join(".env")]);
    let watch = web.watch.as_ref().unwrap();
    assert_eq!(watch.paths, [config.folder.join("src")]);
    assert!(watch.paths.iter().chain(&web.env_files).all(|p: &PathBuf| p.is_absolute()));
}

#[test]
fn errors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ConfigError>();
    assert_send_sync::<Config>();
}

#[test]
fn app_log_table_is_every_programs_default() {
    let text = "[log]\nmax_size = \"1GiB\"\nmax_files = 3\n[programs.a]\ncommand = \"x\"\n[programs.b]\ncommand = \"x\"\nlog = { max_files = 9 }\n";
    let config = Config::parse(text, Path::new("tend.toml")).unwrap();
    assert_eq!((config.programs[0].log.max_size, config.programs[0].log.max_files), (1 << 30, 3));
    assert_eq!((config.programs[1].log.max_size, config.programs[1].log.max_files), (1 << 30, 9));
}

#[test]
fn inflight_table() {
    let config = parse(&web("")).unwrap();
    assert_eq!(config.inflight.max_age, Duration::from_secs(3600), "default: 1h");
    let config = parse(&format!("[inflight]\nmax_age = \"90s\"\n{}", web(""))).unwrap();
    assert_eq!(config.inflight.max_age, Duration::from_secs(90));
    let config = parse(&format!("inflight = {{ max_age = \"0s\" }}\n{}", web(""))).unwrap();
    assert_eq!(config.inflight.max_age, Duration::ZERO);
    let cases = [
        (
            "[inflight]\nmax_age = \"1x\"\n",
            format!("tend.toml:2:11: inflight.max_age: invalid duration \"1x\"; {DURATION_RULE}"),
        ),
        (
            "[inflight]\nmax_age = 60\n",
            "tend.toml:2:11: inflight.max_age: wrong type: found an integer; expected a duration \
             string, like \"10s\""
                .to_owned(),
        ),
        (
            "[inflight]\nmaxage = \"1h\"\n",
            "tend.toml:2:1: unknown key `maxage` in [inflight]; expected one of: max_age"
                .to_owned(),
        ),
        (
            "inflight = \"1h\"\n",
            "tend.toml:1:12: inflight: wrong type: found a string; expected a table, like \
             [inflight] with max_age = \"1h\""
                .to_owned(),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(&format!("{text}{}", web(""))), expected, "{text}");
    }
}

#[test]
fn the_nix_table() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path();
    std::fs::create_dir_all(folder.join("api")).unwrap();
    std::fs::create_dir_all(folder.join("shell")).unwrap();
    std::fs::write(folder.join("api/flake.nix"), "{ }").unwrap();
    let path = folder.join("tend.toml");
    let programs = "[programs.api]\ncommand = \"x\"\ndir = \"api\"\nrunner = \"nix\"\n\
                    [programs.web]\ncommand = \"x\"\nrunner = \"nix\"\n";
    // No [nix]: a program's own flake, else the app's folder.
    std::fs::write(&path, programs).unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(config.nix, NixConfig::default());
    assert_eq!(config.flake_dir(&config.programs[0]), folder.join("api"));
    assert_eq!(config.flake_dir(&config.programs[1]), folder);
    // [nix] flake: every program's.
    std::fs::write(folder.join("shell/flake.nix"), "{ }").unwrap();
    std::fs::write(&path, format!("[nix]\nflake = \"shell\"\n{programs}")).unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(config.nix.flake.as_deref(), Some(folder.join("shell").as_path()));
    assert!(config.programs.iter().all(|p| config.flake_dir(p) == folder.join("shell")));

    let expected = r#"expected the folder holding flake.nix, relative to tend.toml, like flake = "." or flake = "nix""#;
    let shown = path.display();
    let cases = [
        (
            "[nix]\nflake = \"nowhere\"\n".to_string(),
            format!(
                "{shown}:2:9: nix.flake: {} does not exist; {expected}",
                folder.join("nowhere").display()
            ),
        ),
        (
            "[nix]\nflake = \"api/flake.nix\"\n".to_string(),
            format!(
                "{shown}:2:9: nix.flake: {} is a file, not a folder; {expected}",
                folder.join("api/flake.nix").display()
            ),
        ),
        (
            "[nix]\nflake = \".\"\n".to_string(),
            format!("{shown}:2:9: nix.flake: {} has no flake.nix; {expected}", folder.display()),
        ),
        (
            "[nix]\nflake = \"\"\n".to_string(),
            format!("{shown}:2:9: nix.flake: empty string; {expected}"),
        ),
        (
            "[nix]\nflak = \"api\"\n".to_string(),
            format!("{shown}:2:1: unknown key `flak` in [nix]; expected one of: flake"),
        ),
        (
            "nix = \"api\"\n".to_string(),
            format!(
                "{shown}:1:7: nix: wrong type: found a string; expected a table, like [nix] \
                 with flake = \"nix\" (the folder holding flake.nix)"
            ),
        ),
    ];
    for (text, wanted) in cases {
        std::fs::write(&path, format!("{text}{programs}")).unwrap();
        assert_eq!(Config::load(&path).unwrap_err().to_string(), wanted, "{text}");
    }
    // Parsing text alone does not look at the disk.
    let text = format!("[nix]\nflake = \"nowhere\"\n{programs}");
    assert!(Config::parse(&text, &path).is_ok());
}

#[test]
fn update_table() {
    let config = parse(&web("")).unwrap();
    assert_eq!(config.update, crate::config::UpdateConfig::default());
    assert!(config.update.check);
    let config = parse(&web(
        "[update]\ncheck = false\nchannel = \"pre\"\nindex = \"http://127.0.0.1:9/\"\nreleases = \"https://r.example/dl\"",
    ))
    .unwrap();
    assert!(!config.update.check);
    assert_eq!(config.update.channel, tend_update::Channel::Pre);
    assert_eq!(config.update.index.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(config.update.releases.as_deref(), Some("https://r.example/dl"));
    let unknown = error(&web("[update]\nauto = true"));
    assert!(unknown.starts_with("tend.toml:4:1: unknown key `auto`"), "{unknown}");
    assert!(unknown.contains("check, channel, index, releases"), "{unknown}");
    let channel = error(&web("[update]\nchannel = \"nightly\""));
    assert!(
        channel.starts_with("tend.toml:4:11: update.channel: unknown channel \"nightly\""),
        "{channel}"
    );
    let check = error(&web("[update]\ncheck = \"no\""));
    assert!(
        check.starts_with("tend.toml:4:9: update.check: wrong type: found a string"),
        "{check}"
    );
    let url = error(&web("[update]\nindex = \"ftp://x\""));
    assert!(url.contains("is not a URL"), "{url}");
}
