//! Unix: modes, owners, `O_NONBLOCK`, and ctime/inode identities.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, FileTypeExt as _, MetadataExt as _, OpenOptionsExt as _,
    PermissionsExt as _,
};
use std::time::{Duration, SystemTime};

/// A temp file of an atomic write is created private (0600), whatever the old file's mode.
pub(crate) fn private_atomic(options: &mut atomic_write_file::OpenOptions) {
    use atomic_write_file::unix::OpenOptionsExt as _;
    options.mode(0o600).preserve_mode(false);
}

/// Makes `file` exactly 0600 (the umask may have narrowed the mode further).
pub(crate) fn make_private(file: &File) -> io::Result<()> {
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

/// Whether no group or other user can access the file.
pub(crate) fn is_private(meta: &Metadata) -> bool {
    meta.permissions().mode() & 0o077 == 0
}

/// New files private (0600); never waits for a reader (a FIFO fails at once instead of
/// hanging; the flag does nothing to a regular file).
pub(crate) fn private_nonblocking(options: &mut OpenOptions) {
    options.mode(0o600).custom_flags(libc::O_NONBLOCK);
}

/// Opening never waits (a FIFO without a writer, say).
pub(crate) fn nonblocking(options: &mut OpenOptions) {
    options.custom_flags(libc::O_NONBLOCK);
}

/// New folders private (0700).
pub(crate) fn private_dirs(builder: &mut std::fs::DirBuilder) {
    builder.mode(0o700);
}

/// What a special file is, for messages: `a FIFO`, `a socket`, `a device`.
pub(crate) fn special_kind(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        Some("a device")
    } else {
        None
    }
}

/// Whether the file is a socket.
pub(crate) fn is_socket(kind: &std::fs::FileType) -> bool {
    kind.is_socket()
}

/// The effective user id: whose files count as ours.
pub(crate) fn current_uid() -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    Some(unsafe { libc::geteuid() })
}

/// The owner and the mode bits of a file.
pub(crate) fn owner_and_mode(meta: &Metadata) -> Option<(u32, u32)> {
    Some((meta.uid(), meta.mode()))
}

/// The mode bits of a file.
pub(crate) fn mode_of(meta: &Metadata) -> Option<u32> {
    Some(meta.permissions().mode())
}

/// What identifies a version of a file besides its length and mtime: ctime, inode, device and
/// mode, which any replacement or `chmod` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
    mode: u32,
}

impl FileId {
    /// The identity of the file of `meta`.
    pub(crate) fn of(meta: &Metadata) -> FileId {
        FileId {
            ctime: (meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
            mode: meta.mode(),
        }
    }

    /// When its inode last changed.
    pub(crate) fn changed(&self) -> Option<SystemTime> {
        let (secs, nanos) = self.ctime;
        u64::try_from(secs).ok().and_then(|secs| {
            let nanos = u32::try_from(nanos).unwrap_or(0);
            SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
        })
    }

    /// Its mode bits.
    pub(crate) fn mode(&self) -> Option<u32> {
        Some(self.mode)
    }
}

/// Makes a change of `dir`'s entries durable (best effort).
pub(crate) fn sync_dir(dir: &std::path::Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}
