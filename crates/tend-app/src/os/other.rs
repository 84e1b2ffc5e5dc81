//! Systems without `/proc/locks`: the lock file's pid is trusted; docker programs run as the
//! image's user (Docker Desktop maps file owners itself).

use std::fs::File;

/// Which pids hold a lock on `file` cannot be told here.
pub fn lock_holders(_file: &File) -> Option<Vec<u32>> {
    None
}

/// No host uid:gid is given to containers here: the image's user runs docker programs.
pub fn host_user() -> Option<(u32, u32)> {
    None
}
