//! Files that are appended to (logs): created private, never truncated.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Opens `path` for appending, creating it with mode 0600 on Unix (an existing file keeps its
/// content and its mode).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::io::Write as _;
/// let dir = std::env::temp_dir().join(format!("tend-fs-append-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("x.log");
/// tend_fs::open_private_append(&path)?.write_all(b"one\n")?;
/// tend_fs::open_private_append(&path)?.write_all(b"two\n")?;
/// assert_eq!(std::fs::read_to_string(&path)?, "one\ntwo\n");
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
///
/// # Errors
/// When the file cannot be opened or created, or is not a regular file (a FIFO with no
/// reader fails at once instead of blocking).
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    // Never waits for a reader: a FIFO at `path` fails here instead of hanging tend.
    crate::os::private_nonblocking(&mut options);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a regular file; remove it", path.display()),
        ));
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn a_fifo_without_reader_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(super::open_private_append(&path).is_err());
    }
}
