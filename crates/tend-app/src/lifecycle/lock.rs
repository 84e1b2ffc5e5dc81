//! The single-instance lock: `$TEND_HOME/apps/<app>/tend.pid`, held with an OS file lock for
//! the life of the app, holding the pid of its holder.
//!
//! The lock dies with the process that holds it, so a file left by a crashed tend never blocks
//! the next one. The file itself is never deleted: deleting a locked file would let a second
//! tend lock a new file of the same name while the first still runs.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long `--replace` waits for the holder to stop after SIGTERM, before SIGKILL.
pub const REPLACE_GRACE: Duration = Duration::from_secs(10);

/// How long `--replace` waits after SIGKILL before giving up.
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// How long to wait for a new holder to write its pid into the file.
const PID_WAIT: Duration = Duration::from_secs(1);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another tend holds it (and no replacement was asked for).
    #[error("already running (pid {})", pid_text(*.pid))]
    Held {
        /// The holder's pid, if the file names one.
        pid: Option<u32>,
    },
    /// `--replace` asked the holder to stop, and it did not let go in time.
    #[error("the running instance (pid {}) did not stop within {}s, even after SIGKILL", pid_text(*.pid), (REPLACE_GRACE + KILL_WAIT).as_secs())]
    NotReleased {
        /// The holder's pid, if the file names one.
        pid: Option<u32>,
    },
    /// The file cannot be opened, locked or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl LockError {
    /// The message for people: what, and what to do. `command` is how the app was started
    /// (`tend up -f FILE`, `tend run …`), for the `--replace` hint; `hint` is how other
    /// commands name the app (` -f FILE`, ` --name NAME`, or nothing).
    pub fn explain(&self, app: &str, command: &str, hint: &str) -> String {
        match self {
            LockError::Held { pid: Some(pid) } => format!(
                "app `{app}` is already running (pid {pid}); stop it with `tend down{hint}` (or \
                 send SIGTERM to pid {pid}), or take over with `{command} --replace`"
            ),
            LockError::Held { pid: None } => format!(
                "app `{app}` is already running (its pid is not known yet); stop it, or take \
                 over with `{command} --replace`"
            ),
            LockError::NotReleased { .. } => format!(
                "app `{app}`: cannot take over: {self}; check it with `ps -o pid,stat,cmd -p PID`"
            ),
            LockError::Io { .. } => format!(
                "app `{app}`: cannot take the single-instance lock: {self}; set TEND_HOME or \
                 --home to a writable folder"
            ),
        }
    }
}

fn pid_text(pid: Option<u32>) -> String {
    pid.map_or_else(|| "unknown".to_string(), |p| p.to_string())
}

/// The held lock. Dropping it (or ending the process) releases it; the file stays.
#[derive(Debug)]
pub struct AppLock {
    file: File,
    path: PathBuf,
}

impl AppLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the lock at `path` without waiting, and writes this process's pid into it.
    ///
    /// # Errors
    /// [`LockError::Held`] if another process holds it, with its pid if the file names it and
    /// the OS confirms it (see [`AppLock::acquire`]), or [`LockError::Io`].
    pub fn try_acquire(path: &Path) -> Result<AppLock, LockError> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => AppLock::held(file, path),
            Err(TryLockError::WouldBlock) => {
                Err(LockError::Held { pid: confirmed_pid(path, &file) })
            }
            Err(TryLockError::Error(source)) => {
                Err(LockError::Io { action: "locking", path: path.to_path_buf(), source })
            }
        }
    }

    /// Takes the lock at `path`. If another process holds it and `replace` is set, that
    /// process (the pid in the file) gets SIGTERM and up to [`REPLACE_GRACE`] to let go, then
    /// SIGKILL and up to [`KILL_WAIT`] more. Never waits longer.
    ///
    /// # Errors
    /// As [`AppLock::try_acquire`]; with `replace`, [`LockError::NotReleased`] if the holder
    /// did not let go in time.
    pub async fn acquire(path: &Path, replace: bool) -> Result<AppLock, LockError> {
        match AppLock::try_acquire(path) {
            Err(LockError::Held { .. }) => {}
            other => return other,
        }
        let file = open(path)?;
        // Only a pid that holds the lock is named or signalled: the file may still name an
        // earlier holder for a moment after a new one took the lock.
        let pid = holder(path, &file).await;
        // The holder may have let go meanwhile.
        if file.try_lock().is_ok() {
            return AppLock::held(file, path);
        }
        if !replace {
            return Err(LockError::Held { pid });
        }
        let Some(target) = pid.filter(|&p| p != std::process::id()) else {
            return Err(LockError::Held { pid });
        };
        let waiter = lock_in_background(&file, path)?;
        tokio::pin!(waiter);
        tracing::info!("replacing the running instance (pid {target}): sending SIGTERM");
        signal(target, Stop::Term);
        if let Ok(result) = tokio::time::timeout(REPLACE_GRACE, &mut waiter).await {
            result?;
            return AppLock::held(file, path);
        }
        // Another tend may have taken over meanwhile (two replacements at once): never kill it.
        let now = confirmed_pid(path, &file);
        if now != Some(target) {
            return Err(LockError::Held { pid: now });
        }
        tracing::warn!(
            "the running instance (pid {target}) did not stop within {}s: sending SIGKILL",
            REPLACE_GRACE.as_secs()
        );
        signal(target, Stop::Kill);
        match tokio::time::timeout(KILL_WAIT, &mut waiter).await {
            Ok(result) => {
                result?;
                AppLock::held(file, path)
            }
            Err(_) => Err(LockError::NotReleased { pid }),
        }
    }

    /// The lock is ours: replace the file's content with our pid.
    fn held(mut file: File, path: &Path) -> Result<AppLock, LockError> {
        let io = |action| move |source| LockError::Io { action, path: path.to_path_buf(), source };
        file.set_len(0).map_err(io("truncating"))?;
        file.seek(SeekFrom::Start(0)).map_err(io("writing"))?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes()).map_err(io("writing"))?;
        file.flush().map_err(io("writing"))?;
        Ok(AppLock { file, path: path.to_path_buf() })
    }
}

impl Drop for AppLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it explicit.
        let _ = self.file.unlock();
    }
}

/// The pid written in the lock file at `path`, if any.
pub fn read_pid(path: &Path) -> Option<u32> {
    // Bounded and never blocking: whatever is at the path, this returns.
    let bytes = tend_fs::read_state_file(path, 64).ok()?;
    String::from_utf8_lossy(&bytes).trim().parse().ok().filter(|&pid| pid > 0)
}

fn open(path: &Path) -> Result<File, LockError> {
    let mut options = OpenOptions::new();
    // Never truncate here: the file may belong to a running holder.
    options.read(true).write(true).create(true).truncate(false);
    crate::os::private_file(&mut options);
    options.open(path).map_err(|source| LockError::Io {
        action: "opening",
        path: path.to_path_buf(),
        source,
    })
}

/// The pid of the lock's holder: the pid in the file, once the OS confirms that this process
/// holds a lock on the file (Linux: `/proc/locks`; elsewhere the file is trusted). A holder
/// writes its pid right after locking and there is no event for it, so this polls, bounded by
/// [`PID_WAIT`]; `None` if no confirmed pid appeared by then.
async fn holder(path: &Path, file: &File) -> Option<u32> {
    let deadline = tokio::time::Instant::now() + PID_WAIT;
    loop {
        if let Some(pid) = confirmed_pid(path, file) {
            return Some(pid);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pid in the file at `path`, unless the OS names other holders of the lock on `file`.
fn confirmed_pid(path: &Path, file: &File) -> Option<u32> {
    let pid = read_pid(path)?;
    match crate::os::lock_holders(file) {
        Some(holders) if !holders.contains(&pid) => None,
        _ => Some(pid),
    }
}

/// The pids of the granted `FLOCK` lines of a `/proc/locks` text on the file `(dev, ino)`.
/// A line: `1: FLOCK  ADVISORY  WRITE 1417 fe:00:753934 0 EOF` (major and minor in hex);
/// waiters are marked `->` and skipped.
///
/// ```
/// let locks = "1: FLOCK  ADVISORY  WRITE 1417 fe:00:753934 0 EOF\n";
/// assert_eq!(tend_app::lifecycle::lock::flock_holders(locks, 0xfe00, 753_934), [1417]);
/// ```
pub fn flock_holders(locks: &str, dev: u64, ino: u64) -> Vec<u32> {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    locks
        .lines()
        .filter(|line| !line.contains("->"))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(1) != Some(&"FLOCK") {
                return None;
            }
            let pid = fields.get(4)?.parse::<u32>().ok()?;
            let mut id = fields.get(5)?.split(':');
            let same = u64::from_str_radix(id.next()?, 16).ok()? == major
                && u64::from_str_radix(id.next()?, 16).ok()? == minor
                && id.next()?.parse::<u64>().ok()? == ino;
            same.then_some(pid)
        })
        .collect()
}

/// A blocking `lock()` on a blocking thread: resolves when the lock is ours (taken on `file`'s
/// open file description, so held by `file`). There is no event for a released lock; this
/// waits for it without polling. If the future is abandoned, the thread stays blocked until
/// the holder lets go, then releases the lock at once when its handle is closed (as long as
/// `file` is closed too).
fn lock_in_background(
    file: &File,
    path: &Path,
) -> Result<impl Future<Output = Result<(), LockError>> + use<>, LockError> {
    let handle = file.try_clone().map_err(|source| LockError::Io {
        action: "opening",
        path: path.to_path_buf(),
        source,
    })?;
    let path = path.to_path_buf();
    let task = tokio::task::spawn_blocking(move || {
        loop {
            match handle.lock() {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    });
    Ok(async move {
        match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(LockError::Io { action: "locking", path, source }),
            Err(e) => Err(LockError::Io {
                action: "locking",
                path,
                source: std::io::Error::other(e.to_string()),
            }),
        }
    })
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Term,
    Kill,
}

/// Best effort: the holder may already be gone.
fn signal(pid: u32, stop: Stop) {
    let signal = match stop {
        Stop::Term => tend_runner::Signal::Terminate,
        Stop::Kill => tend_runner::Signal::Kill,
    };
    if let Err(e) = crate::os::send_signal(pid, signal) {
        tracing::debug!("signalling pid {pid}: {e}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tend.pid");
        std::fs::write(&path, "999999999 and some junk\n").unwrap();
        let first = AppLock::try_acquire(&path).unwrap();
        assert_eq!(read_pid(&path), Some(std::process::id()));
        match AppLock::try_acquire(&path) {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(first);
        assert!(path.exists(), "the lock file is never deleted");
        let _again = AppLock::try_acquire(&path).unwrap();
    }

    #[test]
    fn proc_locks_lines() {
        let locks = "1: FLOCK  ADVISORY  WRITE 1417 fe:00:753934 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 1500 fe:00:753934 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 1600 fe:00:753934 0 EOF\n\
                     3: FLOCK  ADVISORY  WRITE 1700 fe:00:1 0 EOF\n\
                     4: FLOCK  ADVISORY  WRITE 1800 103:02:753934 0 EOF\n";
        assert_eq!(flock_holders(locks, 0xfe00, 753_934), [1417]);
        assert_eq!(flock_holders(locks, (0x103 << 8) | 2, 753_934), [1800]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_os_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tend.pid");
        let held = AppLock::try_acquire(&path).unwrap();
        let other = open(&path).unwrap();
        assert_eq!(crate::os::lock_holders(&other), Some(vec![std::process::id()]));
        drop(held);
        assert_eq!(crate::os::lock_holders(&other), None);
    }

    #[tokio::test]
    async fn replace_never_signals_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tend.pid");
        let _held = AppLock::try_acquire(&path).unwrap();
        match AppLock::acquire(&path, true).await {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
    }
}
