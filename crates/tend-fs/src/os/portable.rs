//! Elsewhere (Windows): no modes or owners here (files are private by their folder's ACL), and
//! opening a file never waits for a peer.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::time::SystemTime;

/// Nothing to set: the temp file gets the folder's ACL.
pub(crate) fn private_atomic(_options: &mut atomic_write_file::OpenOptions) {}

/// Nothing to set.
pub(crate) fn make_private(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Without modes, every file of ours counts as private.
pub(crate) fn is_private(_meta: &Metadata) -> bool {
    true
}

/// Nothing to set.
pub(crate) fn private_nonblocking(_options: &mut OpenOptions) {}

/// Nothing to set.
pub(crate) fn nonblocking(_options: &mut OpenOptions) {}

/// Nothing to set.
pub(crate) fn private_dirs(_builder: &mut std::fs::DirBuilder) {}

/// No FIFOs, sockets or devices among files here.
pub(crate) fn special_kind(_kind: &std::fs::FileType) -> Option<&'static str> {
    None
}

/// No sockets among files here.
pub(crate) fn is_socket(_kind: &std::fs::FileType) -> bool {
    false
}

/// No user ids here.
pub(crate) fn current_uid() -> Option<u32> {
    None
}

/// No owners or modes here.
pub(crate) fn owner_and_mode(_meta: &Metadata) -> Option<(u32, u32)> {
    None
}

/// No modes here.
pub(crate) fn mode_of(_meta: &Metadata) -> Option<u32> {
    None
}

/// Nothing beyond length and mtime identifies a version of a file here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId;

impl FileId {
    /// The (empty) identity.
    pub(crate) fn of(_meta: &Metadata) -> FileId {
        FileId
    }

    /// Unknown here.
    pub(crate) fn changed(&self) -> Option<SystemTime> {
        None
    }

    /// No modes here.
    pub(crate) fn mode(&self) -> Option<u32> {
        None
    }
}

/// Folders cannot be opened to be synced here; the rename is as durable as the system makes it.
pub(crate) fn sync_dir(_dir: &std::path::Path) {}
