//! In-flight work as programs report it: the [`Item`]s, their bounds, the recovery document a
//! program is handed after a crash, a reboot or a restart ([`Recovery`]), and [`Inflight`], the
//! client a Rust program uses to report its work to the running app.
//!
//! A program under tend reports a unit of work (a chat turn, a job, a request that must not be
//! lost) when it starts it and when it is finished. At the next start of the app, the items
//! that were still open are the *interrupted* ones: tend hands them over in `recovery.json`,
//! whose path programs get as `TEND_RECOVERY`:
//!
//! ```json
//! {
//!   "startup_kind": "crash_recovery",
//!   "interrupted": [
//!     {"id": "job-17", "label": "resize photo 17", "program": "worker",
//!      "started_at": "2026-11-22T04:21:04Z"}
//!   ],
//!   "written_at": "2026-11-22T04:25:10Z"
//! }
//! ```
//!
//! IDs (at most [`MAX_ID_BYTES`]), labels (at most [`MAX_LABEL_BYTES`]) and the number of open
//! items (at most [`MAX_OPEN_ITEMS`]) are bounded; [`check_fields`] checks them before any
//! request is sent.

mod error;
mod sdk;

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use error::InflightError;
pub use sdk::Inflight;

use crate::json::Object;

/// The longest ID, in bytes.
pub const MAX_ID_BYTES: usize = 200;
/// The longest label, in bytes.
pub const MAX_LABEL_BYTES: usize = 1000;
/// The longest program name, in bytes.
pub const MAX_PROGRAM_BYTES: usize = 200;
/// The most items that may be open at once.
pub const MAX_OPEN_ITEMS: usize = 10_000;

/// One unit of work in progress.
///
/// As JSON: `{"id": "job-17", "label": "resize photo 17", "program": "worker",
/// "started_at": "2026-11-22T04:21:04Z"}` (`label` and `program` may be `null`). Only a JSON
/// object is read as an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Object<ItemFields>")]
pub struct Item {
    /// What the program calls it: unique among the open items.
    pub id: String,
    /// Free text for people.
    #[serde(default)]
    pub label: Option<String>,
    /// The program that reported it (`TEND_PROGRAM` of the reporter), if known.
    #[serde(default)]
    pub program: Option<String>,
    /// When it was first reported, RFC 3339 in UTC, whole seconds.
    #[serde(with = "rfc3339")]
    pub started_at: SystemTime,
}

impl Item {
    /// How long ago it started at `now` (zero if its start lies in the future).
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.started_at).unwrap_or_default()
    }

    /// Checks the bounds: a non-empty printable ID of at most [`MAX_ID_BYTES`], a label of
    /// at most [`MAX_LABEL_BYTES`], a program name of at most [`MAX_PROGRAM_BYTES`].
    ///
    /// # Errors
    /// The first bound that is not met.
    pub fn check(&self) -> Result<(), InflightError> {
        check_fields(&self.id, self.label.as_deref(), self.program.as_deref())
    }
}

/// Checks an ID, a label and a program name against the bounds of [`Item::check`].
///
/// # Errors
/// The first bound that is not met.
pub fn check_fields(
    id: &str,
    label: Option<&str>,
    program: Option<&str>,
) -> Result<(), InflightError> {
    if id.is_empty() {
        return Err(InflightError::EmptyId);
    }
    if id.len() > MAX_ID_BYTES {
        return Err(InflightError::IdTooLong { len: id.len() });
    }
    if id.chars().any(char::is_control) {
        return Err(InflightError::ControlInId);
    }
    if let Some(label) = label
        && label.len() > MAX_LABEL_BYTES
    {
        return Err(InflightError::LabelTooLong { len: label.len() });
    }
    if let Some(program) = program
        && program.len() > MAX_PROGRAM_BYTES
    {
        return Err(InflightError::ProgramTooLong { len: program.len() });
    }
    Ok(())
}

#[derive(Deserialize)]
struct ItemFields {
    id: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    program: Option<String>,
    #[serde(with = "rfc3339")]
    started_at: SystemTime,
}

impl From<Object<ItemFields>> for Item {
    fn from(Object(f): Object<ItemFields>) -> Item {
        Item { id: f.id, label: f.label, program: f.program, started_at: f.started_at }
    }
}

/// The document a program is handed as `TEND_RECOVERY` (`recovery.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// How this start of the app was classified (`TEND_STARTUP_KIND`).
    pub startup_kind: String,
    /// The items that were open when the previous run ended and are younger than the max age,
    /// oldest first.
    pub interrupted: Vec<Item>,
    /// When tend wrote this document, RFC 3339 in UTC.
    #[serde(with = "rfc3339")]
    pub written_at: SystemTime,
}

impl Recovery {
    /// The recovery document named by `TEND_RECOVERY`, if tend handed one over.
    ///
    /// # Errors
    /// [`InflightError::Recovery`] when the file cannot be read or is not a recovery document.
    pub fn from_env() -> Result<Option<Recovery>, InflightError> {
        match std::env::var_os("TEND_RECOVERY") {
            Some(path) if !path.is_empty() => Recovery::read(std::path::Path::new(&path)).map(Some),
            _ => Ok(None),
        }
    }

    /// Reads a recovery document.
    ///
    /// # Errors
    /// [`InflightError::Recovery`] when the file cannot be read or is not a recovery document.
    pub fn read(path: &std::path::Path) -> Result<Recovery, InflightError> {
        let failed =
            |message: String| InflightError::Recovery { path: path.display().to_string(), message };
        let bytes = tend_fs::read_state_file(path, tend_fs::MAX_STATE_FILE)
            .map_err(|e| failed(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))
    }
}

/// Serde of a [`SystemTime`] as an RFC 3339 string in UTC, whole seconds
/// (`2026-11-22T04:21:04Z`); fractional seconds are accepted when reading.
pub mod rfc3339 {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize as _, Deserializer, Serializer};

    /// `time` without its fraction of a second (times before 1970 are kept as they are).
    pub fn whole_seconds(time: SystemTime) -> SystemTime {
        match time.duration_since(UNIX_EPOCH) {
            Ok(since) => UNIX_EPOCH + Duration::from_secs(since.as_secs()),
            Err(_) => time,
        }
    }

    /// `time` as `2026-11-22T04:21:04Z`.
    pub fn format(time: SystemTime) -> String {
        humantime::format_rfc3339_seconds(time).to_string()
    }

    /// Serialises `time` with [`format()`].
    ///
    /// # Errors
    /// Those of the serializer.
    pub fn serialize<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*time))
    }

    /// Reads an RFC 3339 UTC time (`…Z`).
    ///
    /// # Errors
    /// When the string is not such a time.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SystemTime, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        humantime::parse_rfc3339(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid time {text:?} ({e}); expected RFC 3339 in UTC, like 2026-11-22T04:21:04Z"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn recovery_document() {
        let recovery = Recovery {
            startup_kind: "crash_recovery".into(),
            interrupted: vec![Item {
                id: "a".into(),
                label: Some("l".into()),
                program: None,
                started_at: at(0),
            }],
            written_at: at(60),
        };
        let json = serde_json::to_value(&recovery).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "startup_kind": "crash_recovery",
                "interrupted": [{"id": "a", "label": "l", "program": null, "started_at": "2027-01-15T08:00:00Z"}],
                "written_at": "2027-01-15T08:01:00Z"
            })
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recovery.json");
        tend_fs::write_json(&path, &recovery).unwrap();
        assert_eq!(Recovery::read(&path).unwrap(), recovery);
        std::fs::write(&path, "[]").unwrap();
        let error = Recovery::read(&path).unwrap_err().to_string();
        assert!(error.starts_with(&format!("cannot read the recovery file {}: ", path.display())));
    }
}
