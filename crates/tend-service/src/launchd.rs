//! macOS: a launchd agent, `~/Library/LaunchAgents/dev.tend.<app>.plist`, loaded into the
//! user's GUI domain with `launchctl bootstrap gui/<uid>` (or the older `launchctl load -w`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::plan::{Cmd, Plan, Step};
use super::{Backend, Captured, Definition, Facts, Logs, Probe, ServiceError, Spec, paths};

/// Seconds launchd waits at least between two starts.
pub const THROTTLE_INTERVAL: u32 = 10;

/// Seconds launchd waits after SIGTERM before SIGKILL: tend stops its programs one by one.
pub const EXIT_TIMEOUT: u32 = 60;

/// The launchd agent of an app.
#[derive(Debug, Clone)]
pub struct Launchd {
    spec: Spec,
}

/// The agent's property list. Field names are launchd.plist(5) keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Agent {
    label: String,
    program_arguments: Vec<String>,
    run_at_load: bool,
    keep_alive: KeepAlive,
    throttle_interval: u32,
    exit_time_out: u32,
    process_type: &'static str,
    environment_variables: BTreeMap<String, String>,
    standard_out_path: String,
    standard_error_path: String,
}

/// `KeepAlive` as a dictionary: restart only after an unsuccessful exit (a crash, a non-zero
/// exit such as 42), not after a clean one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeepAlive {
    successful_exit: bool,
}

impl Launchd {
    /// The agent for `spec`.
    pub fn new(spec: Spec) -> Launchd {
        Launchd { spec }
    }

    /// The agent's label: `dev.tend.<app>`.
    pub fn label(app: &str) -> String {
        format!("dev.tend.{app}")
    }

    /// The plist's path.
    pub fn plist_path(&self) -> PathBuf {
        self.spec
            .home
            .join("Library")
            .join("LaunchAgents")
            .join(format!("{}.plist", Launchd::label(&self.spec.app)))
    }

    fn domain(&self) -> String {
        format!("gui/{}", self.spec.uid)
    }

    fn target(&self) -> String {
        format!("{}/{}", self.domain(), Launchd::label(&self.spec.app))
    }

    fn plist_str(&self) -> String {
        self.plist_path().to_string_lossy().into_owned()
    }
}

/// The plist's XML.
///
/// # Errors
/// [`ServiceError::NoConfig`] without a launch; [`ServiceError::Generate`] if the plist cannot
/// be serialised.
pub fn plist_text(spec: &Spec) -> Result<String, ServiceError> {
    let launch = spec.launch()?;
    let logs = spec.logs();
    let text = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let environment_variables = BTreeMap::from([
        ("PATH".to_string(), paths::join(&launch.path)),
        ("HOME".to_string(), text(&spec.home)),
        ("TEND_HOME".to_string(), text(&spec.tend_home)),
        ("TEND_SUPERVISOR".to_string(), "1".to_string()),
    ]);
    let agent = Agent {
        label: Launchd::label(&spec.app),
        program_arguments: vec![text(&launch.tend), "up".into(), "-f".into(), text(&launch.config)],
        run_at_load: true,
        keep_alive: KeepAlive { successful_exit: false },
        throttle_interval: THROTTLE_INTERVAL,
        exit_time_out: EXIT_TIMEOUT,
        process_type: "Background",
        environment_variables,
        standard_out_path: text(&logs.join("service.log")),
        standard_error_path: text(&logs.join("service.err")),
    };
    let mut bytes = Vec::new();
    plist::to_writer_xml(&mut bytes, &agent).map_err(|e| ServiceError::Generate(e.to_string()))?;
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| ServiceError::Generate(e.to_string()))
}

/// `launchctl print gui/<uid>/<label>` says `state = running`.
fn is_running(out: &Captured) -> bool {
    out.success && out.stdout.lines().any(|line| line.trim() == "state = running")
}

/// `launchctl print-disabled gui/<uid>` does not list the label as disabled.
fn enabled_in(label: &str, out: &Captured) -> bool {
    let quoted = format!("\"{label}\"");
    !out.stdout.lines().any(|line| {
        let line = line.trim();
        line.starts_with(&quoted) && (line.ends_with("disabled") || line.ends_with("true"))
    })
}

impl Backend for Launchd {
    fn kind(&self) -> &'static str {
        "launchd agent"
    }

    fn name(&self) -> String {
        Launchd::label(&self.spec.app)
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn available(&self) -> Probe {
        Probe::OnPath("launchctl".into())
    }

    fn unavailable_reason(&self) -> String {
        "launchctl is not on PATH (is this macOS?)".into()
    }

    fn definition(&self) -> Result<Definition, ServiceError> {
        let text = plist_text(&self.spec)?;
        Ok(Definition { location: self.plist_str(), bytes: text.clone().into_bytes(), text })
    }

    fn installed(&self) -> Probe {
        Probe::FileExists(self.plist_path())
    }

    fn running(&self) -> Probe {
        Probe::command(&["launchctl", "print", &self.target()], is_running)
    }

    fn enabled(&self) -> Probe {
        // An installed agent loads at login unless `launchctl disable` was used on it (the
        // plist holds no `Disabled` key).
        let label = self.name();
        Probe::Both(
            Box::new(self.installed()),
            Box::new(Probe::command(
                &["launchctl", "print-disabled", &self.domain()],
                move |out| enabled_in(&label, out),
            )),
        )
    }

    fn linger(&self) -> Option<Probe> {
        None
    }

    fn install(&self, facts: &Facts) -> Result<Plan, ServiceError> {
        let definition = self.definition()?;
        let plist = self.plist_str();
        let mut plan = Plan::new()
            .then(Step::CreateDir(self.spec.logs()))
            .then(Step::CreateDir(self.spec.home.join("Library").join("LaunchAgents")))
            .then(Step::Write { path: self.plist_path(), bytes: definition.bytes });
        if facts.installed {
            // Updated in place: unload the old definition so that the new one is read.
            plan = plan.run(Cmd::new(&["launchctl", "bootout", &self.target()]).ignore_errors());
        }
        Ok(plan.run(Cmd::new(&["launchctl", "enable", &self.target()]).ignore_errors()).then(
            Step::FirstOf(vec![
                Cmd::new(&["launchctl", "bootstrap", &self.domain(), &plist]),
                Cmd::new(&["launchctl", "load", "-w", &plist]),
            ]),
        ))
    }

    fn start(&self) -> Plan {
        // Loading starts it (RunAtLoad); if it is loaded already, kickstart starts it.
        Plan::new()
            .run(
                Cmd::new(&["launchctl", "bootstrap", &self.domain(), &self.plist_str()])
                    .ignore_errors(),
            )
            .run(Cmd::new(&["launchctl", "kickstart", &self.target()]))
    }

    fn stop(&self) -> Plan {
        // `launchctl stop` would be undone at once by KeepAlive: unload the job instead. The
        // plist stays, so it loads again at the next login.
        Plan::new().then(Step::FirstOf(vec![
            Cmd::new(&["launchctl", "bootout", &self.target()]),
            Cmd::new(&["launchctl", "unload", &self.plist_str()]),
        ]))
    }

    fn uninstall(&self) -> Plan {
        Plan::new()
            .run(Cmd::new(&["launchctl", "bootout", &self.target()]).ignore_errors())
            .then(Step::Remove(self.plist_path()))
    }

    fn details(&self) -> Cmd {
        Cmd::new(&["launchctl", "print", &self.target()])
    }

    fn logs(&self, _lines: usize, _follow: bool) -> Logs {
        Logs::Files
    }

    fn debug_hint(&self) -> String {
        format!(
            "launchctl print {}; plutil -lint {}; logs in {}",
            self.target(),
            super::escape::shell(&self.plist_str()),
            super::escape::shell(&self.spec.logs().to_string_lossy())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn backend() -> Launchd {
        Launchd::new(Spec::example(Path::new("/Users")))
    }

    #[test]
    fn plist_snapshot() {
        insta::assert_snapshot!(plist_text(&Spec::example(Path::new("/Users"))).unwrap());
    }

    #[test]
    fn plist_escapes_xml() {
        let mut spec = Spec::example(Path::new("/Users/a & <b>"));
        spec.app = "demo".into();
        let text = plist_text(&spec).unwrap();
        assert!(text.contains("/Users/a &amp; &lt;b&gt;/home/alice/.tend"), "{text}");
    }

    #[test]
    fn plans() {
        let b = backend();
        let fresh = Facts { installed: false, linger: None, try_linger: true };
        let again = Facts { installed: true, linger: None, try_linger: true };
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
    fn reads_launchctl() {
        let out = |s: &str| Captured { success: true, stdout: s.into(), stderr: String::new() };
        let print =
            "gui/501/dev.tend.demo = {\n\tactive count = 1\n\tstate = running\n\tpid = 4242\n}";
        assert!(is_running(&out(print)));
        assert!(!is_running(&out("gui/501/dev.tend.demo = {\n\tstate = not running\n}")));
        assert!(!is_running(&Captured::default()));
        let disabled =
            "disabled services = {\n\t\"dev.tend.demo\" => disabled\n\t\"x\" => enabled\n}";
        assert!(!enabled_in("dev.tend.demo", &out(disabled)));
        assert!(enabled_in("x", &out(disabled)));
    }
}
