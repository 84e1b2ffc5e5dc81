//! Linux: a systemd user unit, `~/.config/systemd/user/tend-<app>.service`, managed with
//! `systemctl --user`.

use std::path::{Path, PathBuf};

use super::escape::{self, Context};
use super::plan::{Cmd, Plan, Step};
use super::{Backend, Captured, Definition, Facts, Logs, Probe, ServiceError, Spec, linger, paths};

/// Seconds systemd waits before starting tend again after a failure.
pub const RESTART_SEC: u32 = 5;

/// Where journald listens: no socket, no journal to read.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// What `systemctl --user`'s "Failed to connect to bus" means, said as tend would.
pub const NO_BUS_EXPLANATION: &str = "no systemd user manager runs for you, so there is no user \
service to install or manage (`systemctl --user` cannot connect to its bus). A user manager starts \
when you log in (ssh or a desktop session) and sets XDG_RUNTIME_DIR; to have one at boot and \
after you log out, turn on linger once: `sudo loginctl enable-linger $USER`, then log in again. \
In a container or on a machine without systemd, run the app with `tend up -d` instead.";

/// Whether systemctl's output says that it could not reach the user manager's bus.
///
/// ```
/// assert!(tend_service::systemd::no_bus("Failed to connect to bus: No medium found"));
/// assert!(!tend_service::systemd::no_bus("Unit tend-x.service not found."));
/// ```
pub fn no_bus(output: &str) -> bool {
    output.contains("Failed to connect to bus")
        || output.contains("Failed to connect to user scope bus")
}

/// The systemd user unit of an app.
#[derive(Debug, Clone)]
pub struct Systemd {
    spec: Spec,
    linger_dir: PathBuf,
}

impl Systemd {
    /// The unit for `spec`.
    pub fn new(spec: Spec) -> Systemd {
        Systemd { spec, linger_dir: PathBuf::from(linger::LINGER_DIR) }
    }

    /// The unit's name: `tend-<app>.service`.
    pub fn unit_name(app: &str) -> String {
        format!("tend-{app}.service")
    }

    /// `<config home>/systemd/user`.
    pub fn unit_dir(&self) -> PathBuf {
        self.spec.config_home.join("systemd").join("user")
    }

    /// The unit file.
    pub fn unit_path(&self) -> PathBuf {
        self.unit_dir().join(Systemd::unit_name(&self.spec.app))
    }

    fn systemctl(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec!["systemctl".to_string(), "--user".to_string()];
        argv.extend(args.iter().map(|a| (*a).to_string()));
        argv
    }

    fn unit(&self) -> String {
        Systemd::unit_name(&self.spec.app)
    }
}

/// The unit file's text.
///
/// # Errors
/// [`ServiceError::NoConfig`] when `spec` has no launch.
pub fn unit_text(spec: &Spec) -> Result<String, ServiceError> {
    let launch = spec.launch()?;
    let exec = escape::command_line(
        &launch.tend.to_string_lossy(),
        &["up", "-f", launch.config.to_string_lossy().as_ref()],
    )
    .map_err(ServiceError::Generate)?;
    let env = |key: &str, value: &Path| escape::environment(key, &value.to_string_lossy());
    let description = escape::quote(&format!("tend: app {}", spec.app), Context::Text);
    // A comment: no escaping, but a line break would end it.
    let source = launch.config.to_string_lossy().replace(['\n', '\r'], " ");
    Ok(format!(
        "# Written by `tend service install`; `tend service uninstall` removes it.
# Source: {source}
[Unit]
Description={description}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={exec}
# Restarted after a crash or a non-zero exit (42 = \"restart me\"); a clean stop (exit 0) stays stopped.
Restart=on-failure
RestartSec={RESTART_SEC}
# SIGTERM to tend only: it stops its programs itself, in order, then exits.
KillMode=mixed
TimeoutStopSec=90
Environment={path}
Environment={home}
Environment={tend_home}
Environment=TEND_SUPERVISOR=1

[Install]
WantedBy=default.target
",
        path = escape::environment("PATH", &paths::join(&launch.path)),
        home = env("HOME", &spec.home),
        tend_home = env("TEND_HOME", &spec.tend_home),
    ))
}

fn is_active(out: &Captured) -> bool {
    matches!(out.stdout.trim(), "active" | "reloading")
}

fn is_enabled(out: &Captured) -> bool {
    matches!(out.stdout.trim(), "enabled" | "enabled-runtime")
}

fn has_version(out: &Captured) -> bool {
    out.success && !out.stdout.trim().is_empty()
}

impl Backend for Systemd {
    fn kind(&self) -> &'static str {
        "systemd user unit"
    }

    fn name(&self) -> String {
        self.unit()
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn available(&self) -> Probe {
        Probe::Both(
            Box::new(Probe::OnPath("systemctl".into())),
            Box::new(Probe::command(
                &self.systemctl(&["show", "--property=Version", "--value"]),
                has_version,
            )),
        )
    }

    fn unavailable_reason(&self) -> String {
        NO_BUS_EXPLANATION.into()
    }

    fn definition(&self) -> Result<Definition, ServiceError> {
        let text = unit_text(&self.spec)?;
        Ok(Definition {
            location: self.unit_path().to_string_lossy().into_owned(),
            bytes: text.clone().into_bytes(),
            text,
        })
    }

    fn installed(&self) -> Probe {
        Probe::FileExists(self.unit_path())
    }

    fn running(&self) -> Probe {
        Probe::command(&self.systemctl(&["is-active", &self.unit()]), is_active)
    }

    fn enabled(&self) -> Probe {
        Probe::command(&self.systemctl(&["is-enabled", &self.unit()]), is_enabled)
    }

    fn linger(&self) -> Option<Probe> {
        Some(Probe::FileExists(linger::marker(&self.linger_dir, &self.spec.user)))
    }

    fn install(&self, facts: &Facts) -> Result<Plan, ServiceError> {
        let definition = self.definition()?;
        let unit = self.unit();
        let mut plan = Plan::new()
            .then(Step::CreateDir(self.unit_dir()))
            .then(Step::Write { path: self.unit_path(), bytes: definition.bytes })
            .run(Cmd::new(&self.systemctl(&["daemon-reload"])));
        plan = if facts.installed {
            // Updated in place: restart so that the new definition applies.
            plan.run(Cmd::new(&self.systemctl(&["enable", &unit])))
                .run(Cmd::new(&self.systemctl(&["restart", &unit])))
        } else {
            plan.run(Cmd::new(&self.systemctl(&["enable", "--now", &unit])))
        };
        for step in linger::steps(&self.spec.user, facts.linger, facts.try_linger) {
            plan = plan.then(step);
        }
        Ok(plan)
    }

    fn start(&self) -> Plan {
        Plan::new().run(Cmd::new(&self.systemctl(&["start", &self.unit()])))
    }

    fn stop(&self) -> Plan {
        Plan::new().run(Cmd::new(&self.systemctl(&["stop", &self.unit()])))
    }

    fn uninstall(&self) -> Plan {
        let unit = self.unit();
        Plan::new()
            .run(Cmd::new(&self.systemctl(&["disable", "--now", &unit])).ignore_errors())
            .then(Step::Remove(self.unit_path()))
            .run(Cmd::new(&self.systemctl(&["daemon-reload"])))
            .run(Cmd::new(&self.systemctl(&["reset-failed", &unit])).ignore_errors())
    }

    fn details(&self) -> Cmd {
        Cmd::new(&self.systemctl(&["status", "--no-pager", "--lines=5", &self.unit()]))
    }

    fn logs(&self, lines: usize, follow: bool) -> Logs {
        let mut argv: Vec<String> =
            ["journalctl", "--user", "-u", &self.unit(), "--no-hostname", "--no-pager", "-n"]
                .iter()
                .map(|a| (*a).to_string())
                .collect();
        argv.push(lines.to_string());
        if follow {
            argv.push("-f".into());
        }
        Logs::Journal {
            cmd: Cmd::new(&argv),
            available: Probe::Both(
                Box::new(Probe::OnPath("journalctl".into())),
                Box::new(Probe::FileExists(PathBuf::from(JOURNAL_SOCKET))),
            ),
        }
    }

    fn debug_hint(&self) -> String {
        let unit = self.unit();
        format!(
            "systemctl --user status {unit}; journalctl --user -u {unit}; \
systemd-analyze --user verify {}",
            escape::shell(&self.unit_path().to_string_lossy())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> Systemd {
        Systemd::new(Spec::example(Path::new("/")))
    }

    #[test]
    fn unit_snapshot() {
        insta::assert_snapshot!(unit_text(&Spec::example(Path::new("/"))).unwrap());
    }

    #[test]
    fn unit_quotes_awkward_paths() {
        let mut spec = Spec::example(Path::new("/srv/my apps/100%"));
        spec.tend_home = PathBuf::from("/srv/$HOME \"x\"");
        spec.launch.as_mut().unwrap().config = PathBuf::from("/srv/$HOME/it's \"q\"/tend.toml");
        let text = unit_text(&spec).unwrap();
        insta::assert_snapshot!(text);
        let exec = r#"ExecStart="/srv/my apps/100%%/home/alice/.cargo/bin/tend" up -f "/srv/$$HOME/it's \"q\"/tend.toml""#;
        assert!(text.contains(exec), "{text}");
        assert!(text.contains("Environment=\"TEND_HOME=/srv/$HOME \\\"x\\\"\""));
    }

    #[test]
    fn plans() {
        let b = backend();
        let fresh = Facts { installed: false, linger: Some(false), try_linger: true };
        let again = Facts { installed: true, linger: Some(true), try_linger: true };
        let text = format!(
            "## install\n{}\n## re-install\n{}\n## start\n{}\n## stop\n{}\n## uninstall\n{}",
            b.install(&fresh).unwrap(),
            b.install(&again).unwrap(),
            b.start(),
            b.stop(),
            b.uninstall()
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn unrunnable_tend_paths_are_refused() {
        let spec = Spec::example(Path::new("/srv/it's"));
        let error = unit_text(&spec).unwrap_err().to_string();
        assert!(error.contains("systemd cannot start a program whose path holds"), "{error}");
    }

    #[test]
    fn no_config_no_definition() {
        let mut spec = Spec::example(Path::new("/"));
        spec.launch = None;
        assert!(matches!(Systemd::new(spec).definition(), Err(ServiceError::NoConfig)));
    }

    #[test]
    fn probes_read_systemctl() {
        let out = |s: &str| Captured { success: true, stdout: s.into(), stderr: String::new() };
        assert!(is_active(&out("active\n")));
        assert!(!is_active(&out("activating\n")));
        assert!(!is_active(&out("inactive\n")));
        assert!(is_enabled(&out("enabled\n")));
        assert!(!is_enabled(&out("disabled\n")));
        assert!(!has_version(&Captured::default()));
    }

    #[test]
    fn logs_use_the_journal() {
        let Logs::Journal { cmd, .. } = backend().logs(20, true) else { panic!("journal") };
        assert_eq!(
            cmd.to_string(),
            "journalctl --user -u tend-demo.service --no-hostname --no-pager -n 20 -f"
        );
    }
}
