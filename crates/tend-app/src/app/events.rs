//! The supervisor's events as tend's own log tells them ([`log_event`]), and what stops the app
//! ([`StopSignals`]: SIGINT, SIGTERM, `tend down`).

use tend_supervisor::{Event, EventKind};

use crate::error::AppError;

/// `pid 12`, or, for a run whose host pid is not known (one that ended at once in a
/// container), `no host pid`.
fn pid_text(pid: Option<u32>) -> String {
    pid.map_or_else(|| "no host pid".to_owned(), |pid| format!("pid {pid}"))
}

/// Logs one event of the supervisor to tend's own log.
pub(super) fn log_event(event: &Event) {
    let name = &event.program;
    match &event.kind {
        EventKind::Spawned { pid, restart_count: 0, .. } => {
            tracing::info!("{name}: started ({})", pid_text(*pid));
        }
        EventKind::Spawned { pid, restart_count, reason } => tracing::info!(
            "{name}: started ({}, restart {restart_count}, reason {})",
            pid_text(*pid),
            reason.as_str()
        ),
        EventKind::Exited { exit, uptime } => {
            tracing::info!("{name}: exited with {exit} after {}", tend_api::human(*uptime));
        }
        EventKind::BackingOff { delay, attempt } => {
            tracing::warn!("{name}: restarting in {} (attempt {attempt})", tend_api::human(*delay));
        }
        EventKind::RestartingNow { reason } => {
            tracing::info!("{name}: restarting now ({})", reason.as_str());
        }
        EventKind::Fatal { crashes, within, last_exit } => match last_exit {
            Some(_) => tracing::error!(
                "{name}: fatal: crashed {crashes} time(s) within {}; not restarting (see its log, then `tend up` again)",
                tend_api::human(*within)
            ),
            None => tracing::error!("{name}: fatal: it cannot be started; not retrying"),
        },
        EventKind::Done { exit } => tracing::info!("{name}: done ({exit})"),
        EventKind::Stopped => tracing::info!("{name}: stopped"),
        EventKind::SpawnFailed { error } => {
            tracing::error!("{name}: cannot start: {}", error.message());
        }
    }
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
