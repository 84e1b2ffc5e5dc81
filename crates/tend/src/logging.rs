//! tend's own events: to stderr and to `logs/tend.log`.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::logfile::RotatingFile;

/// How much tend says: `-q` warnings and errors, default info, `-v` debug, `-vv` trace.
pub fn level(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    }
}

/// Installs the global logger: compact lines on stderr and, if given, timestamped lines in
/// `tend_log` (rotated by size). `TEND_LOG` may override the level (`tracing` filter syntax).
pub fn init(level: &str, color: bool, tend_log: Option<&Path>) {
    let filter = || EnvFilter::try_from_env("TEND_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    // In the background (`tend up -d`) stderr is a file kept for errors before the log is open.
    let stderr = (!crate::detach::is_detached_child()).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(color)
            .with_target(false)
            .without_time()
            .with_filter(filter())
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| meta.target() != FILE_ONLY))
    });
    let file =
        tend_log.and_then(|path| RotatingFile::open(path, 10 * 1024 * 1024, 5).ok()).map(|file| {
            tracing_subscriber::fmt::layer()
                .with_writer(FlushingFile(Mutex::new(file)))
                .with_ansi(false)
                .with_target(false)
                .with_filter(filter())
        });
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
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
