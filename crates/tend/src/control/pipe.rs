//! The control API's transport on Windows: one named pipe per app, `\\.\pipe\tend-<hash>`, the
//! hash being that of the app's state folder, so that the server and its clients agree on it
//! without a file. Remote clients are refused; the first instance is created exclusively, so a
//! second tend of the same app cannot serve beside the first.

use std::time::Duration;

use tokio::net::windows::named_pipe::{
    ClientOptions, NamedPipeClient, NamedPipeServer, ServerOptions,
};

use crate::home::AppHome;

/// `ERROR_PIPE_BUSY`: every instance of the pipe is connected; wait and try again.
const ERROR_PIPE_BUSY: i32 = 231;
/// How long a client waits for a busy pipe, in all.
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// The pipe of the app at `home`.
pub fn pipe_name(home: &AppHome) -> String {
    format!(r"\\.\pipe\tend-{:016x}", super::socket::stable_hash(&home.dir))
}

/// Accepts connections on an app's pipe, one instance per connection.
#[derive(Debug)]
pub struct PipeListener {
    name: String,
    next: Option<NamedPipeServer>,
}

impl PipeListener {
    /// Creates the first instance of the pipe `name`.
    ///
    /// # Errors
    /// When the pipe exists already (another tend serves this app) or cannot be created.
    pub fn bind(name: &str) -> std::io::Result<PipeListener> {
        let first = ServerOptions::new()
            .first_pipe_instance(true)
            .reject_remote_clients(true)
            .create(name)?;
        Ok(PipeListener { name: name.to_string(), next: Some(first) })
    }

    fn instance(&self) -> std::io::Result<NamedPipeServer> {
        ServerOptions::new().reject_remote_clients(true).create(&self.name)
    }
}

impl axum::serve::Listener for PipeListener {
    type Io = NamedPipeServer;
    type Addr = String;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let server = match self.next.take() {
                Some(server) => server,
                None => match self.instance() {
                    Ok(server) => server,
                    Err(e) => {
                        tracing::warn!("control API: cannot create {}: {e}", self.name);
                        // Resources run out: try again later rather than spin.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            match server.connect().await {
                Ok(()) => {
                    // The next client needs an instance of its own, ready before it comes.
                    self.next = self.instance().ok();
                    return (server, self.name.clone());
                }
                // A client that left before it was accepted.
                Err(e) => tracing::debug!("control API: a connection failed: {e}"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.name.clone())
    }
}

/// Connects to the pipe `name`, waiting (up to 5 s) while every instance is busy.
///
/// # Errors
/// `NotFound` when no tend serves it; other errors as the system reports them.
pub async fn connect(name: &str) -> std::io::Result<NamedPipeClient> {
    let deadline = tokio::time::Instant::now() + BUSY_WAIT;
    loop {
        match ClientOptions::new().open(name) {
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
