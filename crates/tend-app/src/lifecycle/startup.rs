//! Classifying each start of an app (`TEND_STARTUP_KIND`), and recording it in `state.json`.

use std::fmt;

use tend_api::AppHome;
use tend_fs::FsError;

use crate::lifecycle::state::{self, StartupState};

/// Stands in for the machine's boot id. For testing only: it lets a test simulate a reboot.
pub const TEST_BOOT_ID_VAR: &str = "TEND_TEST_BOOT_ID";

/// How a start of the app is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupKind {
    /// No valid `state.json`: the app never ran here (or its state was damaged).
    FirstStart,
    /// The machine rebooted since the last start.
    SystemReboot,
    /// Same boot, and the last run did not shut down cleanly.
    CrashRecovery,
    /// A restart was requested (`restart-sentinel.json`).
    Restart,
    /// Started by a service manager (`TEND_SUPERVISOR=1` or systemd's `INVOCATION_ID`).
    ServiceRestart,
    /// Started by hand after a clean stop.
    Start,
}

impl StartupKind {
    /// The name programs see in `TEND_STARTUP_KIND`.
    pub fn as_str(self) -> &'static str {
        match self {
            StartupKind::FirstStart => "first_start",
            StartupKind::SystemReboot => "system_reboot",
            StartupKind::CrashRecovery => "crash_recovery",
            StartupKind::Restart => "restart",
            StartupKind::ServiceRestart => "service_restart",
            StartupKind::Start => "start",
        }
    }
}

impl fmt::Display for StartupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies a start; the first match wins: no previous state → `first_start`; another boot
/// → `system_reboot`; not shut down cleanly → `crash_recovery`; a restart requested →
/// `restart`; under a service manager → `service_restart`; else `start`.
pub fn classify(
    previous: Option<&StartupState>,
    boot_id: &str,
    restart_requested: bool,
    under_service_manager: bool,
) -> StartupKind {
    match previous {
        None => StartupKind::FirstStart,
        Some(prev) if !tend_runner::same_boot(&prev.boot_id, boot_id) => StartupKind::SystemReboot,
        Some(prev) if !prev.clean_shutdown => StartupKind::CrashRecovery,
        Some(_) if restart_requested => StartupKind::Restart,
        Some(_) if under_service_manager => StartupKind::ServiceRestart,
        Some(_) => StartupKind::Start,
    }
}

/// The machine's boot id: `TEND_TEST_BOOT_ID` if set (tests only), else the OS's (Linux:
/// `/proc/sys/kernel/random/boot_id`), else empty.
pub fn boot_id(var: impl Fn(&str) -> Option<String>) -> String {
    var(TEST_BOOT_ID_VAR)
        .filter(|v| !v.is_empty())
        .or_else(tend_runner::current_boot_id)
        .unwrap_or_default()
}

/// Whether a service manager started tend: `TEND_SUPERVISOR=1`, or systemd's `INVOCATION_ID`.
pub fn under_service_manager(var: impl Fn(&str) -> Option<String>) -> bool {
    var("TEND_SUPERVISOR").as_deref() == Some("1")
        || var("INVOCATION_ID").is_some_and(|v| !v.is_empty())
}

/// How a start of the app at `home` would be classified now, read without changing anything
/// (for `tend env`, which shows a program's `TEND_STARTUP_KIND`).
pub fn predict(home: &AppHome) -> StartupKind {
    let previous = state::load(&home.state_file()).ok().and_then(|loaded| loaded.state);
    classify(
        previous.as_ref(),
        &boot_id(env_var),
        home.restart_sentinel().exists(),
        under_service_manager(env_var),
    )
}

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// A start of the app, classified and recorded; [`Startup::finish`] records a clean shutdown.
#[derive(Debug)]
pub struct Startup {
    /// How this start is classified.
    pub kind: StartupKind,
    /// The context of the consumed `restart-sentinel.json`, if there was a valid one.
    pub restart_context: Option<serde_json::Value>,
    state: StartupState,
    home: AppHome,
}

impl Startup {
    /// Classifies this start of the app at `home` (reading `state.json` and consuming
    /// `restart-sentinel.json`), then writes `state.json` with `clean_shutdown: false`. Call
    /// it while holding the app's lock.
    ///
    /// # Errors
    /// When a state file cannot be moved aside, removed or written.
    ///
    /// `config` is the app's `tend.toml` (none for `tend run`): its absolute path is recorded, so
    /// that commands can find the app's name while the file has errors.
    pub fn begin(home: &AppHome, config: Option<&std::path::Path>) -> Result<Startup, FsError> {
        let previous = state::load(&home.state_file())?;
        let sentinel = state::take_sentinel(&home.restart_sentinel())?;
        let boot = boot_id(env_var);
        let kind = classify(
            previous.state.as_ref(),
            &boot,
            sentinel.is_some(),
            under_service_manager(env_var),
        );
        let mut state = StartupState::starting(&boot);
        state.config = config.and_then(|file| std::path::absolute(file).ok());
        state::save(&home.state_file(), &state)?;
        // The clean shutdown, written now: at the end it only has to be renamed into place,
        // which needs no free space (a full disk must not make the next start a crash
        // recovery).
        let clean = StartupState { clean_shutdown: true, ..state.clone() };
        if let Err(e) = state::save(&home.clean_state_file(), &clean) {
            tracing::warn!("cannot prepare the record of a clean shutdown: {e}");
        }
        Ok(Startup {
            kind,
            restart_context: sentinel.and_then(|s| s.context),
            state,
            home: home.clone(),
        })
    }

    /// Records that this run ended gracefully, so that the next start is not a crash recovery:
    /// renames the `state.clean.json` prepared at start over `state.json` (no space needed),
    /// or writes it when there is none.
    ///
    /// # Errors
    /// When `state.json` cannot be written.
    pub fn finish(mut self) -> Result<(), FsError> {
        self.state.clean_shutdown = true;
        let path = self.home.state_file();
        match tend_fs::rename_into_place(&self.home.clean_state_file(), &path) {
            Ok(()) => Ok(()),
            Err(_) => state::save(&path, &self.state),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use StartupKind::*;

    fn prev(boot: &str, clean: bool) -> Option<StartupState> {
        Some(StartupState { clean_shutdown: clean, ..StartupState::starting(boot) })
    }

    #[test]
    fn classification_first_match_wins() {
        // (previous, boot id now, restart requested, service manager) → kind
        let table: &[(Option<StartupState>, &str, bool, bool, StartupKind)] = &[
            (None, "a", false, false, FirstStart),
            (None, "a", true, true, FirstStart),
            (prev("a", true), "b", false, false, SystemReboot),
            (prev("a", false), "b", true, true, SystemReboot),
            (prev("a", false), "a", false, false, CrashRecovery),
            (prev("a", false), "a", true, true, CrashRecovery),
            (prev("a", true), "a", true, false, Restart),
            (prev("a", true), "a", true, true, Restart),
            (prev("a", true), "a", false, true, ServiceRestart),
            (prev("a", true), "a", false, false, Start),
            (prev("", true), "", false, false, Start),
            // Boot times (no boot id on Windows) jitter: within the tolerance is the same boot.
            (prev("1764100000", true), "1764100001", false, false, Start),
            (prev("1764100000", true), "1764103600", false, false, SystemReboot),
        ];
        for (i, (previous, boot, restart, service, want)) in table.iter().enumerate() {
            let got = classify(previous.as_ref(), boot, *restart, *service);
            assert_eq!(got, *want, "row {i}");
        }
    }

    #[test]
    fn names() {
        let all = [FirstStart, SystemReboot, CrashRecovery, Restart, ServiceRestart, Start];
        let names: Vec<_> = all.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            names,
            [
                "first_start",
                "system_reboot",
                "crash_recovery",
                "restart",
                "service_restart",
                "start"
            ]
        );
    }

    #[test]
    fn environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
        };
        assert!(under_service_manager(env(&[("TEND_SUPERVISOR", "1")])));
        assert!(!under_service_manager(env(&[("TEND_SUPERVISOR", "0")])));
        assert!(under_service_manager(env(&[("INVOCATION_ID", "abc")])));
        assert!(!under_service_manager(env(&[("INVOCATION_ID", "")])));
        assert!(!under_service_manager(env(&[])));
        assert_eq!(boot_id(env(&[(TEST_BOOT_ID_VAR, "fake")])), "fake");
        assert_eq!(boot_id(env(&[])), tend_runner::current_boot_id().unwrap_or_default());
    }
}
