//! The evaluation lock of a cache slot: an OS file lock (released when its holder ends, so a
//! crashed tend never blocks the next), waited for in a blocking thread, bounded.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::Duration;

use super::error::NixError;

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub(crate) struct SlotLock {
    _file: File,
}

/// Takes the lock at `path`, waiting up to `limit` for another holder to let go; says whether
/// it had to wait.
///
/// # Errors
/// [`NixError::LockTimeout`], or [`NixError::Io`] when the file cannot be opened or locked.
pub(crate) async fn acquire(
    path: &Path,
    flake_dir: &Path,
    limit: Duration,
) -> Result<(SlotLock, bool), NixError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| NixError::io("opening the evaluation lock", path, e))?;
    match file.try_lock() {
        Ok(()) => return Ok((SlotLock { _file: file }, false)),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(NixError::io("locking", path, e));
        }
    }
    tracing::info!("waiting for another tend evaluating the dev shell of {}", flake_dir.display());
    // If the wait times out, the thread keeps waiting; the lock it may get then is released
    // at once, when the thread ends and drops the file.
    let waiter = tokio::task::spawn_blocking(move || file.lock().map(|()| file));
    match tokio::time::timeout(limit, waiter).await {
        Ok(Ok(Ok(file))) => Ok((SlotLock { _file: file }, true)),
        Ok(Ok(Err(e))) => Err(NixError::io("locking", path, e)),
        Ok(Err(join)) => Err(NixError::io("locking", path, std::io::Error::other(join))),
        Err(_) => Err(NixError::LockTimeout {
            dir: flake_dir.to_path_buf(),
            lock: path.to_path_buf(),
            waited: limit,
        }),
    }
}
