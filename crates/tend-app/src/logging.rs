//! tend's own events: to stderr and to `logs/tend.log`.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::logfile::RotatingFile;
use crate::stall_queue::StallQueue;

/// How much tend says: `-q` warnings and errors, default info, `-v` debug, `-vv` trace.
pub fn level(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    }
}

/// The level of `logs/tend.log` for the terminal's `level`: never less than info, as `-q`
/// thins only the terminal.
///
/// ```
/// assert_eq!(tend_app::logging::file_level("warn"), "info");
/// assert_eq!(tend_app::logging::file_level("debug"), "debug");
/// ```
pub fn file_level(level: &str) -> &str {
    match level {
        "warn" | "error" | "off" => "info",
        other => other,
    }
}

/// How many bytes of tend's own events may wait for a slow terminal before some are dropped
/// (from the terminal only: `tend.log` gets them all).
const STDERR_QUEUE: usize = 256 * 1024;

/// The queue in front of stderr of a running app, for [`flush_terminal`].
static STDERR: std::sync::OnceLock<StallQueue> = std::sync::OnceLock::new();

/// Installs the global logger: compact lines on stderr and, if given, timestamped lines in
/// `tend_log` (rotated by size), at `level` on the terminal and at least info in the file.
/// `TEND_LOG` may override the level (`tracing` filter syntax).
///
/// With `tend_log` (a running app), stderr is written through a bounded queue by a thread of
/// its own: a terminal that is not read never holds tend up (see [`crate::terminal`]).
pub fn init(level: &str, color: bool, tend_log: Option<&Path>) {
    let filter =
        |level: &str| EnvFilter::try_from_env("TEND_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let detached = crate::detach::is_detached_child();
    let queue = tend_log
        .filter(|_| !detached)
        .and_then(|path| {
            let hint = path.display().to_string();
            StallQueue::start("tend-stderr", Box::new(std::io::stderr()), STDERR_QUEUE, &hint).ok()
        })
        .map(|queue| STDERR.get_or_init(|| queue).clone());
    // In the background (`tend up -d`) stderr is a file kept for errors before the log is open.
    let stderr = (!detached).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(Stderr(queue))
            .with_ansi(color)
            .with_target(false)
            .without_time()
            .with_filter(filter(level))
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| meta.target() != FILE_ONLY))
    });
    let file =
        tend_log.and_then(|path| RotatingFile::open(path, 10 * 1024 * 1024, 5).ok()).map(|file| {
            tracing_subscriber::fmt::layer()
                .with_writer(FlushingFile(Mutex::new(file)))
                .with_ansi(false)
                .with_target(false)
                .with_filter(filter(file_level(level)))
        });
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
}

/// Waits (at most [`crate::terminal::DRAIN_AT_EXIT`]) until tend's queued events are on the
/// terminal; a terminal that does not read is not waited for.
pub fn flush_terminal() {
    if let Some(queue) = STDERR.get() {
        queue.drain(crate::terminal::DRAIN_AT_EXIT);
    }
}

/// stderr, directly or through a [`StallQueue`].
struct Stderr(Option<StallQueue>);

/// One event, collected and queued whole when dropped.
struct QueuedEvent<'a>(&'a StallQueue, Vec<u8>);

impl std::io::Write for QueuedEvent<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for QueuedEvent<'_> {
    fn drop(&mut self) {
        let lines = memchr::memchr_iter(b'\n', &self.1).count().max(1) as u64;
        self.0.push(&self.1, lines);
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Box<dyn std::io::Write + 'a>;

    fn make_writer(&'a self) -> Self::Writer {
        match &self.0 {
            Some(queue) => Box::new(QueuedEvent(queue, Vec::new())),
            None => Box::new(std::io::stderr()),
        }
    }
}

/// The target of events meant for `tend.log` only (the terminal hears of them otherwise).
const FILE_ONLY: &str = "tend::file_only";

/// Writes `message` to `tend.log` as an error, and not to the terminal: for an error that
/// `main` prints itself.
pub fn error_to_file(message: &str) {
    tracing::error!(target: "tend::file_only", "{message}");
}

/// A log file that is flushed after every event, so that nothing is lost if tend is killed.
struct FlushingFile(Mutex<RotatingFile>);

struct Guard<'a>(std::sync::MutexGuard<'a, RotatingFile>);

impl std::io::Write for Guard<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let _ = self.0.flush();
    }
}

impl<'a> MakeWriter<'a> for FlushingFile {
    type Writer = Box<dyn std::io::Write + 'a>;

    fn make_writer(&'a self) -> Self::Writer {
        match self.0.lock() {
            Ok(guard) => Box::new(Guard(guard)),
            Err(_) => Box::new(std::io::sink()),
        }
    }
}
