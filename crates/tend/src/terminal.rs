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
            let text = String::from_utf8_lossy(line);
            let prefix = self.prefix.as_bytes();
            out.push_with(prefix.len() + text.len() + 1, 1, |buf| {
                buf.extend_from_slice(prefix);
                buf.extend_from_slice(text.as_bytes());
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
            let text = String::from_utf8_lossy(block);
            let prefix = self.prefix.as_bytes();
            let count = memchr::memchr_iter(b'\n', text.as_bytes()).count();
            out.push_with(text.len() + count * prefix.len(), count as u64, |buf| {
                for line in text.as_bytes().split_inclusive(|&b| b == b'\n') {
                    buf.extend_from_slice(prefix);
                    buf.extend_from_slice(line);
                }
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
