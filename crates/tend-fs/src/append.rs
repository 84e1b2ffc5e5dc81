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
/// When the file cannot be opened or created.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}
