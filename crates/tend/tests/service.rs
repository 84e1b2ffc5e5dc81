#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tend service`: the generated definitions checked by real validators (systemd-analyze, the
//! `launchd` crate, an allow-list from Microsoft's task schema), and on Linux a real end-to-end
//! run against a systemd user manager that the test starts itself.
//!
//! Tests that need systemd skip (printing why) when it is missing, and fail instead when
//! `TEND_REQUIRE_SYSTEMD=1`. Nothing is written outside the test's temp folders: `HOME`,
//! `XDG_CONFIG_HOME`, `XDG_RUNTIME_DIR` and `TEND_HOME` all point into them.

mod common;

use std::path::{Path, PathBuf};

use common::Sandbox;
use tend_service::{Launch, Spec, launchd, systemd, taskxml};

/// Specs whose paths hold everything systemd quoting must survive, rooted at `root`. (The tend
/// binary's own path may not hold quotes or backslashes: systemd refuses those outright, and
/// so does the generator.)
fn awkward_specs(root: &Path, tend: &Path) -> Vec<Spec> {
    let plain = Spec::example(root);
    let mut awkward = Spec::example(&root.join("my apps 100% $HOME"));
    awkward.tend_home = root.join("tend home $USER %h \"q\" 'a' back\\slash");
    awkward.launch.as_mut().unwrap().config =
        root.join("my app's \"config\" 50% $PWD back\\slash").join("tend.toml");
    vec![plain, awkward]
        .into_iter()
        .map(|mut spec| {
            let launch = spec.launch.as_mut().unwrap();
            // ExecStart must name an executable that exists: link the real tend there.
            std::fs::create_dir_all(launch.tend.parent().unwrap()).unwrap();
            if !launch.tend.exists() {
                link(tend, &launch.tend);
            }
            spec
        })
        .collect()
}

#[cfg(unix)]
fn link(from: &Path, to: &Path) {
    std::os::unix::fs::symlink(from, to).unwrap();
}

#[cfg(not(unix))]
fn link(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
}

fn require_systemd() -> bool {
    std::env::var("TEND_REQUIRE_SYSTEMD").is_ok_and(|v| v == "1")
}

/// Returns `false` after printing why when `what` is missing, or panics if systemd is
/// required.
fn have(what: &str, present: bool) -> bool {
    if !present {
        assert!(!require_systemd(), "TEND_REQUIRE_SYSTEMD=1 but {what} is not available");
        eprintln!("SKIPPED: {what} is not available");
    }
    present
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

/// A private `XDG_RUNTIME_DIR` (mode 0700) under `root`.
fn runtime_dir(root: &Path) -> PathBuf {
    let dir = root.join("run");
    std::fs::create_dir_all(&dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}

/// `systemd-analyze --user verify UNIT` says nothing and exits 0 (it only warns, on stderr,
/// about many problems: any output is a failure).
fn assert_verifies(unit: &Path, env: &UserEnv, home: &Path) {
    let mut cmd = std::process::Command::new("systemd-analyze");
    cmd.args(["--user", "verify"]).arg(unit).env("HOME", home);
    env.apply(&mut cmd);
    let (status, stdout, stderr) = run_bounded(cmd);
    assert!(
        status.success() && stderr.trim().is_empty() && stdout.trim().is_empty(),
        "systemd-analyze --user verify rejected {} ({status:?}):\n{stderr}{stdout}\n--- unit ---\n{}",
        unit.display(),
        std::fs::read_to_string(unit).unwrap_or_default()
    );
}

#[test]
fn generated_units_pass_systemd_analyze_verify() {
    if !have("systemd-analyze", on_path("systemd-analyze")) {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let env = UserEnv::new(root.path());
    for (i, spec) in awkward_specs(root.path(), &common::tend_bin()).iter().enumerate() {
        let text = systemd::unit_text(spec).unwrap();
        let dir = root.path().join(format!("units-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let unit = dir.join(systemd::Systemd::unit_name(&spec.app));
        std::fs::write(&unit, &text).unwrap();
        assert_verifies(&unit, &env, root.path());
    }
}

#[test]
fn plists_pass_the_launchd_crate() {
    let root = tempfile::tempdir().unwrap();
    for spec in awkward_specs(root.path(), &common::tend_bin()) {
        let text = launchd::plist_text(&spec).unwrap();
        let parsed = ::launchd::Launchd::from_bytes(text.as_bytes());
        assert!(parsed.is_ok(), "{parsed:?}\n{text}");
    }
    // The validator does reject what it should: an unknown key, a wrong type.
    let good = launchd::plist_text(&Spec::example(root.path())).unwrap();
    let unknown = good.replace("<key>RunAtLoad</key>", "<key>RunAtLogin</key>");
    assert!(::launchd::Launchd::from_bytes(unknown.as_bytes()).is_err(), "unknown key accepted");
    let wrong = good.replace("<integer>10</integer>", "<string>10</string>");
    assert!(
        ::launchd::Launchd::from_bytes(wrong.as_bytes()).is_err(),
        "string for integer accepted"
    );
}

/// What MS-TSCH's task schema (version 1.4) allows in the elements tend writes: each element's
/// parent, and the values of typed leaves.
fn task_schema_allows(path: &str, value: &str) -> Result<(), String> {
    let boolean = || matches!(value, "true" | "false");
    // xs:duration, e.g. PT10S, PT1M, P1D (no fractions needed here).
    let duration = || {
        let rest = value.strip_prefix('P').unwrap_or("x");
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || "YMDTHS".contains(c))
    };
    let ok = match path {
        "Task"
        | "Task/RegistrationInfo"
        | "Task/Triggers"
        | "Task/Triggers/LogonTrigger"
        | "Task/Principals"
        | "Task/Principals/Principal"
        | "Task/Settings"
        | "Task/Settings/IdleSettings"
        | "Task/Settings/RestartOnFailure"
        | "Task/Actions"
        | "Task/Actions/Exec" => value.is_empty(),
        "Task/RegistrationInfo/Description" | "Task/Actions/Exec/Arguments" => true,
        "Task/Actions/Exec/Command"
        | "Task/Triggers/LogonTrigger/UserId"
        | "Task/Principals/Principal/UserId" => !value.is_empty(),
        "Task/Triggers/LogonTrigger/Enabled"
        | "Task/Settings/DisallowStartIfOnBatteries"
        | "Task/Settings/StopIfGoingOnBatteries"
        | "Task/Settings/AllowHardTerminate"
        | "Task/Settings/StartWhenAvailable"
        | "Task/Settings/RunOnlyIfNetworkAvailable"
        | "Task/Settings/IdleSettings/StopOnIdleEnd"
        | "Task/Settings/IdleSettings/RestartOnIdle"
        | "Task/Settings/AllowStartOnDemand"
        | "Task/Settings/Enabled"
        | "Task/Settings/Hidden"
        | "Task/Settings/RunOnlyIfIdle" => boolean(),
        "Task/Triggers/LogonTrigger/Delay" | "Task/Settings/ExecutionTimeLimit" => duration(),
        // RestartOnFailure/Interval: at least one minute, at most 31 days.
        "Task/Settings/RestartOnFailure/Interval" => duration() && value != "PT0S",
        "Task/Settings/RestartOnFailure/Count" => {
            value.parse::<u32>().is_ok_and(|n| (1..=999).contains(&n))
        }
        "Task/Settings/MultipleInstancesPolicy" => {
            matches!(value, "Parallel" | "Queue" | "IgnoreNew" | "StopExisting")
        }
        "Task/Principals/Principal/LogonType" => matches!(
            value,
            "S4U"
                | "Password"
                | "InteractiveToken"
                | "InteractiveTokenOrPassword"
                | "ServiceAccount"
                | "Group"
                | "None"
        ),
        "Task/Principals/Principal/RunLevel" => {
            matches!(value, "LeastPrivilege" | "HighestAvailable")
        }
        _ => return Err(format!("element {path} is not in the allow-list")),
    };
    if ok { Ok(()) } else { Err(format!("{path}: value {value:?} is not allowed")) }
}

/// Checks task XML against [`task_schema_allows`], plus the root's attributes.
fn validate_task_xml(xml: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) => {
                let name = start.name().as_ref().to_string();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| e.to_string())?;
                    let key = attr.key.as_ref().to_string();
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| e.to_string())?
                        .into_owned();
                    let allowed = match (name.as_str(), key.as_str()) {
                        ("Task", "version") => matches!(value.as_str(), "1.2" | "1.3" | "1.4"),
                        ("Task", "xmlns") => {
                            value == "http://schemas.microsoft.com/windows/2004/02/mit/task"
                        }
                        ("Principal", "id") | ("Actions", "Context") => value == "Author",
                        _ => false,
                    };
                    if !allowed {
                        return Err(format!("attribute {name}/@{key}={value:?} is not allowed"));
                    }
                }
                stack.push(name);
                texts.push(String::new());
            }
            Event::Text(text) => {
                if let Some(last) = texts.last_mut() {
                    last.push_str(&text.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(last) = texts.last_mut() {
                    last.push_str(&format!("&{};", &*r));
                }
            }
            Event::End(_) => {
                let path = stack.join("/");
                let text = texts.pop().unwrap_or_default();
                task_schema_allows(&path, text.trim())?;
                stack.pop();
            }
            Event::Empty(e) => {
                return Err(format!("empty element {}", e.name().as_ref()));
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    if stack.is_empty() { Ok(()) } else { Err(format!("unclosed {stack:?}")) }
}

#[test]
fn task_xml_passes_the_schema_allow_list() {
    let root = tempfile::tempdir().unwrap();
    let mut spec = Spec::example(root.path());
    spec.user = r"DESKTOP-1\alice & bob".into();
    let launch: &mut Launch = spec.launch.as_mut().unwrap();
    launch.tend = PathBuf::from(r"C:\Program Files\tend <x>\tend.exe");
    launch.config = PathBuf::from(r#"C:\Users\a "quoted" & co\tend.toml"#);
    let xml = taskxml::task_xml(&spec).unwrap();
    validate_task_xml(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    // The XML is written as UTF-16 with a byte-order mark, as its declaration says.
    let bytes = taskxml::utf16(&xml);
    let units: Vec<u16> = bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(String::from_utf16(&units).unwrap(), xml);
    // The checker does reject what it should.
    let bad = xml.replace("<RunLevel>LeastPrivilege</RunLevel>", "<RunLevel>Highest</RunLevel>");
    assert!(validate_task_xml(&bad).is_err());
    let unknown = xml.replace("<Hidden>false</Hidden>", "<Hidden>false</Hidden><Foo>1</Foo>");
    assert!(validate_task_xml(&unknown).is_err());
}

/// The environment every `tend service` command of a test gets, besides the sandbox's.
struct UserEnv {
    config_home: PathBuf,
    runtime: PathBuf,
}

impl UserEnv {
    fn new(root: &Path) -> UserEnv {
        let config_home = root.join("config");
        std::fs::create_dir_all(&config_home).unwrap();
        UserEnv { config_home, runtime: runtime_dir(root) }
    }

    fn apply(&self, cmd: &mut std::process::Command) {
        cmd.env("XDG_CONFIG_HOME", &self.config_home)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
    }
}

/// The pid `tend up -d` printed: `app: running in the background (pid N); …`.
fn background_pid(stdout: &str) -> u32 {
    let rest = stdout.split("(pid ").nth(1).unwrap_or_else(|| panic!("no pid in {stdout:?}"));
    rest.split(')').next().unwrap().parse().unwrap()
}

/// Runs `tend ARGS…` in the sandbox with `env`, bounded; returns (code, stdout, stderr).
fn tend(sandbox: &Sandbox, env: &UserEnv, args: &[&str]) -> (i32, String, String) {
    let mut cmd = sandbox.command(args);
    env.apply(&mut cmd);
    let out = run_bounded(cmd);
    (out.0.code().unwrap_or(-1), out.1, out.2)
}

/// Runs `cmd` to its end, killing it after [`common::LIMIT`].
fn run_bounded(mut cmd: std::process::Command) -> (std::process::ExitStatus, String, String) {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + common::LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {:?}", common::LIMIT);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    (status, std::fs::read_to_string(out_path).unwrap(), std::fs::read_to_string(err_path).unwrap())
}

#[cfg(target_os = "linux")]
#[test]
fn show_prints_the_unit_install_would_write() {
    let sandbox = Sandbox::new();
    let env = UserEnv::new(&sandbox.cwd.join(".."));
    std::fs::create_dir_all(sandbox.path("app")).unwrap();
    sandbox.write(
        "app/tend.toml",
        "name = \"shown\"\n[programs.one]\ncommand = [\"sleep\", \"60\"]\n",
    );
    let (code, stdout, stderr) = tend(&sandbox, &env, &["service", "show", "-f", "app/tend.toml"]);
    assert_eq!(code, 0, "{stderr}");
    let tend_bin = std::fs::canonicalize(common::tend_bin()).unwrap();
    let config = sandbox.path("app/tend.toml");
    assert!(
        stdout.contains(&format!("ExecStart={} up -f {}", tend_bin.display(), config.display())),
        "{stdout}"
    );
    assert!(stdout.contains("Environment=TEND_SUPERVISOR=1"), "{stdout}");
    assert!(stdout.contains("WantedBy=default.target"), "{stdout}");
    let unit = env.config_home.join("systemd/user/tend-shown.service");
    assert!(stderr.contains(&unit.display().to_string()), "{stderr}");
    assert!(!unit.exists(), "show writes nothing");

    let (code, plan, stderr) =
        tend(&sandbox, &env, &["service", "show", "--plan", "-f", "app/tend.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(plan.contains("systemctl --user enable --now tend-shown.service"), "{plan}");
}

#[cfg(target_os = "linux")]
#[test]
fn service_commands_without_a_user_manager_explain_what_is_missing() {
    if !have("systemctl", on_path("systemctl")) {
        return;
    }
    let sandbox = Sandbox::new();
    // A runtime folder where no user manager listens.
    let env = UserEnv::new(&sandbox.cwd.join(".."));
    sandbox.write("tend.toml", "name = \"nobus\"\n[programs.one]\ncommand = [\"sleep\", \"60\"]\n");
    let (code, stdout, stderr) = tend(&sandbox, &env, &["service", "install", "--no-linger"]);
    assert_eq!(code, 1, "{stderr}\n{stdout}");
    assert!(stderr.contains("no systemd user manager runs for you"), "{stderr}");
    assert!(stderr.contains("loginctl enable-linger"), "{stderr}");
}

#[test]
fn service_without_a_config_explains() {
    let sandbox = Sandbox::new();
    let env = UserEnv::new(&sandbox.cwd.join(".."));
    let (code, _, stderr) = tend(&sandbox, &env, &["service", "status", "-f", "missing.toml"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.toml does not exist"), "{stderr}");
}

/// A systemd user manager started for one test, stopped (by its pid) when dropped.
#[cfg(target_os = "linux")]
struct UserManager {
    child: std::process::Child,
}

#[cfg(target_os = "linux")]
impl UserManager {
    /// Starts `systemd --user` with `env`'s folders, following recipes.md: systemd insists on
    /// /run/systemd/system while it starts (it is not PID 1 here); the folder is created for
    /// that moment only, and only if it was missing.
    fn start(home: &Path, env: &UserEnv, log: &Path) -> Option<UserManager> {
        let binary = ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file());
        let is_root = nix::unistd::geteuid().is_root();
        let marker = Path::new("/run/systemd/system");
        let booted = marker.is_dir();
        if !have("systemd (/lib/systemd/systemd)", binary.is_some())
            || !have("systemctl", on_path("systemctl"))
            || !have("root, or a machine booted with systemd", booted || is_root)
        {
            return None;
        }
        let created = !booted && std::fs::create_dir_all(marker).is_ok();
        let mut cmd = std::process::Command::new(binary.unwrap());
        cmd.arg("--user").env("HOME", home).stdin(std::process::Stdio::null());
        env.apply(&mut cmd);
        let child = cmd
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
            .spawn()
            .unwrap();
        let manager = UserManager { child };
        let state = || {
            let mut cmd = std::process::Command::new("systemctl");
            cmd.args(["--user", "show", "--property=SystemState", "--value"]);
            env.apply(&mut cmd);
            let out = cmd.output().ok()?;
            let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
            matches!(state.as_str(), "running" | "degraded").then_some(state)
        };
        let sandbox_root = home.to_path_buf();
        let ready = wait_until(&sandbox_root, "the systemd user manager to run", state);
        if created {
            let _ = std::fs::remove_dir(marker);
        }
        eprintln!("systemd --user (pid {}) is {ready}", manager.child.id());
        Some(manager)
    }
}

#[cfg(target_os = "linux")]
impl Drop for UserManager {
    fn drop(&mut self) {
        // SIGTERM makes the manager stop its units; SIGKILL if it takes too long.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = std::time::Instant::now() + common::LIMIT;
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `probe` under [`common::LIMIT`]; panics naming `what`.
fn wait_until<T>(root: &Path, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + common::LIMIT;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {:?} waiting for {what} (files under {})",
            common::LIMIT,
            root.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(target_os = "linux")]
fn systemctl(env: &UserEnv, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new("systemctl");
    cmd.arg("--user").args(args);
    env.apply(&mut cmd);
    let (_, stdout, _) = run_bounded(cmd);
    stdout.trim().to_string()
}

#[cfg(target_os = "linux")]
fn main_pid(env: &UserEnv, unit: &str) -> u32 {
    systemctl(env, &["show", "--property=MainPID", "--value", unit]).parse().unwrap_or(0)
}

/// install → the app runs under systemd with TEND_SUPERVISOR=1 → tend is killed → systemd
/// starts it again → status is right → `tend down` stops service and app → start →
/// uninstall leaves nothing behind.
#[cfg(target_os = "linux")]
#[test]
fn systemd_user_service_end_to_end() {
    use std::time::Instant;

    let sandbox = Sandbox::new();
    let root = sandbox.cwd.parent().unwrap().to_path_buf();
    let env = UserEnv::new(&root);
    let Some(_manager) = UserManager::start(&root, &env, &root.join("systemd-user.log")) else {
        return;
    };
    // A folder name systemd quoting must survive.
    let folder = sandbox.path("my app 100%");
    std::fs::create_dir_all(&folder).unwrap();
    let app = format!("svc-e2e-{}", std::process::id());
    let dump = root.join("env.txt");
    let config = folder.join("tend.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"{app}\"\n[programs.dump]\ncommand = [{}, \"env-dump\", {}]\n",
            common::toml_str(&common::testbin_str()),
            common::toml_str(&dump.to_string_lossy())
        ),
    )
    .unwrap();
    let file = config.to_string_lossy().into_owned();
    let unit = format!("tend-{app}.service");
    let unit_file = env.config_home.join("systemd/user").join(&unit);

    let (code, stdout, stderr) =
        tend(&sandbox, &env, &["service", "install", "--no-linger", "-f", &file]);
    assert_eq!(code, 0, "install failed:\n{stderr}\n{stdout}");
    assert!(stdout.contains("installed and started"), "{stdout}");
    assert!(stdout.contains("linger:     no"), "{stdout}");
    assert!(stdout.contains("sudo loginctl enable-linger"), "the linger hint is shown: {stdout}");
    assert!(unit_file.is_file());
    assert_verifies(&unit_file, &env, &root);
    let text = sandbox.wait_text(&dump, "TEND_SUPERVISOR=1");
    assert!(text.contains(&format!("TEND_APP={app}")), "{text}");
    assert!(text.contains(&format!("TEND_HOME={}", sandbox.home.display())), "{text}");
    let tend_pid = main_pid(&env, &unit);
    assert!(tend_pid > 0);
    let program_pid = common::processes_with_env("TEND_APP", &app);
    let mut guard = common::KillOnDrop::new(&[tend_pid]);
    guard.add(&program_pid);

    // A crash of tend itself: systemd starts it again after RestartSec (5 s).
    std::fs::remove_file(&dump).unwrap();
    let killed = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(tend_pid).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let new_pid = wait_until(&root, "systemd to start tend again", || {
        let pid = main_pid(&env, &unit);
        (pid != 0 && pid != tend_pid).then_some(pid)
    });
    let restarted_after = killed.elapsed();
    let text = sandbox.wait_text(&dump, "TEND_SUPERVISOR=1");
    eprintln!(
        "systemd restarted tend (pid {tend_pid} → {new_pid}) {restarted_after:?} after SIGKILL"
    );
    assert!(restarted_after >= std::time::Duration::from_secs(4), "RestartSec=5 is honoured");
    assert!(text.contains("TEND_STARTUP_KIND="), "{text}");
    guard.add(&[new_pid]);
    guard.add(&common::processes_with_env("TEND_APP", &app));

    let (code, stdout, stderr) = tend(&sandbox, &env, &["service", "status", "-f", &file]);
    assert_eq!(code, 0, "status: {stderr}\n{stdout}");
    for line in ["installed:  yes", "enabled:    yes", "running:    yes", "linger:     no"] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }

    // Logs: no journald here, so tend's own log files.
    let (code, stdout, stderr) = tend(&sandbox, &env, &["service", "logs", "-n", "5", "-f", &file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no system journal"), "{stderr}");
    assert!(stdout.contains("tend.log <=="), "{stdout}");

    // `tend down` stops the service first, so that systemd does not start the app again.
    let (code, stdout, stderr) = tend(&sandbox, &env, &["down", "-f", &file]);
    assert_eq!(code, 0, "down: {stderr}\n{stdout}");
    assert!(stderr.contains("stopped its service"), "{stderr}");
    assert_eq!(systemctl(&env, &["is-active", &unit]), "inactive");
    sandbox.wait_dead(&[new_pid]);
    let (code, stdout, _) = tend(&sandbox, &env, &["service", "status", "-f", &file]);
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("running:    no"), "{stdout}");

    // The app started outside the service: the service's tend fails on the lock, and says
    // why in tend.log and in `tend service status`.
    let (code, stdout, stderr) = tend(&sandbox, &env, &["up", "-d", "-f", &file]);
    assert_eq!(code, 0, "up -d: {stderr}\n{stdout}");
    let outside = common::processes_with_env("TEND_APP", &app);
    guard.add(&outside);
    let outside_tend = background_pid(&stdout);
    guard.add(&[outside_tend]);
    let (code, _, stderr) = tend(&sandbox, &env, &["service", "start", "-f", &file]);
    assert_eq!(code, 0, "{stderr}");
    let status = wait_until(&root, "`tend service status` to show the last failure", || {
        let (_, stdout, _) = tend(&sandbox, &env, &["service", "status", "-f", &file]);
        stdout.contains("last failure:").then_some(stdout)
    });
    assert!(status.contains("already running"), "{status}");
    let tend_log = std::fs::read_to_string(sandbox.app(&app).tend_log()).unwrap();
    assert!(tend_log.contains("already running"), "the failure is in tend.log: {tend_log}");
    // No journal here: the service's error also goes to service.err, which `service logs` shows.
    let service_err =
        std::fs::read_to_string(sandbox.app(&app).dir.join("logs/service.err")).unwrap();
    assert!(service_err.contains("already running"), "{service_err}");
    let (_, logs, _) = tend(&sandbox, &env, &["service", "logs", "-n", "20", "-f", &file]);
    assert!(logs.contains("already running"), "{logs}");
    let (code, stdout, stderr) = tend(&sandbox, &env, &["down", "-f", &file]);
    assert_eq!(code, 0, "down: {stderr}\n{stdout}");
    sandbox.wait_dead(&[outside_tend]);

    // Installing over an app that runs outside the service is refused; --replace hands over.
    let (code, stdout, _) = tend(&sandbox, &env, &["up", "-d", "-f", &file]);
    assert_eq!(code, 0, "{stdout}");
    let outside_tend = background_pid(&stdout);
    guard.add(&[outside_tend]);
    guard.add(&common::processes_with_env("TEND_APP", &app));
    let (code, _, stderr) =
        tend(&sandbox, &env, &["service", "install", "--no-linger", "-f", &file]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("already runs outside the service"), "{stderr}");
    assert!(stderr.contains("--replace"), "{stderr}");
    assert!(common::alive(outside_tend), "a refused install leaves the app alone");
    let (code, stdout, stderr) =
        tend(&sandbox, &env, &["service", "install", "--no-linger", "--replace", "-f", &file]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    sandbox.wait_dead(&[outside_tend]);
    let service_tend = wait_until(&root, "the service's tend to run", || {
        let pid = main_pid(&env, &unit);
        (pid != 0).then_some(pid)
    });
    guard.add(&[service_tend]);
    sandbox.wait_text(&dump, "TEND_SUPERVISOR=1");
    guard.add(&common::processes_with_env("TEND_APP", &app));

    // Re-install over the existing definition updates it in place.
    let (code, stdout, stderr) =
        tend(&sandbox, &env, &["service", "install", "--no-linger", "-f", &file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("updated and restarted"), "{stdout}");

    let (code, stdout, stderr) = tend(&sandbox, &env, &["service", "uninstall", "-f", &file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("stopped and removed"), "{stdout}");
    assert!(!unit_file.exists());
    let wants = env.config_home.join("systemd/user/default.target.wants").join(&unit);
    assert!(
        !wants.exists() && std::fs::symlink_metadata(&wants).is_err(),
        "enable symlink removed"
    );
    assert_eq!(systemctl(&env, &["show", "--property=LoadState", "--value", &unit]), "not-found");
    sandbox.wait_for("the app's processes to end", || {
        common::processes_with_env("TEND_APP", &app).is_empty().then_some(())
    });
    // By name, as when the tend.toml is gone.
    let (code, stdout, _) = tend(&sandbox, &env, &["service", "uninstall", "--name", &app]);
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to remove"), "{stdout}");
    let (code, stdout, _) = tend(&sandbox, &env, &["service", "status", "--name", &app]);
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("installed:  no"), "{stdout}");
}
