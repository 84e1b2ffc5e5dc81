//! Atomic, durable, private file writes.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use atomic_write_file::AtomicWriteFile;

use crate::FsError;

/// Writes `bytes` to `path` atomically: readers see the old content or the new, never a mix,
/// even if the machine crashes mid-write. The file gets mode 0600 on Unix.
///
/// Temp files a crashed earlier writer left beside `path` are removed first. Concurrent writers
/// of the *same* path are not supported (tend writes each state file from one place).
///
/// # Errors
/// [`FsError::Io`] naming `path` when the directory is missing or not writable, or a write,
/// fsync or rename fails.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    remove_leftovers(path);
    let mut options = AtomicWriteFile::options();
    crate::os::private_atomic(&mut options);
    let mut file =
        options.open(path).map_err(|e| FsError::io("creating a temp file for", path, e))?;
    crate::os::make_private(file.as_file())
        .map_err(|e| FsError::io("setting permissions of", path, e))?;
    file.write_all(bytes).map_err(|e| FsError::io("writing", path, e))?;
    file.commit().map_err(|e| FsError::io("committing", path, e))
}

/// Renames `from` to `to` (replacing it) and makes the rename durable: a file prepared
/// earlier takes its place atomically, without needing any free space (on a full disk too).
///
/// # Errors
/// [`FsError::Io`] naming `to` when the rename fails.
pub fn rename_into_place(from: &Path, to: &Path) -> Result<(), FsError> {
    std::fs::rename(from, to).map_err(|e| FsError::io("renaming into place", to, e))?;
    // The folder's entry is what changed: sync it (best effort; Unix only).
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::os::sync_dir(dir);
    }
    Ok(())
}

/// Writes UTF-8 `text` to `path` atomically; see [`write_bytes`].
///
/// # Errors
/// As [`write_bytes`].
pub fn write_text(path: &Path, text: &str) -> Result<(), FsError> {
    write_bytes(path, text.as_bytes())
}

/// Writes `value` as pretty JSON with a trailing newline to `path` atomically; see
/// [`write_bytes`].
///
/// # Errors
/// [`FsError::Serialize`] if `value` cannot be represented as JSON, else as [`write_bytes`].
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), FsError> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|source| FsError::Serialize { path: path.to_path_buf(), source })?;
    bytes.push(b'\n');
    write_bytes(path, &bytes)
}

/// Removes `.<name>.XXXXXX` temp files that a writer killed mid-write left beside `path`.
/// Best effort: a failure here never fails the write itself.
///
/// A user's own hidden file can have such a name too (`.state.backup` beside `state`), so only
/// regular files that look like ours are removed: on Unix, ones no group or other user can
/// access, as every temp file this module creates.
fn remove_leftovers(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if is_temp_name_of(&entry.file_name(), name)
            && entry.metadata().is_ok_and(|meta| looks_like_our_temp_file(&meta))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn looks_like_our_temp_file(meta: &std::fs::Metadata) -> bool {
    meta.is_file() && crate::os::is_private(meta)
}

/// Whether `candidate` is the name `atomic-write-file` gives a temp file for `name`:
/// `.<name>.` followed by a random suffix of six alphanumeric characters.
fn is_temp_name_of(candidate: &OsStr, name: &OsStr) -> bool {
    let (Some(candidate), Some(name)) = (candidate.to_str(), name.to_str()) else { return false };
    candidate
        .strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|suffix| {
            suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised() {
        let name = OsStr::new("state.json");
        assert!(is_temp_name_of(OsStr::new(".state.json.a1B2c3"), name));
        assert!(!is_temp_name_of(OsStr::new("state.json"), name));
        assert!(!is_temp_name_of(OsStr::new(".state.json.toolong1"), name));
        assert!(!is_temp_name_of(OsStr::new(".other.json.a1B2c3"), name));
    }

    #[test]
    fn write_replaces_content_and_cleans_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let leftover = dir.path().join(".f.json.abc123");
        std::fs::write(&leftover, b"torn").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let private = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(&leftover, private).unwrap();
        }
        write_text(&path, "one").unwrap();
        write_text(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![OsStr::new("f.json").to_owned()]);
    }

    #[cfg(unix)]
    #[test]
    fn shared_lookalikes_are_kept() {
        // `.state.backup` beside `state` has a temp file's name, but mode 0644: not ours.
        let dir = tempfile::tempdir().unwrap();
        let lookalike = dir.path().join(".state.backup");
        std::fs::write(&lookalike, b"user data").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&lookalike, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_text(&dir.path().join("state"), "x").unwrap();
        assert_eq!(std::fs::read(&lookalike).unwrap(), b"user data");
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_bytes(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn json_has_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.json");
        write_json(&path, &serde_json::json!({"a": 1})).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n"), "{text:?}");
    }
}
