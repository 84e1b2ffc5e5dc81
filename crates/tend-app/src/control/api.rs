//! From the supervisor's snapshots to the control API's documents (the wire types are
//! [`tend_api`]'s): a program's [`ProgramStatus`], why it is where it is, and the 404 text of an
//! unknown program.

use std::time::Duration;

use tend_api::ProgramStatus;
use tend_supervisor::{Cause, ProgramState, Snapshot};

/// Why the program of `snapshot` is where it is, as (word, text for people), `now` being the
/// instant of the snapshot's clock; `None` while it runs.
pub fn reason(snapshot: &Snapshot, now: tokio::time::Instant) -> Option<(&'static str, String)> {
    use tend_api::human;
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
    placement: tend_api::Placement,
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
        placement,
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
    use tend_supervisor::Exit;

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
        let status = program_status(
            &snapshot,
            Duration::from_secs(5),
            tend_api::Placement::of("native"),
            None,
        );
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
