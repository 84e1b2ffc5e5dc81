//! The JSON documents of the control API (`docs/control-api.md`): what the server sends and its
//! clients read. Field names and shapes are a stable interface.
//!
//! ```
//! let body = r#"{"error": "no program `x`; programs: web"}"#;
//! let error: tend_api::ApiError = serde_json::from_str(body)?;
//! assert_eq!(error.error, "no program `x`; programs: web");
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use tend_runner::Exit;

use crate::inflight::Item;

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
    pub inflight: Vec<Item>,
    /// The in-flight items recovered as interrupted at this start (`TEND_RECOVERY`).
    #[serde(default)]
    pub interrupted: Vec<Item>,
    /// What there is to say about updates: a newer version, an upgrade at this start, or one
    /// that was rolled back. Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateNotice>,
}

/// The `update` of [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateNotice {
    /// The version this tend runs.
    pub version: String,
    /// A newer release, found by the background check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<String>,
    /// The version this start was upgraded from (`tend update`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgraded_from: Option<String>,
    /// The version whose upgrade was rolled back, because it did not come up healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
    /// All of it in words, for people.
    pub message: String,
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
    /// Where it runs: `runner`, and for a docker program its container and image, or why it
    /// runs natively instead.
    #[serde(flatten)]
    pub placement: Placement,
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
    pub log_error: Option<LogError>,
}

/// Where a program runs, as `tend status` shows it (its fields are [`ProgramStatus`]'s).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Placement {
    /// Where it runs now: `native`, `docker`, `nix`.
    pub runner: String,
    /// A docker program's container (`tend-<app>`); absent for others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// A docker program's image; absent for others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Why it does not run as its runner would best: a docker program natively
    /// (`fallback = "native"`), or a nix program wrapped (`mode` is `wrapped`); absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// A nix program's flake folder; absent for others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flake: Option<String>,
    /// How a nix program runs in its dev shell, once prepared: `materialised` (its variables
    /// applied directly) or `wrapped` (through `nix develop`, `fallback` says why); absent for
    /// others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Why `runner = "auto"` chose `runner`; absent for a configured runner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<String>,
}

impl Placement {
    /// A program of `runner` with nothing else to say.
    pub fn of(runner: impl Into<String>) -> Placement {
        Placement { runner: runner.into(), ..Placement::default() }
    }
}

/// One event of a running app, as `GET /v1/events` streams it: one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppEvent {
    /// When it happened: RFC 3339, UTC, with microseconds.
    pub at: String,
    /// What happened: `started`, `exited`, `backing_off`, `restarting`, `fatal`, `done`,
    /// `stopped`, `spawn_failed`, `update` (a newer tend, an upgrade or a rollback), or
    /// `lagged` (this follower fell behind and missed some).
    pub kind: String,
    /// The program it is about; absent for the app's own events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The same words as the line in `tend.log`.
    pub message: String,
}

/// A log file that cannot be written, as `tend status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogError {
    /// The file, relative to the app's folder: `logs/web.log`.
    pub path: String,
    /// Why: `no space left`, or the OS's message.
    pub error: String,
    /// The bytes of output dropped so far in this episode.
    pub dropped_bytes: u64,
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
    pub inflight: Vec<Item>,
    /// The items recovered as interrupted at this start of the app.
    pub interrupted: Vec<Item>,
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
}
