//! A terminal that is not read (stdout and stderr into a FIFO nobody reads, as a pty held by
//! Ctrl-S) never holds up supervision, the control API, signals or the log files.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::File;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A FIFO that the test holds open for reading (so that writers never block at open and never
/// get EPIPE) and never reads.
struct UnreadFifo {
    read_end: OwnedFd,
    path: std::path::PathBuf,
}

impl UnreadFifo {
    fn new(path: &Path) -> UnreadFifo {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .unwrap();
        UnreadFifo { read_end: file.into(), path: path.to_path_buf() }
    }

    /// A blocking write end, for tend's stdout or stderr.
    fn writer(&self) -> File {
        std::fs::OpenOptions::new().write(true).open(&self.path).unwrap()
    }

    /// Bytes waiting in the FIFO.
    fn pending(&self) -> usize {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        let rc = unsafe { libc::ioctl(self.read_end.as_raw_fd(), libc::FIONREAD, &mut n) };
        assert_eq!(rc, 0);
        usize::try_from(n).unwrap()
    }

    /// The FIFO's capacity.
    fn capacity(&self) -> usize {
        // SAFETY: F_GETPIPE_SZ takes no argument.
        let n = unsafe { libc::fcntl(self.read_end.as_raw_fd(), libc::F_GETPIPE_SZ) };
        usize::try_from(n).unwrap()
    }

    /// What is in the FIFO now.
    fn read_available(&self) -> Vec<u8> {
        let fd = self.read_end.try_clone().unwrap();
        // SAFETY: a descriptor of our own, owned by the File from here.
        let mut file = unsafe { File::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(fd)) };
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut file, &mut out);
        out
    }
}

/// A `tend` the test started itself; SIGKILLed if the test fails before it exits.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// How many times `program` was started, from tend.log.
fn starts(log: &str, program: &str) -> usize {
    lines_with(log, &format!("{program}: started (pid")).len()
}

#[test]
fn an_unread_terminal_never_holds_up_supervision_the_api_signals_or_the_logs() {
    let sb = Sandbox::new();
    let bin = testbin_str();
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "stall"

[programs.chatty]
command = ["sh", "-c", "{bin} spew 300000; echo chatty-done; exec {bin} sleep 600"]

[programs.crasher]
command = ["sh", "-c", "echo crash $TEND_RESTART_COUNT; exit 1"]
backoff = {{ initial = "100ms", max = "100ms" }}
max_restarts = {{ count = 100000, within = "1m" }}
"#
        ),
    );
    let fifo = UnreadFifo::new(&sb.path("terminal"));
    let mut child = sb.command(&["up"]);
    child.stdout(Stdio::from(fifo.writer())).stderr(Stdio::from(fifo.writer()));
    let mut tend = Started(child.spawn().unwrap());
    let app = sb.app("stall");

    // The terminal stalls: the FIFO fills up, and can hold only a part of the 300 KB.
    sb.wait_for("the unread terminal to fill up", || {
        (fifo.pending() >= fifo.capacity() / 2).then_some(())
    });
    assert!(fifo.capacity() < 300_000);
    // The log gets every line, all 300 KB, while the terminal does not move.
    let chatty = sb.wait_text(&app.log("chatty"), "chatty-done\n");
    assert_eq!(chatty.lines().filter(|l| l.len() == 99).count(), 3000);

    // The crash-looper goes on being restarted.
    let before = starts(&app.read_tend_log(), "crasher");
    sb.wait_for("the crash-looper to be restarted 5 more times", || {
        (starts(&app.read_tend_log(), "crasher") >= before + 5).then_some(())
    });
    // Its output reaches its log as well.
    sb.wait_lines(&app.log("crasher"), before + 5);

    // The control API answers at once.
    let asked = Instant::now();
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    assert!(status.stdout.contains("\"crasher\""), "{}", status.stdout);
    assert!(asked.elapsed() < Duration::from_secs(5), "status took {:?}", asked.elapsed());

    // SIGTERM stops it promptly, the terminal still stalled.
    let pid = i32::try_from(tend.0.id()).unwrap();
    // SAFETY: our own unreaped child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    let status = sb.wait_for("tend to exit on SIGTERM", || tend.0.try_wait().unwrap());
    assert!(signalled.elapsed() < Duration::from_secs(5), "took {:?}", signalled.elapsed());
    assert_eq!(status.code(), Some(0));
    assert!(app.read_tend_log().contains("stopping every program"));

    // What the terminal did get is whole, prefixed lines.
    let shown = fifo.read_available();
    let first = String::from_utf8_lossy(&shown);
    assert!(first.lines().any(|l| l.starts_with("chatty  | yyyy")), "{}", &first[..200]);
}
