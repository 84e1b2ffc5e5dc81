//! Writing the run record from inside the forked child, before `exec`.
//!
//! The record must be on disk before the program runs. The parent cannot do it in between:
//! `std`'s spawn returns only once the child has exec'd, so a child held at a gate until the
//! parent writes would deadlock. Instead the child writes the record itself, in the window
//! between fork and exec, knowing its own pid and start time. Only async-signal-safe calls
//! are made there (`open`, `read`, `write`, `rename`, `close`, `_exit`) and nothing
//! is allocated: the parent renders everything but the three numbers beforehand.

use std::os::unix::ffi::OsStrExt as _;

use crate::RunnerError;
use crate::records::RunRecord;

/// The longest registry directory path supported (the child builds paths in a stack buffer).
const MAX_DIR: usize = 3800;

/// A record rendered in advance, waiting for pid and start time.
pub(crate) struct ChildRecord {
    dir_bytes: Vec<u8>,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl ChildRecord {
    /// Renders `record` (whose pid, pgid and start time are ignored) for the registry `dir`.
    pub(crate) fn new(dir: &std::path::Path, record: &RunRecord) -> Result<Self, RunnerError> {
        let dir_bytes = dir.as_os_str().as_bytes().to_vec();
        if dir_bytes.len() > MAX_DIR || dir_bytes.contains(&0) {
            return Err(RunnerError::io(
                "run record directory",
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "path too long or has NUL"),
            ));
        }
        let head = format!(
            "{{\"version\":{},\"app\":{},\"program\":{},",
            record.version,
            json(&record.app),
            json(&record.program)
        );
        let tail = format!(
            "\"boot_id\":{},\"argv\":{},\"cwd\":{},\"run_id\":{},\"owner\":{},\"started_at\":{}}}\n",
            json(&record.boot_id),
            json(&record.argv),
            json(&record.cwd),
            json(&record.run_id),
            json(&record.owner),
            record.started_at
        );
        Ok(ChildRecord { dir_bytes, head: head.into_bytes(), tail: tail.into_bytes() })
    }

    /// Writes the record for the calling process. Runs in the forked child: async-signal-safe,
    /// allocation-free. On any failure returns the OS error number (`EINVAL` when there is
    /// none); the caller then exits without running the program.
    pub(crate) fn write_in_child(&self) -> Result<(), i32> {
        // Reading errno right after the failed call: no allocation, async-signal-safe.
        let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL);
        // SAFETY (for the whole function): only async-signal-safe libc calls on buffers we own.
        unsafe {
            let pid = libc::getpid();
            let Ok(pid) = u64::try_from(pid) else { return Err(libc::EINVAL) };
            let Some(start_time) = own_start_time() else { return Err(errno()) };

            let mut tmp = PathBuf::new();
            let mut fin = PathBuf::new();
            let mut num = [0u8; 20];
            let digits = fmt_u64(pid, &mut num);
            if !(tmp.push(&self.dir_bytes)
                && tmp.push(b"/.")
                && tmp.push(digits)
                && tmp.push(b".json.tmp\0"))
            {
                return Err(libc::ENAMETOOLONG);
            }
            let digits = fmt_u64(pid, &mut num);
            if !(fin.push(&self.dir_bytes)
                && fin.push(b"/")
                && fin.push(digits)
                && fin.push(b".json\0"))
            {
                return Err(libc::ENAMETOOLONG);
            }
            let fd = libc::open(
                tmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
                0o600,
            );
            if fd < 0 {
                return Err(errno());
            }
            let mut ok = write_all(fd, &self.head);
            for (key, value) in
                [(&b"\"pgid\":"[..], pid), (b",\"pid\":", pid), (b",\"start_time\":", start_time)]
            {
                let mut buf = [0u8; 20];
                ok = ok && write_all(fd, key) && write_all(fd, fmt_u64(value, &mut buf));
            }
            ok = ok && write_all(fd, b",") && write_all(fd, &self.tail);
            let mut failure = if ok { 0 } else { errno() };
            if libc::close(fd) != 0 && failure == 0 {
                failure = errno();
            }
            ok = failure == 0;
            // Renamed into place: readers see the whole record or none. Not fsynced, on
            // purpose: a record describes processes of this boot only, and what ends them all
            // (a power loss) also ends the boot; a crash of tend itself loses nothing from the
            // page cache. Two fsyncs would add ~0.5 ms to every restart.
            if ok && libc::rename(tmp.as_ptr(), fin.as_ptr()) != 0 {
                failure = errno();
                ok = false;
            }
            if !ok {
                libc::unlink(tmp.as_ptr());
                return Err(if failure == 0 { libc::EINVAL } else { failure });
            }
            Ok(())
        }
    }
}

/// A NUL-terminated path in a fixed stack buffer.
struct PathBuf {
    buf: [u8; 4096],
    len: usize,
}

impl PathBuf {
    fn new() -> Self {
        PathBuf { buf: [0; 4096], len: 0 }
    }

    fn push(&mut self, bytes: &[u8]) -> bool {
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            return false;
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        true
    }

    fn as_ptr(&self) -> *const libc::c_char {
        self.buf.as_ptr().cast()
    }
}

/// Formats `value` in decimal into `buf`, returning the digits.
fn fmt_u64(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buf[i..];
        }
    }
}

fn write_all(fd: libc::c_int, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: writes from a live slice.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

/// This process's start time as the parent will read it (see `os::process_info`).
#[cfg(target_os = "linux")]
fn own_start_time() -> Option<u64> {
    let mut buf = [0u8; 1024];
    // SAFETY: reads into a stack buffer from a fresh fd that is closed before returning.
    let len = unsafe {
        let fd = libc::open(c"/proc/self/stat".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return None;
        }
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        usize::try_from(n).ok()?
    };
    let stat = &buf[..len];
    let close = stat.windows(2).rposition(|w| w == b") ")?;
    // Fields after the command: state is 0, starttime is 19.
    let field = stat[close + 2..].split(|&b| b == b' ').nth(19)?;
    let mut value: u64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(value)
}

/// Elsewhere the parent uses sysinfo's start time (seconds), which cannot be had here without
/// allocating; the record gets 0 and the parent fills the real value into its own view.
#[cfg(not(target_os = "linux"))]
fn own_start_time() -> Option<u64> {
    Some(0)
}

/// One value as compact JSON.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        let mut buf = [0u8; 20];
        assert_eq!(fmt_u64(0, &mut buf), b"0");
        assert_eq!(fmt_u64(1234567, &mut buf), b"1234567");
        assert_eq!(fmt_u64(u64::MAX, &mut buf), b"18446744073709551615");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn own_start_time_matches_proc() {
        let mine = crate::os::process_info(std::process::id()).map(|i| i.start_time);
        assert_eq!(own_start_time(), mine);
    }
}
