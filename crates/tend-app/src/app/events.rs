//! The supervisor's events as tend tells them, in its log and on `GET /v1/events`
//! ([`log_event`]), and what stops the app
//! ([`StopSignals`]: SIGINT, SIGTERM, `tend down`).

use tend_supervisor::{Event, EventKind};

use crate::control::events::EventHub;
use crate::error::AppError;

/// `pid 12`, or, for a run whose host pid is not known (one that ended at once in a
/// container), `no host pid`.
fn pid_text(pid: Option<u32>) -> String {
    pid.map_or_else(|| "no host pid".to_owned(), |pid| format!("pid {pid}"))
}

/// How bad an event is, for tend's own log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Info,
    Warn,
    Error,
}

/// One event of the supervisor as tend tells it: its level, its kind (the word of
/// `GET /v1/events`) and its text (`web: started (pid 12)`).
fn describe(event: &Event) -> (Level, &'static str, String) {
    let name = &event.program;
    match &event.kind {
        EventKind::Spawned { pid, restart_count: 0, .. } => {
            (Level::Info, "started", format!("{name}: started ({})", pid_text(*pid)))
        }
        EventKind::Spawned { pid, restart_count, reason } => (
            Level::Info,
            "started",
            format!(
                "{name}: started ({}, restart {restart_count}, reason {})",
                pid_text(*pid),
                reason.as_str()
            ),
        ),
        EventKind::Exited { exit, uptime } => (
            Level::Info,
            "exited",
            format!("{name}: exited with {exit} after {}", tend_api::human(*uptime)),
        ),
        EventKind::BackingOff { delay, attempt } => (
            Level::Warn,
            "backing_off",
            format!("{name}: restarting in {} (attempt {attempt})", tend_api::human(*delay)),
        ),
        EventKind::RestartingNow { reason } => {
            (Level::Info, "restarting", format!("{name}: restarting now ({})", reason.as_str()))
        }
        EventKind::Fatal { crashes, within, last_exit } => match last_exit {
            Some(_) => (
                Level::Error,
                "fatal",
                format!(
                    "{name}: fatal: crashed {crashes} time(s) within {}; not restarting (see its log, then `tend up` again)",
                    tend_api::human(*within)
                ),
            ),
            None => (
                Level::Error,
                "fatal",
                format!("{name}: fatal: it cannot be started; not retrying"),
            ),
        },
        EventKind::Done { exit } => (Level::Info, "done", format!("{name}: done ({exit})")),
        EventKind::Stopped => (Level::Info, "stopped", format!("{name}: stopped")),
        EventKind::SpawnFailed { error } => {
            (Level::Error, "spawn_failed", format!("{name}: cannot start: {}", error.message()))
        }
    }
}

/// Tells one event of the supervisor: in tend's own log, and to whoever follows
/// `GET /v1/events`.
pub(super) fn log_event(event: &Event, hub: &EventHub) {
    let (level, kind, text) = describe(event);
    match level {
        Level::Info => tracing::info!("{text}"),
        Level::Warn => tracing::warn!("{text}"),
        Level::Error => tracing::error!("{text}"),
    }
    hub.publish(kind, Some(&event.program), text);
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), and stop requests (the control API's `tend down`).
pub(super) struct StopSignals {
    signals: crate::os::StopSignals,
    requests: tokio::sync::mpsc::UnboundedReceiver<&'static str>,
    requester: tokio::sync::mpsc::UnboundedSender<&'static str>,
}

impl StopSignals {
    pub(super) fn new() -> Result<Self, AppError> {
        let signals = crate::os::StopSignals::listen().map_err(AppError::Signals)?;
        let (requester, requests) = tokio::sync::mpsc::unbounded_channel();
        Ok(StopSignals { signals, requests, requester })
    }

    /// Where a stop request (with its reason) goes: it stops the app as a signal does.
    pub(super) fn requester(&self) -> tokio::sync::mpsc::UnboundedSender<&'static str> {
        self.requester.clone()
    }

    pub(super) async fn recv(&mut self) -> &'static str {
        tokio::select! {
            why = self.signals.recv() => why,
            Some(why) = self.requests.recv() => why,
        }
    }
}
