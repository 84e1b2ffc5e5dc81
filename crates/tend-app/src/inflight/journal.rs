//! The pure part: the journal of open items (`inflight.json`) and the recovery plan of a
//! start. No I/O here. The items, their bounds and the recovery document are
//! [`tend_api::inflight`]'s.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tend_api::inflight::{InflightError, Item, MAX_OPEN_ITEMS, check_fields, rfc3339};
use tend_api::json::Object;

use crate::lifecycle::startup::StartupKind;

/// How old an open item may be and still count as interrupted at the next start, unless
/// `[inflight] max_age` says otherwise: one hour.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// The open items: the content of `inflight.json`, `{"items": [...]}`, oldest first. Only a
/// JSON object is read as a journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Object<JournalFields>")]
pub struct Journal {
    /// The open items, in the order they were begun.
    #[serde(default)]
    pub items: Vec<Item>,
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
    /// use tend_app::inflight::Journal;
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
    /// # Ok::<(), tend_api::inflight::InflightError>(())
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
/// use tend_app::inflight::{Journal, plan};
/// use tend_app::lifecycle::startup::StartupKind;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
/// let mut journal = Journal::default();
/// journal.begin("old", None, None, now - Duration::from_secs(7200))?;
/// journal.begin("new", None, None, now - Duration::from_secs(60))?;
/// let plan = plan(journal, StartupKind::CrashRecovery, Duration::from_secs(3600), now);
/// assert!(plan.hand_over);
/// assert_eq!(plan.interrupted[0].id, "new");
/// assert_eq!(plan.expired[0].id, "old");
/// # Ok::<(), tend_api::inflight::InflightError>(())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tend_api::inflight::{MAX_ID_BYTES, MAX_LABEL_BYTES, MAX_PROGRAM_BYTES};

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
}
