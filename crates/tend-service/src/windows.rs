//! Windows: a Task Scheduler task `tend-<app>` that starts the app at the user's logon and
//! restarts it after a failure; created from XML with `schtasks /Create /XML`, which needs no
//! administrator rights (a Windows *service* would).

use std::path::PathBuf;

use super::plan::{Cmd, Plan, Step};
use super::{Backend, Captured, Definition, Facts, Logs, Probe, ServiceError, Spec, taskxml};

/// The Task Scheduler task of an app.
#[derive(Debug, Clone)]
pub struct TaskScheduler {
    spec: Spec,
}

impl TaskScheduler {
    /// The task for `spec`.
    pub fn new(spec: Spec) -> TaskScheduler {
        TaskScheduler { spec }
    }

    /// The task's name: `tend-<app>`.
    pub fn task_name(app: &str) -> String {
        format!("tend-{app}")
    }

    /// Where the XML is written for `schtasks` to read; removed right after.
    pub fn temp_xml(&self) -> PathBuf {
        self.spec.state_dir.join("service-task.xml")
    }

    fn schtasks(&self, args: &[&str]) -> Cmd {
        let mut argv = vec!["schtasks"];
        argv.extend_from_slice(args);
        Cmd::new(&argv)
    }

    fn task(&self) -> String {
        TaskScheduler::task_name(&self.spec.app)
    }
}

/// Whether a command's output says that access was denied (English and German wordings, the
/// ones seen in the field), meaning an elevated terminal is needed.
pub fn access_denied(text: &str) -> bool {
    let text = text.to_lowercase();
    [
        "access is denied",
        "zugriff verweigert",
        "zugriff wurde verweigert",
        "accès refusé",
        "acceso denegado",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The hint shown with an access-denied failure.
pub const ELEVATION_HINT: &str = "Task Scheduler refused access. Run the same command again \
from an elevated terminal (right-click Windows Terminal or PowerShell → Run as administrator); \
the task still runs as you, without elevation.";

/// `schtasks /Query /FO CSV /NH` shows the task's status `Running`.
fn is_running(out: &Captured) -> bool {
    out.success
        && out
            .stdout
            .lines()
            .any(|line| line.split(',').any(|field| field.trim().trim_matches('"') == "Running"))
}

/// `schtasks /Query /XML` shows a task whose `Settings/Enabled` is not `false`.
fn is_enabled(out: &Captured) -> bool {
    if !out.success {
        return false;
    }
    let Some(settings) = out.stdout.split("<Settings>").nth(1) else { return true };
    let settings = settings.split("</Settings>").next().unwrap_or_default();
    // Nested elements (IdleSettings) have no `Enabled`; the first one is the task's own.
    !settings.contains("<Enabled>false</Enabled>")
}

impl Backend for TaskScheduler {
    fn kind(&self) -> &'static str {
        "Task Scheduler task"
    }

    fn name(&self) -> String {
        self.task()
    }

    fn spec(&self) -> &Spec {
        &self.spec
    }

    fn available(&self) -> Probe {
        Probe::OnPath("schtasks".into())
    }

    fn unavailable_reason(&self) -> String {
        "schtasks.exe is not on PATH (is this Windows?)".into()
    }

    fn definition(&self) -> Result<Definition, ServiceError> {
        let text = taskxml::task_xml(&self.spec)?;
        Ok(Definition {
            location: format!("Task Scheduler task \\{}", self.task()),
            bytes: taskxml::utf16(&text),
            text,
        })
    }

    fn installed(&self) -> Probe {
        Probe::succeeds(&["schtasks", "/Query", "/TN", &self.task()])
    }

    fn running(&self) -> Probe {
        Probe::command(
            &["schtasks", "/Query", "/TN", &self.task(), "/FO", "CSV", "/NH"],
            is_running,
        )
    }

    fn enabled(&self) -> Probe {
        Probe::command(&["schtasks", "/Query", "/TN", &self.task(), "/XML"], is_enabled)
    }

    fn linger(&self) -> Option<Probe> {
        None
    }

    fn install(&self, facts: &Facts) -> Result<Plan, ServiceError> {
        let definition = self.definition()?;
        let task = self.task();
        let xml = self.temp_xml();
        let xml_str = xml.to_string_lossy().into_owned();
        let mut plan = Plan::new().then(Step::CreateDir(self.spec.state_dir.clone()));
        if facts.installed {
            // Updated in place (/F below); end the running instance so the new one starts.
            plan = plan.run(self.schtasks(&["/End", "/TN", &task]).ignore_errors());
        }
        Ok(plan
            .then(Step::Write { path: xml.clone(), bytes: definition.bytes })
            .run(
                self.schtasks(&["/Create", "/TN", &task, "/XML", &xml_str, "/F"])
                    .with_elevation_hint(),
            )
            .run(self.schtasks(&["/Run", "/TN", &task]))
            .finally(Step::Remove(xml)))
    }

    fn start(&self) -> Plan {
        Plan::new().run(self.schtasks(&["/Run", "/TN", &self.task()]))
    }

    fn stop(&self) -> Plan {
        Plan::new().run(self.schtasks(&["/End", "/TN", &self.task()]))
    }

    fn uninstall(&self) -> Plan {
        let task = self.task();
        Plan::new()
            .run(self.schtasks(&["/End", "/TN", &task]).ignore_errors())
            .run(self.schtasks(&["/Delete", "/TN", &task, "/F"]).with_elevation_hint())
    }

    fn details(&self) -> Cmd {
        self.schtasks(&["/Query", "/TN", &self.task(), "/FO", "LIST", "/V"])
    }

    fn logs(&self, _lines: usize, _follow: bool) -> Logs {
        Logs::Files
    }

    fn debug_hint(&self) -> String {
        format!(
            "schtasks /Query /TN {} /V /FO LIST; Task Scheduler → Task Scheduler Library → {0} → History",
            self.task()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let b = TaskScheduler::new(taskxml::tests_support::windows_spec());
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
        assert_eq!(b.definition().unwrap().bytes[..2], [0xFF, 0xFE]);
    }

    #[test]
    fn reads_schtasks() {
        let out = |s: &str| Captured { success: true, stdout: s.into(), stderr: String::new() };
        assert!(is_running(&out("\"\\tend-demo\",\"N/A\",\"Running\"\r\n")));
        assert!(!is_running(&out("\"\\tend-demo\",\"N/A\",\"Ready\"\r\n")));
        let xml = "<Task><Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>\
<Settings><Enabled>false</Enabled></Settings></Task>";
        assert!(!is_enabled(&out(xml)));
        assert!(is_enabled(&out(&xml.replace("false", "true"))));
        assert!(!is_enabled(&Captured::default()));
    }

    #[test]
    fn access_denied_is_recognised() {
        assert!(access_denied("ERROR: Access is denied.\r\n"));
        assert!(access_denied("FEHLER: Zugriff verweigert"));
        assert!(!access_denied("ERROR: The system cannot find the file specified."));
    }
}
