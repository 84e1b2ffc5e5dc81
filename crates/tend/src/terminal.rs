//! Program output on the terminal (with a coloured `name | ` prefix) and in its log file.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tend_runner::{OutputSink, Stream};

use crate::logfile::RotatingFile;

/// Colours for program prefixes, picked by the program's position.
const PALETTE: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// The shared terminal: one buffered stdout for every program, so lines never interleave.
#[derive(Debug)]
pub struct Terminal {
    out: Mutex<std::io::BufWriter<std::io::Stdout>>,
    color: bool,
    quiet: bool,
}

impl Terminal {
    /// A terminal writing to stdout, with colours or not; `quiet` drops program output from
    /// the terminal (the log files still get it).
    pub fn new(color: bool, quiet: bool) -> Arc<Self> {
        Arc::new(Terminal {
            out: Mutex::new(std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout())),
            color,
            quiet,
        })
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
}

/// Where one program's output goes: the terminal with its prefix, and `logs/<program>.log`.
pub struct ProgramSink {
    terminal: Arc<Terminal>,
    prefix: String,
    log: Option<Mutex<RotatingFile>>,
}

impl ProgramSink {
    /// A sink for one program.
    pub fn new(terminal: Arc<Terminal>, prefix: String, log: Option<RotatingFile>) -> Self {
        ProgramSink { terminal, prefix, log: log.map(Mutex::new) }
    }
}

impl OutputSink for ProgramSink {
    fn line(&self, _stream: Stream, line: &str) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
            && let Err(e) = log.write_parts(&[line.as_bytes(), b"\n"])
        {
            tracing::warn!("writing {}: {e}", log.path().display());
        }
        if !self.terminal.quiet
            && let Ok(mut out) = self.terminal.out.lock()
        {
            let _ = out.write_all(self.prefix.as_bytes());
            let _ = out.write_all(line.as_bytes());
            let _ = out.write_all(b"\n");
        }
    }

    fn lines(&self, _stream: Stream, block: &str) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
            && let Err(e) = log.write_lines(block.as_bytes())
        {
            tracing::warn!("writing {}: {e}", log.path().display());
        }
        if !self.terminal.quiet
            && let Ok(mut out) = self.terminal.out.lock()
        {
            for line in block.split_inclusive('\n') {
                let _ = out.write_all(self.prefix.as_bytes());
                let _ = out.write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
        {
            let _ = log.flush();
        }
        if let Ok(mut out) = self.terminal.out.lock() {
            let _ = out.flush();
        }
    }
}
