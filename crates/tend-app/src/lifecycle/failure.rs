//! `last-failure.json`: why the last start of the app failed, for `tend service status`.
//!
//! A tend started by a service manager that cannot start (the app already runs, a bad config)
//! exits and is started again; its error is in `tend.log`, and the last one is kept here too, so
//! that `tend service status` can say it without reading logs.

use std::time::{SystemTime, UNIX_EPOCH};

use tend_api::AppHome;

/// The content of `last-failure.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// When it failed (Unix seconds).
    pub at: u64,
    /// When it failed, RFC 3339 in UTC.
    pub at_text: String,
    /// The error, as tend printed it.
    pub message: String,
}

/// Reports that this start of the app failed with `message`, everywhere someone may look
/// besides the terminal (where `main` prints it): `logs/tend.log` (whose logger must be set
/// up), `last-failure.json`, and under a service manager `logs/service.err` (which
/// `tend service logs` shows where there is no journal).
pub fn report(home: &AppHome, message: &str) {
    crate::logging::error_to_file(message);
    record(home, message);
    let managed = crate::lifecycle::startup::under_service_manager(|key| std::env::var(key).ok());
    if managed {
        use std::io::Write as _;
        let now = humantime::format_rfc3339_seconds(SystemTime::now());
        let path = home.logs().join("service.err");
        let written = tend_fs::open_private_append(&path)
            .and_then(|mut file| writeln!(file, "{now} tend: error: {message}"));
        if let Err(e) = written {
            tracing::debug!("cannot write {}: {e}", path.display());
        }
    }
}

/// Records that this start of the app failed with `message`. Best effort: a failure to record
/// it is logged at debug level (the error itself is reported anyway).
pub fn record(home: &AppHome, message: &str) {
    let now = SystemTime::now();
    let failure = Failure {
        at: now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        at_text: humantime::format_rfc3339_seconds(now).to_string(),
        message: message.to_owned(),
    };
    if let Err(e) = tend_fs::write_json(&home.failure_file(), &failure) {
        tracing::debug!("cannot record the failure: {e}");
    }
}

/// The last failure recorded, if it is newer than the last start that got going (`state.json`):
/// what the app's last attempt to start ended with.
pub fn last(home: &AppHome) -> Option<Failure> {
    let failure =
        tend_fs::load_json_or_default::<Option<Failure>>(&home.failure_file()).ok()?.value?;
    let started = crate::lifecycle::state::load(&home.state_file())
        .ok()
        .and_then(|loaded| loaded.state)
        .map_or(0, |state| state.started_at);
    (failure.at >= started).then_some(failure)
}
