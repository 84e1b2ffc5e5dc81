//! Windows: the control API is one named pipe per app, `\\.\pipe\tend-<hash>`
//! ([`crate::address::pipe_name`]): the server and its clients agree on it without a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeClient};

use crate::AppHome;

/// The longest socket path that fits (without the NUL); only Unix sockets have that limit.
pub const MAX_SOCKET_PATH: usize = 107;

/// `ERROR_PIPE_BUSY`: every instance of the pipe is connected; wait and try again.
const ERROR_PIPE_BUSY: i32 = 231;
/// How long a client waits for a busy pipe, in all.
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// The app's named pipe.
pub fn connect_path(home: &AppHome) -> PathBuf {
    PathBuf::from(crate::address::pipe_name(home))
}

/// There is no short socket folder: the control API is a named pipe.
pub fn private_tmp() -> Result<PathBuf, String> {
    Err("no short socket folder on this platform".into())
}

/// Whether something serves the pipe `socket`. A busy pipe is a pipe someone serves.
pub async fn answers(socket: &Path) -> bool {
    match ClientOptions::new().open(socket) {
        Ok(_) => true,
        Err(e) => e.raw_os_error() == Some(ERROR_PIPE_BUSY),
    }
}

/// Connects to the pipe `socket`, waiting (up to 5 s) while every instance is busy.
///
/// # Errors
/// `NotFound` when no tend serves it; other errors as the system reports them.
pub async fn connect(socket: &Path) -> std::io::Result<NamedPipeClient> {
    let deadline = tokio::time::Instant::now() + BUSY_WAIT;
    loop {
        match ClientOptions::new().open(socket) {
            Ok(client) => return Ok(client),
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(e);
                }
                // Windows offers no wakeup for a free instance to async callers (only the
                // blocking WaitNamedPipe): a short, bounded retry is the documented way.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
