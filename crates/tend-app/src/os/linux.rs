//! Linux: the holder of a lock is told by the kernel (`/proc/locks`), and docker programs run
//! as the host's user.

use std::fs::File;

/// The pids holding a `flock` on `file`, from `/proc/locks`; `None` if it cannot be told: no
/// `/proc/locks`, or no line for the file (the lock is gone, or the file system reports other
/// device or inode numbers than `stat`, as overlay file systems may).
pub fn lock_holders(file: &File) -> Option<Vec<u32>> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = file.metadata().ok()?;
    let locks = read_proc_locks()?;
    Some(crate::lifecycle::lock::flock_holders(&locks, meta.dev(), meta.ino()))
        .filter(|holders| !holders.is_empty())
}

/// `/proc/locks` in one `read`: the kernel lists the locks record by record at each read, so
/// a file read in several pieces can skip a lock when another one is released meanwhile.
fn read_proc_locks() -> Option<String> {
    use std::io::Read as _;
    let mut file = File::open("/proc/locks").ok()?;
    let mut size = 256 * 1024;
    loop {
        let mut buf = vec![0u8; size];
        let n = file.read(&mut buf).ok()?;
        if n < size {
            buf.truncate(n);
            return String::from_utf8(buf).ok();
        }
        // More locks than fit: read it all again, at once, into a bigger buffer.
        size *= 4;
        file = File::open("/proc/locks").ok()?;
    }
}
