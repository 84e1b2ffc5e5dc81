//! A cache of parsed dotenv files that notices edits, and the permission check for them.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::entry::Parsed;
use super::parse::parse_bytes;
use crate::FsError;

/// How long after its last change a file's timestamps are trusted to reveal the next change.
/// File timestamps are coarse (a few milliseconds on Linux, 2 s on FAT), so a rewrite of the
/// same size within the same tick as the previous one leaves them unchanged. Until this much
/// time has passed since a file's last change, [`DotenvCache::get`] reads it again (cheaply:
/// unchanged content keeps the cached result).
const SETTLE: Duration = Duration::from_secs(2);

/// Parsed dotenv files, re-read when they change, so that an edit takes effect at the next
/// spawn without a restart.
///
/// A file is re-read when its size or modification time changes (on Unix also its change
/// time, inode or device, which catch a same-size rewrite that restored the modification
/// time, and an editor's replace-by-rename). A missing file gives an empty [`Parsed`] and is
/// remembered as missing until it appears. Unchanged content gives the very same [`Arc`].
///
/// Each time a file's content is (re)parsed, every [`Problem`](super::Problem) is logged once
/// at WARN level as `FILE:LINE: message`, and so is [`permission_warning`] when the file's
/// mode changed to one that others can access: callers need not log them again.
///
/// The methods block on file I/O (a `stat`, and a read when the file changed); dotenv files
/// are small. Thread-safe: share it behind an `Arc`.
///
/// ```
/// # fn main() -> Result<(), tend_fs::FsError> {
/// use std::sync::Arc;
/// use tend_fs::dotenv::DotenvCache;
///
/// let dir = std::env::temp_dir().join(format!("tend-fs-doc-cache-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| tend_fs::FsError::io("creating", &dir, e))?;
/// let path = dir.join(".env");
/// let cache = DotenvCache::new();
/// assert!(cache.get(&path)?.entries.is_empty()); // missing: empty
///
/// tend_fs::write_text(&path, "TOKEN=one\n")?;
/// let first = cache.get(&path)?;
/// assert_eq!(first.get("TOKEN"), Some("one"));
/// assert!(Arc::ptr_eq(&first, &cache.get(&path)?)); // unchanged: the same Arc
///
/// tend_fs::write_text(&path, "TOKEN=second\n")?;
/// assert_eq!(cache.get(&path)?.get("TOKEN"), Some("second"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DotenvCache {
    files: Mutex<HashMap<PathBuf, Cached>>,
    reads: AtomicU64,
    settle: Duration,
}

#[derive(Debug, Clone)]
struct Cached {
    /// `None` while the file is missing.
    stamp: Option<Stamp>,
    /// Whether `stamp` was old enough when taken that any later change must alter it.
    settled: bool,
    /// A hash of the content `parsed` came from; `None` for a missing file.
    content: Option<u64>,
    /// The mode last warned about, so that a warning is logged once per mode.
    warned_mode: Option<u32>,
    parsed: Arc<Parsed>,
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    id: crate::os::FileId,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Stamp { len: meta.len(), modified: meta.modified().ok(), id: crate::os::FileId::of(meta) }
    }

    /// When the file last changed, as far as its timestamps tell.
    fn last_change(&self) -> Option<SystemTime> {
        self.id.changed().max(self.modified)
    }

    fn mode(&self) -> Option<u32> {
        self.id.mode()
    }
}

impl Default for DotenvCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DotenvCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::with_settle_time(SETTLE)
    }

    fn with_settle_time(settle: Duration) -> Self {
        DotenvCache { files: Mutex::new(HashMap::new()), reads: AtomicU64::new(0), settle }
    }

    /// The parsed content of the dotenv file at `path` (empty if it does not exist), read
    /// again only if it changed since the last call.
    ///
    /// # Errors
    /// [`FsError::Io`] naming `path` when it exists but cannot be examined or read (a
    /// directory, no permission). Problems *inside* the file are never errors; see
    /// [`Parsed::problems`].
    pub fn get(&self, path: &Path) -> Result<Arc<Parsed>, FsError> {
        let now = SystemTime::now();
        let stamp = match std::fs::metadata(path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(FsError::io("examining", path, e)),
        };
        let previous = self.lock().get(path).cloned();
        if let Some(cached) = &previous
            && cached.stamp == stamp
            && (cached.settled || stamp.is_none())
        {
            return Ok(Arc::clone(&cached.parsed));
        }
        let Some(stamp) = stamp else {
            return Ok(self.store_missing(path, previous));
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(self.store_missing(path, previous));
            }
            Err(e) => return Err(FsError::io("reading", path, e)),
        };
        self.reads.fetch_add(1, Ordering::Relaxed);
        let content = {
            let mut hasher = std::hash::DefaultHasher::new();
            bytes.hash(&mut hasher);
            hasher.finish()
        };
        let settled = match (stamp.last_change(), now.checked_sub(self.settle)) {
            (Some(changed), Some(threshold)) => changed < threshold,
            _ => false,
        };
        let mut warned_mode = previous.as_ref().and_then(|c| c.warned_mode);
        if let Some(mode) = stamp.mode()
            && warned_mode != Some(mode)
        {
            warned_mode = mode_warning(path, mode).map(|warning| {
                tracing::warn!("{warning}");
                mode
            });
        }
        let parsed = match previous {
            Some(cached) if cached.content == Some(content) => cached.parsed,
            _ => {
                let parsed = Arc::new(parse_bytes(&bytes));
                for problem in &parsed.problems {
                    tracing::warn!("{}", problem.in_file(path));
                }
                parsed
            }
        };
        let entry = Cached {
            stamp: Some(stamp),
            settled,
            content: Some(content),
            warned_mode,
            parsed: Arc::clone(&parsed),
        };
        self.lock().insert(path.to_path_buf(), entry);
        Ok(parsed)
    }

    /// How many times a file was actually read (not answered from the cache) so far.
    ///
    /// ```
    /// let cache = tend_fs::dotenv::DotenvCache::new();
    /// assert_eq!(cache.reads(), 0);
    /// ```
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn store_missing(&self, path: &Path, previous: Option<Cached>) -> Arc<Parsed> {
        let parsed = match previous {
            Some(cached) if cached.content.is_none() => cached.parsed,
            _ => Arc::new(Parsed::default()),
        };
        let entry = Cached {
            stamp: None,
            settled: true,
            content: None,
            warned_mode: None,
            parsed: Arc::clone(&parsed),
        };
        self.lock().insert(path.to_path_buf(), entry);
        parsed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Cached>> {
        // Nothing panics while holding the lock; if something did, the map is still valid.
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether the secrets file at `path` is private: on Unix, neither its group nor other users
/// have any access (`mode & 0o077 == 0`). Also `true` for a missing file and on other systems.
///
/// ```
/// # fn main() -> Result<(), tend_fs::FsError> {
/// let dir = std::env::temp_dir().join(format!("tend-fs-doc-private-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| tend_fs::FsError::io("creating", &dir, e))?;
/// let path = dir.join(".env");
/// tend_fs::write_text(&path, "K=v\n")?; // atomic writes are 0600
/// assert!(tend_fs::dotenv::is_private(&path));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn is_private(path: &Path) -> bool {
    file_mode(path).is_none_or(|mode| mode & 0o077 == 0)
}

/// A warning to show when the secrets file at `path` is accessible by its group or other
/// users (Unix), with the `chmod` command that fixes it; `None` when it is private, missing,
/// or on other systems.
///
/// ```
/// # #[cfg(unix)]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::os::unix::fs::PermissionsExt as _;
///
/// let dir = std::env::temp_dir().join(format!("tend-fs-doc-perm-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join(".env");
/// std::fs::write(&path, "K=v\n")?;
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
/// let warning = tend_fs::dotenv::permission_warning(&path).ok_or("no warning")?;
/// assert!(warning.contains("mode 0644"), "{warning}");
/// assert!(warning.contains(&format!("chmod 600 {}", path.display())), "{warning}");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// # #[cfg(not(unix))]
/// # fn main() {}
/// ```
pub fn permission_warning(path: &Path) -> Option<String> {
    mode_warning(path, file_mode(path)?)
}

fn file_mode(path: &Path) -> Option<u32> {
    crate::os::mode_of(&std::fs::metadata(path).ok()?)
}

fn mode_warning(path: &Path, mode: u32) -> Option<String> {
    let mode = mode & 0o777;
    let who = match (mode & 0o070 != 0, mode & 0o007 != 0) {
        (false, false) => return None,
        (true, false) => "its group",
        (false, true) => "other users",
        (true, true) => "its group and other users",
    };
    Some(format!(
        "{} holds secrets but {who} can access it (mode {mode:04o}); fix with: chmod 600 {}",
        path.display(),
        shell_quote(&path.to_string_lossy()),
    ))
}

/// Quotes `word` for a POSIX shell when it holds anything but plain characters.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+,=~".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With no settle time, a file whose timestamps did not change is not read again; a
    /// change of only the modification time is noticed.
    #[test]
    fn settled_files_are_not_reread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\n").unwrap();
        let cache = DotenvCache::with_settle_time(Duration::ZERO);
        // Let the clock move past the file's change time so that it counts as settled.
        let changed = Stamp::of(&std::fs::metadata(&path).unwrap()).last_change().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while SystemTime::now() <= changed {
            assert!(
                std::time::Instant::now() < deadline,
                "the file's change time is in the future"
            );
            std::thread::yield_now();
        }
        let first = cache.get(&path).unwrap();
        assert_eq!(cache.reads(), 1);
        let again = cache.get(&path).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(cache.reads(), 1, "a settled, unchanged file was read again");

        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)).unwrap();
        drop(file);
        let touched = cache.get(&path).unwrap();
        assert_eq!(cache.reads(), 2, "a changed modification time was not noticed");
        assert!(Arc::ptr_eq(&first, &touched), "same content must keep the same Arc");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/home/me/.env"), "/home/me/.env");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }

    #[test]
    fn mode_warnings() {
        let path = Path::new("/x/.env");
        assert_eq!(mode_warning(path, 0o100600), None);
        assert_eq!(mode_warning(path, 0o400), None);
        let warning = mode_warning(path, 0o100640).unwrap();
        assert_eq!(
            warning,
            "/x/.env holds secrets but its group can access it (mode 0640); \
             fix with: chmod 600 /x/.env"
        );
        assert!(mode_warning(path, 0o604).unwrap().contains("other users"));
        assert!(mode_warning(path, 0o666).unwrap().contains("its group and other users"));
    }
}
