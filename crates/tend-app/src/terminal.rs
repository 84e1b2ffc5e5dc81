//! Program output on the terminal (with a coloured `name | ` prefix) and in its log file.
//!
//! The terminal never holds anything up: lines for it go through a [`StallQueue`], written
//! by a thread of its own, so a terminal that is not read (stdout into a FIFO nobody reads, a
//! pty held by Ctrl-S) only costs the lines it does not show. The log files get every line.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend_runner::{OutputSink, Stream};

use crate::program_log::ProgramLog;
use crate::stall_queue::StallQueue;

/// Colours for program prefixes, picked by the program's position.
const PALETTE: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// How many bytes of program output may wait for a slow terminal before lines are dropped
/// (for the terminal only).
pub const TERMINAL_QUEUE: usize = 4 * 1024 * 1024;

/// How long tend waits at exit for the terminal to take the lines still queued.
pub const DRAIN_AT_EXIT: Duration = Duration::from_millis(500);

/// The shared terminal: one queue to stdout for every program, so lines never interleave.
#[derive(Debug)]
pub struct Terminal {
    /// `None` with `quiet`, or when the writer thread could not start.
    out: Option<StallQueue>,
    color: bool,
}

impl Terminal {
    /// A terminal writing to stdout, with colours or not; `quiet` drops program output from
    /// the terminal (the log files still get it).
    pub fn new(color: bool, quiet: bool) -> Arc<Self> {
        let out = (!quiet)
            .then(|| {
                StallQueue::start(
                    "tend-stdout",
                    Box::new(std::io::stdout()),
                    TERMINAL_QUEUE,
                    "`tend logs`",
                )
                .inspect_err(|e| {
                    tracing::warn!(
                        "no program output on the terminal: cannot start its writer: {e}"
                    );
                })
                .ok()
            })
            .flatten();
        Arc::new(Terminal { out, color })
    }

    /// The prefix for program `index` named `name`, padded to `width`.
    pub fn prefix(&self, index: usize, name: &str, width: usize) -> String {
        if self.color {
            let color = PALETTE[index % PALETTE.len()];
            format!("\x1b[{color}m{name:<width$} |\x1b[0m ")
        } else {
            format!("{name:<width$} | ")
        }
    }

    /// Waits (at most [`DRAIN_AT_EXIT`]) until the queued lines are written: a terminal that
    /// does not read is not waited for.
    pub fn finish(&self) {
        if let Some(out) = &self.out {
            out.drain(DRAIN_AT_EXIT);
        }
    }
}

/// Where one program's output goes: the terminal with its prefix, and `logs/<program>.log`.
pub struct ProgramSink {
    terminal: Arc<Terminal>,
    prefix: String,
    log: Option<Mutex<ProgramLog>>,
}

impl ProgramSink {
    /// A sink for one program.
    pub fn new(terminal: Arc<Terminal>, prefix: String, log: Option<ProgramLog>) -> Self {
        ProgramSink { terminal, prefix, log: log.map(Mutex::new) }
    }
}

impl OutputSink for ProgramSink {
    fn line(&self, _stream: Stream, line: &[u8]) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
        {
            log.write_parts(&[line, b"\n"]);
        }
        if let Some(out) = &self.terminal.out {
            // The terminal shows text: invalid UTF-8 is replaced there (the log keeps it).
            let text = as_text(line);
            let prefix = self.prefix.as_bytes();
            out.push_with(prefix.len() + text.len() + 1, 1, |buf| {
                buf.extend_from_slice(prefix);
                buf.extend_from_slice(&text);
                buf.push(b'\n');
            });
        }
    }

    fn lines(&self, _stream: Stream, block: &[u8]) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
        {
            log.write_lines(block);
        }
        if let Some(out) = &self.terminal.out {
            let text = as_text(block);
            let prefix = self.prefix.as_bytes();
            let count = memchr::memchr_iter(b'\n', &text).count();
            out.push_with(text.len() + count * prefix.len(), count as u64, |buf| {
                prefixed(buf, prefix, &text);
            });
        }
    }

    fn flush(&self) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
        {
            log.flush();
        }
    }
}

/// `bytes` as text for the terminal: as they are when they are UTF-8 (checked at SIMD speed),
/// else with invalid sequences replaced by U+FFFD.
fn as_text(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(_) => std::borrow::Cow::Borrowed(bytes),
        Err(_) => std::borrow::Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into_bytes()),
    }
}

/// Appends the lines of `block` (each ending in a newline) to `buf`, each after `prefix`.
fn prefixed(buf: &mut Vec<u8>, prefix: &[u8], block: &[u8]) {
    if prefix.is_empty() {
        buf.extend_from_slice(block);
        return;
    }
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', block) {
        buf.extend_from_slice(prefix);
        buf.extend_from_slice(&block[start..=end]);
        start = end + 1;
    }
    if start < block.len() {
        buf.extend_from_slice(prefix);
        buf.extend_from_slice(&block[start..]);
    }
}
