//! Reading state files without trusting what is at their path: never blocking on a FIFO or a
//! device, never reading more than a bound.

use std::io::{self, Read as _};
use std::path::Path;

/// The most a state file may hold: far above anything tend writes (a run record with the
/// largest command line Linux allows is about 2 MiB), small enough to bound memory.
pub const MAX_STATE_FILE: u64 = 16 * 1024 * 1024;

/// Reads the state file at `path`, at most `limit` bytes.
///
/// The file is opened without blocking (`O_NONBLOCK` on Unix: opening a FIFO nobody writes
/// would otherwise wait for ever) and its type is checked on the opened descriptor (`fstat`)
/// before anything is read: only a regular file is read.
///
/// # Errors
/// - [`io::ErrorKind::NotFound`] when nothing is at `path`;
/// - [`io::ErrorKind::InvalidData`] when it is not a regular file (a FIFO, a socket, a device,
///   a folder), saying which, or when it holds more than `limit` bytes;
/// - any other error of opening or reading.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let dir = std::env::temp_dir().join(format!("tend-fs-read-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("state.json");
/// std::fs::write(&path, b"{}")?;
/// assert_eq!(tend_fs::read_state_file(&path, 1024)?, b"{}");
/// assert!(tend_fs::read_state_file(&path, 1).is_err());
/// assert!(tend_fs::read_state_file(&dir, 1024).is_err());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn read_state_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    crate::os::nonblocking(&mut options);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("is {}, not a regular file", kind_of(&meta.file_type())),
        ));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow between fstat and read: the bound holds anyway.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("holds more than {limit} bytes"))
}

/// What a non-regular file is, for messages: `a FIFO`, `a folder`, …
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    if let Some(special) = crate::os::special_kind(kind) {
        return special;
    }
    if kind.is_dir() {
        return "a folder";
    }
    if kind.is_symlink() {
        return "a symbolic link";
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_state_file(&path, MAX_STATE_FILE).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("is a FIFO"), "{err}");
    }

    #[test]
    fn the_bound_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'x'; 100]).unwrap();
        assert_eq!(read_state_file(&path, 100).unwrap().len(), 100);
        let err = read_state_file(&path, 99).unwrap_err();
        assert!(err.to_string().contains("more than 99 bytes"), "{err}");
        assert_eq!(
            read_state_file(&dir.path().join("none"), 10).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
