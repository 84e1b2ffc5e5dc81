//! The JSON documents of the control API (`docs/control-api.md`): what the server sends and the
//! CLI reads. Field names and shapes are a stable interface.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tend_supervisor::{Cause, Exit, ProgramState, Snapshot};

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The app's name.
    pub app: String,
    /// The pid of the running tend.
    pub pid: u32,
    /// When this tend started, RFC 3339 in UTC (`2026-11-22T04:21:04Z`).
    pub started_at: String,
    /// How this start of the app was classified (`TEND_STARTUP_KIND`).
    pub startup_kind: String,
    /// Every program, in configuration order.
    pub programs: Vec<ProgramStatus>,
    /// The open in-flight items, oldest first (`tend inflight begin`).
    #[serde(default)]
    pub inflight: Vec<crate::inflight::Item>,
    /// The in-flight items recovered as interrupted at this start (`TEND_RECOVERY`).
    #[serde(default)]
    pub interrupted: Vec<crate::inflight::Item>,
}

/// One program in [`Status`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramStatus {
    /// Its name.
    pub name: String,
    /// `starting`, `running`, `stopping`, `backing-off`, `stopped`, `done` or `fatal`.
    pub state: String,
    /// The pid of its current run, while it runs.
    pub pid: Option<u32>,
    /// Whole seconds since its current run started, while it runs.
    pub uptime_secs: Option<u64>,
    /// How many times it was restarted in this run of the app.
    pub restarts: u32,
    /// How its last run ended.
    pub last_exit: Option<Exit>,
    /// CPU time (user + system) of its current run's main process, in seconds.
    pub cpu_secs: Option<f64>,
    /// Resident memory of its current run's main process, in bytes.
    pub rss_bytes: Option<u64>,
    /// Where it runs: `native`, `docker`, `nix`.
    pub runner: String,
    /// Why it is stopped, done, fatal or backing off, for people: `cannot start: …`,
    /// `crashed 5 times within 1m`, `crashed (exit code 3); restarting in 2.0s`, …; `null`
    /// while it runs.
    #[serde(default)]
    pub reason: Option<String>,
    /// The same as a word, for programs: `cannot_start`, `crash_loop`, `crashed`, `ended` or
    /// `stop_requested`; `null` while it runs.
    #[serde(default)]
    pub cause: Option<String>,
    /// While its log file cannot be written (a full disk): which file, why, and how many
    /// bytes of output were dropped so far; `null` otherwise.
    #[serde(default)]
    pub log_error: Option<crate::program_log::LogError>,
}

/// The answer to `POST /v1/app/restart` (202): the app is restarting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restarting {
    /// Always `true`.
    pub restarting: bool,
    /// The pid of the tend that restarts (after a re-execution in place, the same pid).
    pub pid: u32,
}

/// The body of `POST /v1/inflight`: `{"id": "…", "label": "…", "program": "…"}` (`label`
/// and `program` optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InflightBegin {
    /// The item's ID.
    pub id: String,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The program that reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
}

/// The answer to `DELETE /v1/inflight/{id}`: `{"id": "…", "removed": true}`; `removed` is
/// `false` when the ID was not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InflightDone {
    /// The item's ID.
    pub id: String,
    /// Whether it was open.
    pub removed: bool,
}

/// `GET /v1/inflight`: the open items and the ones interrupted at this start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InflightList {
    /// The open items, oldest first.
    pub inflight: Vec<crate::inflight::Item>,
    /// The items recovered as interrupted at this start of the app.
    pub interrupted: Vec<crate::inflight::Item>,
}

/// The body of every error response: `{"error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for people.
    pub error: String,
}

/// `POST /v1/stop`: `{"stopping": true, "pid": N}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stopping {
    /// Always `true`: the app is stopping.
    pub stopping: bool,
    /// The pid of the tend that is stopping: it exits once every program is stopped.
    pub pid: u32,
}

/// Why the program of `snapshot` is where it is, as (word, text for people), `now` being the
/// instant of the snapshot's clock; `None` while it runs.
pub fn reason(snapshot: &Snapshot, now: tokio::time::Instant) -> Option<(&'static str, String)> {
    use crate::app::human;
    let restart_in = snapshot
        .restart_at
        .filter(|_| snapshot.state == ProgramState::BackingOff)
        .map(|at| human(at.saturating_duration_since(now)));
    let again = restart_in.as_ref().map(|d| format!("; trying again in {d}")).unwrap_or_default();
    match (&snapshot.cause, snapshot.state) {
        (_, ProgramState::Running | ProgramState::Starting) => None,
        (Some(Cause::CannotStart(error)), _) => {
            Some(("cannot_start", format!("cannot start: {}{again}", error.message())))
        }
        (Some(Cause::CrashLoop { crashes, within }), _) => Some((
            "crash_loop",
            format!(
                "crashed {crashes} times within {}; not restarting (see `tend logs {}`, then \
                 `tend restart {}`)",
                human(*within),
                snapshot.name,
                snapshot.name
            ),
        )),
        (Some(Cause::StopRequested), _) => Some(("stop_requested", "stopped on request".into())),
        (Some(Cause::Ended), _) => Some((
            "ended",
            match snapshot.last_exit {
                Some(exit) => format!("ended with {exit}; its restart policy keeps it so"),
                None => "ended; its restart policy keeps it so".into(),
            },
        )),
        (None, ProgramState::BackingOff) => Some((
            "crashed",
            match (snapshot.last_exit, restart_in) {
                (Some(exit), Some(when)) => format!("ended with {exit}; restarting in {when}"),
                (Some(exit), None) => format!("ended with {exit}; restarting"),
                (None, _) => "restarting".into(),
            },
        )),
        (None, _) => None,
    }
}

/// A program's status from its snapshot, `uptime` being how long its current run has been up,
/// `log_error` the trouble of its log file if it cannot be written now.
pub fn program_status(
    snapshot: &Snapshot,
    uptime: Duration,
    runner: &str,
    log_error: Option<crate::program_log::LogError>,
) -> ProgramStatus {
    let why = reason(snapshot, tokio::time::Instant::now());
    let running = snapshot.state == ProgramState::Running;
    let pid = snapshot.pid.filter(|_| running);
    let stats = pid.and_then(tend_runner::process_stats).filter(|s| !s.state.has_ended());
    ProgramStatus {
        name: snapshot.name.clone(),
        state: snapshot.state.as_str().to_owned(),
        pid,
        uptime_secs: running.then_some(uptime.as_secs()),
        restarts: snapshot.restarts,
        last_exit: snapshot.last_exit,
        cpu_secs: stats.map(|s| (s.cpu_time.as_secs_f64() * 100.0).round() / 100.0),
        rss_bytes: stats.map(|s| s.rss_bytes),
        runner: runner.to_owned(),
        cause: why.as_ref().map(|(word, _)| (*word).to_owned()),
        reason: why.map(|(_, text)| text),
        log_error,
    }
}

/// The message of a 404 for program `name`: `no program `x`; programs: a, b`.
pub fn no_such_program(name: &str, programs: &[String]) -> String {
    format!("no program `{name}`; programs: {}", programs.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn last_exit_is_tagged() {
        assert_eq!(serde_json::to_string(&Exit::Code(3)).unwrap(), r#"{"code":3}"#);
        assert_eq!(serde_json::to_string(&Exit::Signal(9)).unwrap(), r#"{"signal":9}"#);
        let none: Option<Exit> = None;
        assert_eq!(serde_json::to_string(&none).unwrap(), "null");
    }

    #[test]
    fn program_status_of_a_stopped_program_has_nulls() {
        let snapshot = Snapshot {
            name: "web".into(),
            state: ProgramState::Stopped,
            pid: None,
            restarts: 2,
            last_exit: Some(Exit::Signal(15)),
            cause: Some(Cause::StopRequested),
            since: tokio::time::Instant::now(),
            restart_at: None,
        };
        let status = program_status(&snapshot, Duration::from_secs(5), "native", None);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "web", "state": "stopped", "pid": null, "uptime_secs": null,
                "restarts": 2, "last_exit": {"signal": 15}, "cpu_secs": null,
                "rss_bytes": null, "runner": "native",
                "reason": "stopped on request", "cause": "stop_requested", "log_error": null
            })
        );
    }
}
