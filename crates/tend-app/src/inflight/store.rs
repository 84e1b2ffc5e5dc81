//! The running tend's side: the journal behind a mutex, saved atomically at every change, and
//! the recovery at start.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tend_api::AppHome;
use tend_api::inflight::{InflightError, Item, Recovery, rfc3339};

use super::journal::{self, Journal};
use crate::lifecycle::startup::StartupKind;

/// The in-flight items of the running app: the open ones (saved in `inflight.json` at every
/// change) and the ones recovered at this start. Only the tend that holds the app's lock
/// creates one; every `begin` and `done` goes through it.
#[derive(Debug)]
pub struct InflightState {
    path: PathBuf,
    journal: Mutex<Journal>,
    interrupted: Vec<Item>,
    /// `false` when `inflight.json` is damaged and could not be moved aside: it is not
    /// overwritten then.
    writable: bool,
}

impl InflightState {
    /// A state with the open items `journal`, saved to `path`, and the items `interrupted` at
    /// this start.
    pub fn new(path: PathBuf, journal: Journal, interrupted: Vec<Item>) -> InflightState {
        InflightState { path, journal: Mutex::new(journal), interrupted, writable: true }
    }

    /// Begins `id` (see [`Journal::begin`]) at `now` and saves the journal. Blocks while the
    /// file is written: call it off the async threads.
    ///
    /// # Errors
    /// A rejected item, or the file cannot be written (then nothing changed).
    pub fn begin(
        &self,
        id: &str,
        label: Option<&str>,
        program: Option<&str>,
        now: SystemTime,
    ) -> Result<(Item, bool), InflightError> {
        self.change(|journal| journal.begin(id, label, program, now))
    }

    /// Ends `id` (see [`Journal::done`]) and saves the journal if it was open. Blocks while
    /// the file is written: call it off the async threads.
    ///
    /// # Errors
    /// The file cannot be written (then nothing changed).
    pub fn done(&self, id: &str) -> Result<Option<Item>, InflightError> {
        self.change(|journal| Ok(journal.done(id)))
    }

    /// The open items, oldest first.
    pub fn open(&self) -> Vec<Item> {
        self.lock().items.clone()
    }

    /// The items recovered as interrupted at this start.
    pub fn interrupted(&self) -> &[Item] {
        &self.interrupted
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `edit` to a copy of the journal under the lock, saves the copy if it differs,
    /// and only then makes it the journal: a failed save changes nothing.
    fn change<T>(
        &self,
        edit: impl FnOnce(&mut Journal) -> Result<T, InflightError>,
    ) -> Result<T, InflightError> {
        let mut journal = self.lock();
        let mut next = journal.clone();
        let result = edit(&mut next)?;
        if next != *journal {
            if !self.writable {
                return Err(InflightError::Unavailable { path: self.path.display().to_string() });
            }
            tend_fs::write_json(&self.path, &next).map_err(InflightError::Store)?;
            *journal = next;
        }
        Ok(result)
    }
}

/// What [`recover`] found and did.
#[derive(Debug)]
pub struct Recovered {
    /// `recovery.json`, when programs get `TEND_RECOVERY`.
    pub file: Option<PathBuf>,
    /// The in-flight state of this run: empty open items, and the interrupted ones.
    pub state: std::sync::Arc<InflightState>,
}

/// Reads `inflight.json` at a start of kind `kind` (right after it was classified, while
/// holding the app's lock), hands the interrupted items younger than `max_age` over in
/// `recovery.json` where [`journal::plan`] says so (else removes a stale `recovery.json`), and
/// clears `inflight.json`: `recovery.json` is written first, so a crash in between loses
/// nothing. Never fails: problems are logged, and a damaged file is moved aside.
pub fn recover(home: &AppHome, kind: StartupKind, max_age: Duration) -> Recovered {
    recover_at(home, kind, max_age, SystemTime::now())
}

fn recover_at(home: &AppHome, kind: StartupKind, max_age: Duration, now: SystemTime) -> Recovered {
    let path = home.inflight_file();
    let recovery_path = home.recovery_file();
    let Some((journal, existed)) = load(&path) else {
        // Damaged and not movable: leave it alone, and do not overwrite it later either.
        remove_stale(&recovery_path);
        let mut state = InflightState::new(path, Journal::default(), Vec::new());
        state.writable = false;
        return Recovered { file: None, state: std::sync::Arc::new(state) };
    };
    let plan = journal::plan(journal.clone(), kind, max_age, now);
    let app = &home.app;
    for item in &plan.expired {
        tracing::info!(
            "{app}: in-flight item `{}` started {} ago, over the max age of {}: dropped",
            item.id,
            tend_api::human(item.age(now)),
            humantime::format_duration(max_age)
        );
    }
    if !plan.discarded.is_empty() {
        let ids: Vec<&str> = plan.discarded.iter().map(|i| i.id.as_str()).collect();
        tracing::warn!(
            "{app}: first start (no valid state.json): {} in-flight item(s) from an earlier run dropped: {}",
            ids.len(),
            ids.join(", ")
        );
    }
    let mut file = None;
    if plan.hand_over {
        let document = Recovery {
            startup_kind: kind.as_str().to_owned(),
            interrupted: plan.interrupted.clone(),
            written_at: rfc3339::whole_seconds(now),
        };
        if let Err(e) = tend_fs::write_json(&recovery_path, &document) {
            // Keep the items for the next start rather than lose them.
            tracing::warn!(
                "{app}: cannot hand over the interrupted work (no TEND_RECOVERY): {}",
                crate::error::chain(&e)
            );
            remove_stale(&recovery_path);
            let state = InflightState::new(path, journal, Vec::new());
            return Recovered { file: None, state: std::sync::Arc::new(state) };
        }
        if !plan.interrupted.is_empty() {
            let ids: Vec<&str> = plan.interrupted.iter().map(|i| i.id.as_str()).collect();
            tracing::info!(
                "{app}: {} interrupted in-flight item(s) handed over in {}: {}",
                ids.len(),
                recovery_path.display(),
                ids.join(", ")
            );
        }
        file = Some(recovery_path);
    } else {
        remove_stale(&recovery_path);
    }
    if existed && let Err(e) = tend_fs::write_json(&path, &Journal::default()) {
        tracing::warn!("{app}: cannot clear {}: {}", path.display(), crate::error::chain(&e));
    }
    let state = InflightState::new(path, Journal::default(), plan.interrupted);
    Recovered { file, state: std::sync::Arc::new(state) }
}

/// The journal at `path` and whether the file exists; a missing file is an empty journal, a
/// damaged or wrong-shaped one is moved aside (and is empty). `None` when a damaged file
/// cannot be moved aside.
fn load(path: &Path) -> Option<(Journal, bool)> {
    let existed = path.exists();
    let loaded = match tend_fs::load_json_or_default::<Journal>(path) {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!(
                "{}; in-flight work is not recorded in this run",
                crate::error::chain(&e)
            );
            return None;
        }
    };
    if loaded.quarantined.is_some() {
        return Some((Journal::default(), existed));
    }
    match loaded.value.check() {
        Ok(()) => Some((loaded.value, existed)),
        Err(problem) => match tend_fs::quarantine(path) {
            Ok(moved) => {
                tracing::warn!(
                    file = %path.display(),
                    moved_to = %moved.display(),
                    "state file is damaged ({problem}); it was moved aside and defaults are used"
                );
                Some((Journal::default(), existed))
            }
            Err(e) => {
                tracing::error!(
                    "{} ({problem}); in-flight work is not recorded in this run",
                    crate::error::chain(&e)
                );
                None
            }
        },
    }
}

fn remove_stale(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::debug!("removed the stale {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot remove the stale {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn home() -> (tempfile::TempDir, AppHome) {
        let dir = tempfile::tempdir().unwrap();
        let home = AppHome::new(dir.path(), "demo");
        home.create().unwrap();
        (dir, home)
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    fn on_disk(home: &AppHome) -> Journal {
        serde_json::from_slice(&std::fs::read(home.inflight_file()).unwrap()).unwrap()
    }

    #[test]
    fn every_change_is_saved() {
        let (_dir, home) = home();
        let state = InflightState::new(home.inflight_file(), Journal::default(), Vec::new());
        state.begin("a", Some("one"), Some("web"), at(0)).unwrap();
        state.begin("b", None, None, at(1)).unwrap();
        assert_eq!(on_disk(&home).items.len(), 2);
        assert_eq!(state.done("a").unwrap().map(|i| i.id), Some("a".into()));
        assert_eq!(state.done("a").unwrap(), None);
        assert_eq!(on_disk(&home), Journal { items: state.open() });
        assert_eq!(state.open()[0].id, "b");
    }

    #[test]
    fn a_failed_save_changes_nothing() {
        let (dir, home) = home();
        let missing = dir.path().join("no-such-folder").join("inflight.json");
        let state = InflightState::new(missing, Journal::default(), Vec::new());
        let error = state.begin("a", None, None, at(0)).unwrap_err();
        assert!(matches!(error, InflightError::Store(_)), "{error}");
        assert_eq!(error.http_status(), 500);
        assert!(state.open().is_empty());
        drop(home);
    }

    #[test]
    fn concurrent_begins_are_all_kept() {
        let (_dir, home) = home();
        let state = std::sync::Arc::new(InflightState::new(
            home.inflight_file(),
            Journal::default(),
            vec![],
        ));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let state = state.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        state.begin(&format!("t{t}-{i}"), None, None, at(0)).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(on_disk(&home).items.len(), 80);
    }

    #[test]
    fn recovery_after_a_crash_hands_over_and_clears() {
        let (_dir, home) = home();
        let mut journal = Journal::default();
        journal.begin("old", None, None, at(0)).unwrap();
        journal.begin("young", Some("l"), Some("web"), at(7000)).unwrap();
        tend_fs::write_json(&home.inflight_file(), &journal).unwrap();
        let recovered = recover_at(&home, StartupKind::CrashRecovery, HOUR, at(7200));
        assert_eq!(recovered.file, Some(home.recovery_file()));
        let document = Recovery::read(&home.recovery_file()).unwrap();
        assert_eq!(document.startup_kind, "crash_recovery");
        assert_eq!(document.written_at, at(7200));
        assert_eq!(document.interrupted, vec![journal.get("young").unwrap().clone()]);
        assert_eq!(recovered.state.interrupted(), document.interrupted.as_slice());
        assert!(recovered.state.open().is_empty());
        assert_eq!(on_disk(&home), Journal::default());
    }

    #[test]
    fn nothing_to_hand_over_removes_a_stale_recovery_file() {
        let (_dir, home) = home();
        std::fs::write(home.recovery_file(), "{}").unwrap();
        let recovered = recover_at(&home, StartupKind::Start, HOUR, at(0));
        assert_eq!(recovered.file, None);
        assert!(!home.recovery_file().exists());
        assert!(!home.inflight_file().exists(), "no file is created when there was none");
    }

    #[test]
    fn a_restart_hands_over_even_when_nothing_was_interrupted() {
        let (_dir, home) = home();
        let recovered = recover_at(&home, StartupKind::Restart, HOUR, at(0));
        assert_eq!(recovered.file, Some(home.recovery_file()));
        let document = Recovery::read(&home.recovery_file()).unwrap();
        assert_eq!((document.startup_kind.as_str(), document.interrupted.len()), ("restart", 0));
    }

    #[test]
    fn damaged_and_wrong_shaped_files_are_moved_aside() {
        for text in
            ["{ torn", "[1, 2]", r#"{"items": [{"id": "", "started_at": "2026-11-22T04:21:04Z"}]}"#]
        {
            let (dir, home) = home();
            std::fs::write(home.inflight_file(), text).unwrap();
            let recovered = recover_at(&home, StartupKind::CrashRecovery, HOUR, at(0));
            let moved: Vec<_> = std::fs::read_dir(&home.dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("inflight.json.corrupt-"))
                .collect();
            assert_eq!(moved.len(), 1, "{text}: {moved:?}");
            assert_eq!(std::fs::read_to_string(home.dir.join(&moved[0])).unwrap(), text);
            assert!(recovered.state.interrupted().is_empty());
            assert_eq!(on_disk(&home), Journal::default());
            // The state works as usual afterwards.
            recovered.state.begin("a", None, None, at(0)).unwrap();
            drop(dir);
        }
    }
}
