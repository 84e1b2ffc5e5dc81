//! A program's log file as its output sink sees it: every line written, and a failing disk
//! (full, or any other write error) told once per episode, not once per write.
//!
//! When a write fails, [`ProgramLog`] logs one warning (`logs/web.log: no space left;
//! dropping output`), drops what could not be written (whole lines: the file is cut back to
//! its last complete write), and counts the bytes. The next batches are tried again; the
//! first that is written ends the episode with `logs/web.log: writing again after N bytes
//! were dropped`. While it lasts, [`LogHealth`] holds the condition for `tend status`.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use crate::logfile::RotatingFile;

pub use tend_api::LogError;

/// The log files that cannot be written now, by program. Cheap to clone; every clone is the
/// same map.
#[derive(Debug, Clone, Default)]
pub struct LogHealth(Arc<Mutex<HashMap<String, LogError>>>);

impl LogHealth {
    /// The trouble of program `name`'s log, if it has any now.
    pub fn get(&self, name: &str) -> Option<LogError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }

    fn set(&self, name: &str, error: Option<LogError>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match error {
            Some(error) => map.insert(name.to_owned(), error),
            None => map.remove(name),
        };
    }
}

/// `no space left` for ENOSPC (and a full quota), else the OS's message.
pub fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => "no space left".to_owned(),
        _ => error.to_string(),
    }
}

/// One program's log file, with its episodes of failure.
#[derive(Debug)]
pub struct ProgramLog {
    file: RotatingFile,
    program: String,
    /// `logs/web.log`.
    shown: String,
    health: LogHealth,
    /// The current episode of failure, if any.
    failing: Option<LogError>,
}

impl ProgramLog {
    /// `file`, the log of `program`, reporting its trouble to `health`.
    pub fn new(file: RotatingFile, program: &str, health: LogHealth) -> ProgramLog {
        let name = file.path().file_name().map(|n| n.to_string_lossy().into_owned());
        let shown = format!("logs/{}", name.unwrap_or_default());
        ProgramLog { file, program: program.to_owned(), shown, health, failing: None }
    }

    /// Writes one line given in parts (see [`RotatingFile::write_parts`]).
    pub fn write_parts(&mut self, parts: &[&[u8]]) {
        let result = self.file.write_parts(parts);
        self.after(result, false);
    }

    /// Writes a block of complete lines (see [`RotatingFile::write_lines`]).
    pub fn write_lines(&mut self, block: &[u8]) {
        let result = self.file.write_lines(block);
        self.after(result, false);
    }

    /// Writes the buffered lines to the file: the end of a batch.
    pub fn flush(&mut self) {
        let result = self.file.flush();
        self.after(result, true);
    }

    /// Starts, continues or (after a flush that worked) ends an episode of failure.
    fn after(&mut self, result: io::Result<()>, flushed: bool) {
        let dropped = self.file.take_dropped();
        match (result, &mut self.failing) {
            (Err(error), None) => {
                let trouble = LogError {
                    path: self.shown.clone(),
                    error: describe(&error),
                    dropped_bytes: dropped,
                };
                tracing::warn!("{}: {}; dropping output", trouble.path, trouble.error);
                self.health.set(&self.program, Some(trouble.clone()));
                self.failing = Some(trouble);
            }
            (Err(_), Some(trouble)) => {
                trouble.dropped_bytes = trouble.dropped_bytes.saturating_add(dropped);
                self.health.set(&self.program, Some(trouble.clone()));
            }
            (Ok(()), Some(trouble)) if flushed => {
                let total = trouble.dropped_bytes.saturating_add(dropped);
                tracing::info!("{}: writing again after {total} bytes were dropped", trouble.path);
                self.health.set(&self.program, None);
                self.failing = None;
            }
            (Ok(()), _) => {}
        }
    }
}
