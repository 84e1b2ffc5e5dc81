//! Run records: one durable file per live process group, written before the program runs, so
//! that a later tend can find and end what a crashed tend left behind.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{RunnerError, os};

/// The current format of [`RunRecord`].
pub const RECORD_VERSION: u32 = 1;

/// Who started a process group: a tend process, identified by pid and start time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// The owner's pid.
    pub pid: u32,
    /// The owner's start time (see [`crate::ProcInfo::start_time`]).
    pub start_time: u64,
}

impl Owner {
    /// This process.
    pub fn current() -> Owner {
        static CURRENT: OnceLock<Owner> = OnceLock::new();
        CURRENT
            .get_or_init(|| {
                let pid = std::process::id();
                let start_time = os::process_info(pid).map(|i| i.start_time).unwrap_or(0);
                Owner { pid, start_time }
            })
            .clone()
    }

    /// Whether the owner is still running (same pid, same start time, same boot).
    pub fn is_alive(&self, record_boot_id: &str) -> bool {
        current_boot_id().is_some_and(|boot| same_boot(&boot, record_boot_id))
            && os::process_info(self.pid)
                .is_some_and(|i| i.start_time == self.start_time && !i.state.has_ended())
    }
}

/// How far apart two boot times (in seconds, the boot id where the OS has none) may be and
/// still be the same boot: they are computed as "now minus uptime", so they jitter by a second
/// and move with clock corrections; two real boots are further apart than that.
pub const BOOT_TIME_TOLERANCE_SECS: u64 = 10;

/// Whether two boot ids name the same boot: equal, or both boot times (whole seconds) within
/// [`BOOT_TIME_TOLERANCE_SECS`] of each other.
///
/// ```
/// assert!(tend_runner::same_boot("2f1c-aa", "2f1c-aa"));
/// assert!(!tend_runner::same_boot("2f1c-aa", "77d0-bb"));
/// assert!(tend_runner::same_boot("1764100000", "1764100001"));
/// assert!(!tend_runner::same_boot("1764100000", "1764103600"));
/// ```
pub fn same_boot(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a.abs_diff(b) <= BOOT_TIME_TOLERANCE_SECS,
        _ => false,
    }
}

/// The boot id of this machine, read once.
pub fn current_boot_id() -> Option<String> {
    static BOOT: OnceLock<Option<String>> = OnceLock::new();
    BOOT.get_or_init(|| os::boot_id().ok()).clone()
}

/// One live process group, as written to `runs/<pgid>.json`. Holds no environment values: the
/// environment may hold secrets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// Format version ([`RECORD_VERSION`]).
    pub version: u32,
    /// The app the program belongs to.
    pub app: String,
    /// The program's name.
    pub program: String,
    /// The process group id (= the leader's pid).
    pub pgid: u32,
    /// The leader's pid.
    pub pid: u32,
    /// The leader's start time; a pid with another start time is another process.
    pub start_time: u64,
    /// The boot the record was written in.
    pub boot_id: String,
    /// The command line as configured (secrets come through the environment, never argv).
    pub argv: Vec<String>,
    /// The working directory.
    pub cwd: PathBuf,
    /// The run token in the environment of every process of this run (`TEND_RUN_ID`).
    pub run_id: String,
    /// The tend process that started it.
    pub owner: Owner,
    /// When it started, in seconds since the Unix epoch.
    pub started_at: u64,
}

impl RunRecord {
    pub(crate) fn now_secs() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

/// A record that could not be read, as found by [`RunRegistry::list`].
#[derive(Debug)]
pub struct DamagedRecord {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

/// The directory of run records of one app (`$TEND_HOME/apps/<app>/runs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRegistry {
    dir: PathBuf,
}

impl RunRegistry {
    /// A registry in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RunRegistry { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, pgid: u32) -> PathBuf {
        self.dir.join(format!("{pgid}.json"))
    }

    /// Writes `record` durably (atomic write, fsync).
    ///
    /// # Errors
    /// When the directory cannot be created or the file written.
    pub fn write(&self, record: &RunRecord) -> Result<(), RunnerError> {
        create_private_dir(&self.dir)?;
        tend_fs::write_json(&self.path_of(record.pgid), record)?;
        Ok(())
    }

    /// Removes the record of `pgid`; a missing record is not an error.
    ///
    /// # Errors
    /// When the file exists but cannot be removed.
    pub fn remove(&self, pgid: u32) -> Result<(), RunnerError> {
        match std::fs::remove_file(self.path_of(pgid)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RunnerError::io(format!("removing run record of group {pgid}"), e)),
        }
    }

    /// Every record in the directory: the readable ones, and the damaged ones apart (including
    /// anything that is not a regular file, such as a FIFO: it is never read). Temp files and
    /// set-aside files are skipped.
    pub fn list(&self) -> (Vec<(PathBuf, RunRecord)>, Vec<DamagedRecord>) {
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return (good, bad) };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.'))
            })
            .collect();
        paths.sort();
        for path in paths {
            // Never blocks (a FIFO is refused, not opened for a writer) and is bounded.
            match tend_fs::read_state_file(&path, tend_fs::MAX_STATE_FILE)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<RunRecord>(&bytes).map_err(|e| e.to_string())
                }) {
                Ok(record) => good.push((path, record)),
                Err(problem) => bad.push(DamagedRecord { path, problem }),
            }
        }
        (good, bad)
    }
}

/// Creates `dir` (and parents) private to the user ([`tend_fs::create_private_dir`]).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), RunnerError> {
    if dir.is_dir() {
        return Ok(());
    }
    tend_fs::create_private_dir(dir)
        .map_err(|e| RunnerError::io(format!("creating {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pgid: u32) -> RunRecord {
        RunRecord {
            version: RECORD_VERSION,
            app: "a".into(),
            program: "p".into(),
            pgid,
            pid: pgid,
            start_time: 1,
            boot_id: "b".into(),
            argv: vec!["x".into()],
            cwd: "/".into(),
            run_id: "t".into(),
            owner: Owner { pid: 1, start_time: 1 },
            started_at: 0,
        }
    }

    #[test]
    fn write_list_remove() {
        let dir = tempfile::tempdir().unwrap();
        let reg = RunRegistry::new(dir.path().join("runs"));
        reg.write(&record(10)).unwrap();
        reg.write(&record(11)).unwrap();
        std::fs::write(reg.dir().join("12.json"), b"{broken").unwrap();
        let (good, bad) = reg.list();
        assert_eq!(good.iter().map(|(_, r)| r.pgid).collect::<Vec<_>>(), vec![10, 11]);
        assert_eq!(bad.len(), 1);
        reg.remove(10).unwrap();
        reg.remove(10).unwrap();
        assert_eq!(reg.list().0.len(), 1);
    }

    #[test]
    fn owner_current_is_alive() {
        let me = Owner::current();
        assert_eq!(me.pid, std::process::id());
        assert!(me.is_alive(&current_boot_id().unwrap()));
        assert!(!me.is_alive("another-boot"));
        assert!(
            !Owner { pid: me.pid, start_time: me.start_time + 1 }
                .is_alive(&current_boot_id().unwrap())
        );
    }
}
