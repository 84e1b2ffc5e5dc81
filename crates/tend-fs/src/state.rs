//! Loading JSON state files that may be missing or damaged.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::FsError;

/// The result of [`load_json_or_default`].
#[derive(Debug)]
pub struct Loaded<T> {
    /// The value read, or the default.
    pub value: T,
    /// Where a damaged file was moved to, if it was damaged.
    pub quarantined: Option<PathBuf>,
}

/// Reads a JSON state file (without blocking, bounded: see [`crate::read_state_file`]). A
/// missing file gives `T::default()`. An unreadable, invalid or wrong-typed file, or anything
/// that is not a regular file, is moved aside as `<name>.corrupt-<unix-millis>` (never deleted), a warning
/// is logged, and `T::default()` is returned with the new location in
/// [`Loaded::quarantined`].
///
/// # Errors
/// Only when a damaged file cannot be moved aside ([`FsError::Io`]): loading defaults then would
/// overwrite it at the next save and lose it.
pub fn load_json_or_default<T>(path: &Path) -> Result<Loaded<T>, FsError>
where
    T: serde::de::DeserializeOwned + Default,
{
    let problem = match crate::read_state_file(path, crate::MAX_STATE_FILE) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(value) => return Ok(Loaded { value, quarantined: None }),
            Err(e) => e.to_string(),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded { value: T::default(), quarantined: None });
        }
        Err(e) => e.to_string(),
    };
    let moved = quarantine(path)?;
    tracing::warn!(
        file = %path.display(),
        moved_to = %moved.display(),
        "state file is damaged ({problem}); it was moved aside and defaults are used"
    );
    Ok(Loaded { value: T::default(), quarantined: Some(moved) })
}

/// Moves a damaged file aside to `<name>.corrupt-<unix-millis>` and returns the new path.
/// If that name is taken (two quarantines in the same millisecond), `-1`, `-2`, … is appended
/// so that an earlier quarantined file is never replaced.
///
/// # Errors
/// [`FsError::Io`] if the rename fails.
///
/// ```
/// # fn main() -> Result<(), tend_fs::FsError> {
/// let dir = std::env::temp_dir().join(format!("tend-fs-doc-quarantine-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| tend_fs::FsError::io("creating", &dir, e))?;
/// let path = dir.join("state.json");
/// tend_fs::write_text(&path, "{ torn")?;
/// let moved = tend_fs::quarantine(&path)?;
/// assert!(!path.exists());
/// assert!(moved.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("state.json.corrupt-")));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn quarantine(path: &Path) -> Result<PathBuf, FsError> {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut base = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    base.push(format!(".corrupt-{millis}"));
    let mut target = path.with_file_name(&base);
    let mut n = 0u32;
    while target.symlink_metadata().is_ok() && n < 10_000 {
        n += 1;
        let mut name = base.clone();
        name.push(format!("-{n}"));
        target = path.with_file_name(name);
    }
    std::fs::rename(path, &target).map_err(|e| FsError::io("moving aside", path, e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    struct State {
        count: u32,
    }

    #[test]
    fn missing_gives_default() {
        let dir = tempfile::tempdir().unwrap();
        let loaded: Loaded<State> = load_json_or_default(&dir.path().join("none.json")).unwrap();
        assert_eq!(loaded.value, State::default());
        assert!(loaded.quarantined.is_none());
    }

    #[test]
    fn wrong_type_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, br#"{"count": "seven"}"#).unwrap();
        let loaded: Loaded<State> = load_json_or_default(&path).unwrap();
        assert_eq!(loaded.value, State::default());
        let moved = loaded.quarantined.unwrap();
        assert_eq!(std::fs::read(&moved).unwrap(), br#"{"count": "seven"}"#);
        assert!(!path.exists());
    }

    #[test]
    fn quarantine_never_replaces_an_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut moved = Vec::new();
        for i in 0..5 {
            std::fs::write(&path, format!("torn {i}")).unwrap();
            moved.push(quarantine(&path).unwrap());
        }
        for (i, m) in moved.iter().enumerate() {
            assert_eq!(std::fs::read_to_string(m).unwrap(), format!("torn {i}"));
        }
    }

    #[test]
    fn valid_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, br#"{"count": 7}"#).unwrap();
        let loaded: Loaded<State> = load_json_or_default(&path).unwrap();
        assert_eq!(loaded.value, State { count: 7 });
    }
}
