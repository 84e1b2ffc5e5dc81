//! The control server's transport on Windows: it accepts connections on the app's named pipe
//! ([`tend_api::address::pipe_name`]), one instance per connection. Remote clients are
//! refused; the first instance is created exclusively, so a second tend of the same app cannot
//! serve beside the first.

use std::time::Duration;

use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};

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
