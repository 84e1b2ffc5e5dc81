//! The pure part: items, the journal of open items (`inflight.json`), the recovery document
//! (`recovery.json`) and the recovery plan of a start. No I/O here.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::InflightError;
use crate::lifecycle::startup::StartupKind;

/// The longest ID, in bytes.
pub const MAX_ID_BYTES: usize = 200;
/// The longest label, in bytes.
pub const MAX_LABEL_BYTES: usize = 1000;
/// The longest program name, in bytes.
pub const MAX_PROGRAM_BYTES: usize = 200;
/// The most items that may be open at once.
pub const MAX_OPEN_ITEMS: usize = 10_000;
/// How old an open item may be and still count as interrupted at the next start, unless
/// `[inflight] max_age` says otherwise: one hour.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

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
pub(crate) fn check_fields(
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

/// The open items: the content of `inflight.json`, `{"items": [...]}`, oldest first. Only a
/// JSON object is read as a journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Object<JournalFields>")]
pub struct Journal {
    /// The open items, in the order they were begun.
    #[serde(default)]
    pub items: Vec<Item>,
}

/// A `T` that was written as a JSON object: serde's derived structs also accept an array of
/// their fields in order, which is not a shape tend writes.
struct Object<T>(T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        serde_json::from_value(serde_json::Value::Object(map))
            .map(Object)
            .map_err(serde::de::Error::custom)
    }
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

#[derive(Deserialize)]
struct JournalFields {
    #[serde(default)]
    items: Vec<Item>,
}

impl From<Object<JournalFields>> for Journal {
    fn from(Object(f): Object<JournalFields>) -> Journal {
        Journal { items: f.items }
    }
}

impl Journal {
    /// Records that `id` is in progress at `now`. A new ID is appended; an open ID keeps its
    /// first `started_at` and takes the new `label` and `program` where they are given
    /// (`begin` is idempotent). Returns the item and whether it is new.
    ///
    /// # Errors
    /// A bound of [`Item::check`] is not met, or [`MAX_OPEN_ITEMS`] are open already.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use tend::inflight::Journal;
    ///
    /// let mut journal = Journal::default();
    /// let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    /// let (_, new) = journal.begin("job-1", Some("first"), None, t0)?;
    /// assert!(new);
    /// let (item, new) = journal.begin("job-1", Some("again"), None, t0 + Duration::from_secs(5))?;
    /// assert!(!new);
    /// assert_eq!((item.label.as_deref(), item.started_at), (Some("again"), t0));
    /// assert!(journal.done("job-1").is_some());
    /// assert!(journal.done("job-1").is_none());
    /// # Ok::<(), tend::inflight::InflightError>(())
    /// ```
    pub fn begin(
        &mut self,
        id: &str,
        label: Option<&str>,
        program: Option<&str>,
        now: SystemTime,
    ) -> Result<(Item, bool), InflightError> {
        check_fields(id, label, program)?;
        if let Some(item) = self.items.iter_mut().find(|i| i.id == id) {
            if let Some(label) = label {
                item.label = Some(label.to_owned());
            }
            if let Some(program) = program {
                item.program = Some(program.to_owned());
            }
            return Ok((item.clone(), false));
        }
        if self.items.len() >= MAX_OPEN_ITEMS {
            return Err(InflightError::TooMany);
        }
        let item = Item {
            id: id.to_owned(),
            label: label.map(str::to_owned),
            program: program.map(str::to_owned),
            started_at: rfc3339::whole_seconds(now),
        };
        self.items.push(item.clone());
        Ok((item, true))
    }

    /// Records that `id` is finished; returns its item if it was open (`done` of an ID that
    /// is not open does nothing).
    pub fn done(&mut self, id: &str) -> Option<Item> {
        let index = self.items.iter().position(|i| i.id == id)?;
        Some(self.items.remove(index))
    }

    /// The open item `id`.
    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Checks a journal read from disk: every item within bounds, no ID twice, at most
    /// [`MAX_OPEN_ITEMS`].
    ///
    /// # Errors
    /// The first problem found.
    pub fn check(&self) -> Result<(), InflightError> {
        if self.items.len() > MAX_OPEN_ITEMS {
            return Err(InflightError::TooMany);
        }
        let mut seen = std::collections::HashSet::new();
        for item in &self.items {
            item.check()?;
            if !seen.insert(item.id.as_str()) {
                return Err(InflightError::Duplicate { id: item.id.clone() });
            }
        }
        Ok(())
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

/// What a start of the app does with the journal the previous run left: see [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPlan {
    /// The items handed over as interrupted, oldest first.
    pub interrupted: Vec<Item>,
    /// Items dropped because they are older than the max age.
    pub expired: Vec<Item>,
    /// Items dropped because this is a first start (no valid `state.json`): there is no
    /// previous run to recover from.
    pub discarded: Vec<Item>,
    /// Whether programs get `TEND_RECOVERY` (else a stale `recovery.json` is removed).
    pub hand_over: bool,
}

/// Plans the recovery of a start of kind `kind` at `now` from `journal`, the items still open
/// when the previous run ended.
///
/// Items younger than `max_age` are interrupted, older ones expire. Programs get
/// `TEND_RECOVERY` after a crash, a reboot or a restart, and after any other start (a plain
/// `start`, a `service_restart`) when something was interrupted; never at a `first_start`,
/// whose leftover items are discarded.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use tend::inflight::{Journal, plan};
/// use tend::lifecycle::startup::StartupKind;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
/// let mut journal = Journal::default();
/// journal.begin("old", None, None, now - Duration::from_secs(7200))?;
/// journal.begin("new", None, None, now - Duration::from_secs(60))?;
/// let plan = plan(journal, StartupKind::CrashRecovery, Duration::from_secs(3600), now);
/// assert!(plan.hand_over);
/// assert_eq!(plan.interrupted[0].id, "new");
/// assert_eq!(plan.expired[0].id, "old");
/// # Ok::<(), tend::inflight::InflightError>(())
/// ```
pub fn plan(
    journal: Journal,
    kind: StartupKind,
    max_age: Duration,
    now: SystemTime,
) -> RecoveryPlan {
    if kind == StartupKind::FirstStart {
        return RecoveryPlan {
            interrupted: Vec::new(),
            expired: Vec::new(),
            discarded: journal.items,
            hand_over: false,
        };
    }
    let (interrupted, expired): (Vec<Item>, Vec<Item>) =
        journal.items.into_iter().partition(|item| item.age(now) < max_age);
    let always = matches!(
        kind,
        StartupKind::CrashRecovery | StartupKind::SystemReboot | StartupKind::Restart
    );
    let hand_over = always || !interrupted.is_empty();
    RecoveryPlan { interrupted, expired, discarded: Vec::new(), hand_over }
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
    fn begin_is_idempotent_and_keeps_the_first_start() {
        let mut journal = Journal::default();
        let (first, new) = journal.begin("a", Some("one"), Some("web"), at(0)).unwrap();
        assert!(new);
        assert_eq!(first.started_at, at(0));
        let (again, new) = journal.begin("a", None, None, at(10)).unwrap();
        assert!(!new);
        assert_eq!(again, first, "no label given: the old one stays");
        let (relabelled, _) = journal.begin("a", Some("two"), None, at(20)).unwrap();
        assert_eq!(relabelled.label.as_deref(), Some("two"));
        assert_eq!(relabelled.program.as_deref(), Some("web"));
        assert_eq!(relabelled.started_at, at(0));
        journal.begin("b", None, None, at(30)).unwrap();
        let ids: Vec<_> = journal.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn done_removes_once() {
        let mut journal = Journal::default();
        journal.begin("a", None, None, at(0)).unwrap();
        journal.begin("b", None, None, at(0)).unwrap();
        assert_eq!(journal.done("a").map(|i| i.id), Some("a".into()));
        assert_eq!(journal.done("a"), None);
        assert_eq!(journal.done("zzz"), None);
        assert!(journal.get("b").is_some());
        assert_eq!(journal.items.len(), 1);
    }

    #[test]
    fn started_at_is_whole_seconds() {
        let mut journal = Journal::default();
        let (item, _) = journal.begin("a", None, None, at(5) + Duration::from_millis(999)).unwrap();
        assert_eq!(item.started_at, at(5));
    }

    #[test]
    fn bounds() {
        let mut journal = Journal::default();
        let now = at(0);
        let long_id = "x".repeat(MAX_ID_BYTES + 1);
        let long_label = "y".repeat(MAX_LABEL_BYTES + 1);
        let long_program = "z".repeat(MAX_PROGRAM_BYTES + 1);
        let cases: Vec<(&str, Option<&str>, Option<&str>, &str)> = vec![
            ("", None, None, "the ID is empty; give each unit of work a name, like job-17"),
            (&long_id, None, None, "the ID is 201 bytes long; at most 200 are allowed"),
            (
                "a\nb",
                None,
                None,
                "the ID contains a control character; use printable characters only",
            ),
            (
                "a",
                Some(&long_label),
                None,
                "the label is 1001 bytes long; at most 1000 are allowed",
            ),
            (
                "a",
                None,
                Some(&long_program),
                "the program name is 201 bytes long; at most 200 are allowed",
            ),
        ];
        for (id, label, program, message) in cases {
            let error = journal.begin(id, label, program, now).unwrap_err();
            assert_eq!(error.to_string(), message);
            assert_eq!(error.http_status(), 400);
        }
        assert!(journal.items.is_empty());
        // At the limits exactly: accepted. Unicode counts in bytes.
        journal
            .begin(&"x".repeat(MAX_ID_BYTES), Some(&"y".repeat(MAX_LABEL_BYTES)), None, now)
            .unwrap();
        journal.begin("ünïcödé / with spaces", None, None, now).unwrap();
    }

    #[test]
    fn the_number_of_open_items_is_capped() {
        let mut journal = Journal::default();
        for i in 0..MAX_OPEN_ITEMS {
            journal.begin(&format!("item-{i}"), None, None, at(0)).unwrap();
        }
        let error = journal.begin("one-more", None, None, at(0)).unwrap_err();
        assert!(matches!(error, InflightError::TooMany));
        assert_eq!(error.http_status(), 409);
        assert_eq!(
            error.to_string(),
            "10000 items are already in flight; finish some with `tend inflight done ID`"
        );
        // An open ID is still updated, and after a `done` there is room again.
        journal.begin("item-0", Some("relabelled"), None, at(0)).unwrap();
        journal.done("item-1");
        journal.begin("one-more", None, None, at(0)).unwrap();
    }

    #[test]
    fn json_shape() {
        let mut journal = Journal::default();
        journal.begin("job-1", Some("first"), Some("worker"), at(0)).unwrap();
        journal.begin("job-2", None, None, at(1)).unwrap();
        let json = serde_json::to_value(&journal).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"items": [
                {"id": "job-1", "label": "first", "program": "worker", "started_at": "2027-01-15T08:00:00Z"},
                {"id": "job-2", "label": null, "program": null, "started_at": "2027-01-15T08:00:01Z"},
            ]})
        );
        let back: Journal = serde_json::from_value(json).unwrap();
        assert_eq!(back, journal);
    }

    #[test]
    fn wrong_shapes_do_not_parse() {
        let bad = [
            r#"[]"#,
            r#"[[]]"#,
            r#"{"items": [["a", null, null, "2026-11-22T04:21:04Z"]]}"#,
            r#"null"#,
            r#"{"items": {}}"#,
            r#"{"items": [{"id": 5, "started_at": "2026-11-22T04:21:04Z"}]}"#,
            r#"{"items": [{"id": "a"}]}"#,
            r#"{"items": [{"id": "a", "started_at": "yesterday"}]}"#,
            r#"{"items": [{"id": "a", "started_at": "2026-11-22T04:21:04+02:00"}]}"#,
            r#"{"items": [{"id": "a", "label": 3, "started_at": "2026-11-22T04:21:04Z"}]}"#,
        ];
        for text in bad {
            assert!(serde_json::from_str::<Journal>(text).is_err(), "{text}");
        }
        // Missing optional fields, unknown fields and fractions of seconds are fine.
        let ok: Journal = serde_json::from_str(
            r#"{"items": [{"id": "a", "started_at": "2026-11-22T04:21:04.5Z", "extra": 1}], "v": 2}"#,
        )
        .unwrap();
        assert_eq!(ok.items[0].label, None);
        assert_eq!(serde_json::from_str::<Journal>("{}").unwrap(), Journal::default());
    }

    #[test]
    fn check_finds_what_serde_cannot() {
        let item = |id: &str| Item { id: id.into(), label: None, program: None, started_at: at(0) };
        let journal = Journal { items: vec![item("a"), item("b"), item("a")] };
        assert_eq!(journal.check().unwrap_err().to_string(), "the ID `a` appears more than once");
        let journal = Journal { items: vec![item("")] };
        assert!(matches!(journal.check(), Err(InflightError::EmptyId)));
        let journal = Journal { items: vec![item("a"), item("b")] };
        journal.check().unwrap();
    }

    #[test]
    fn plans_by_startup_kind() {
        use StartupKind::*;
        let max_age = Duration::from_secs(3600);
        let now = at(10_000);
        let journal = |ages: &[u64]| {
            let mut journal = Journal::default();
            for (i, age) in ages.iter().enumerate() {
                journal
                    .begin(&format!("i{i}"), None, None, now - Duration::from_secs(*age))
                    .unwrap();
            }
            journal
        };
        // (kind, ages of the open items) → (interrupted ids, expired ids, discarded, hand over)
        type Row = (
            StartupKind,
            &'static [u64],
            &'static [&'static str],
            &'static [&'static str],
            usize,
            bool,
        );
        let table: &[Row] = &[
            (FirstStart, &[], &[], &[], 0, false),
            (FirstStart, &[10, 7200], &[], &[], 2, false),
            (CrashRecovery, &[], &[], &[], 0, true),
            (SystemReboot, &[], &[], &[], 0, true),
            (Restart, &[], &[], &[], 0, true),
            (Start, &[], &[], &[], 0, false),
            (ServiceRestart, &[], &[], &[], 0, false),
            (Start, &[7200], &[], &["i0"], 0, false),
            (Start, &[10], &["i0"], &[], 0, true),
            (ServiceRestart, &[3599, 3600, 0], &["i0", "i2"], &["i1"], 0, true),
            (CrashRecovery, &[7200, 10], &["i1"], &["i0"], 0, true),
        ];
        for (row, (kind, ages, interrupted, expired, discarded, hand_over)) in
            table.iter().enumerate()
        {
            let plan = plan(journal(ages), *kind, max_age, now);
            let ids = |items: &[Item]| items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&plan.interrupted), *interrupted, "row {row}");
            assert_eq!(ids(&plan.expired), *expired, "row {row}");
            assert_eq!(plan.discarded.len(), *discarded, "row {row}");
            assert_eq!(plan.hand_over, *hand_over, "row {row}");
        }
        // An item from the future (a clock that went back) is young.
        let future = plan(journal(&[]), Start, max_age, now);
        assert!(future.interrupted.is_empty());
        let mut ahead = Journal::default();
        ahead.begin("f", None, None, now + Duration::from_secs(60)).unwrap();
        assert_eq!(plan(ahead, Start, max_age, now).interrupted.len(), 1);
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
