//! How the control server accepts connections on the app's Unix socket ([`SocketListener`]).
//! Where that socket lives is [`tend_api::address`]'s.

/// Accepts connections on the app's Unix socket, and survives running out of descriptors.
///
/// It keeps one descriptor in reserve (`/dev/null`). When an accept fails for want of
/// descriptors (`EMFILE`, `ENFILE`), it says so once, gives up the reserve to take the waiting
/// connection and close it at once (so that the client hears a refusal instead of hanging),
/// and takes the reserve back; when even that fails, it waits for a descriptor to be freed
/// ([`EXHAUSTED_RETRY`] between attempts) rather than spinning. The first connection served
/// again is logged too.
#[derive(Debug)]
pub struct SocketListener {
    listener: tokio::net::UnixListener,
    reserve: Option<std::fs::File>,
    /// Whether descriptors ran out and have not been seen back yet.
    exhausted: bool,
}

/// How long the accept loop waits for a free descriptor when it has none in reserve.
pub const EXHAUSTED_RETRY: std::time::Duration = std::time::Duration::from_millis(250);

impl SocketListener {
    /// Accepts on `listener`, with a descriptor in reserve.
    pub fn new(listener: tokio::net::UnixListener) -> SocketListener {
        SocketListener { listener, reserve: reserve(), exhausted: false }
    }

    /// The next connection, or the error of a failed accept.
    async fn try_accept(
        &mut self,
    ) -> std::io::Result<(tokio::net::UnixStream, tokio::net::unix::SocketAddr)> {
        let (stream, addr) = self.listener.accept().await?;
        if self.reserve.is_none() {
            self.reserve = reserve();
            if self.reserve.is_none() {
                // Serving it would leave no descriptor to recover with.
                return Err(std::io::Error::from_raw_os_error(libc::EMFILE));
            }
        }
        Ok((stream, addr))
    }

    /// Handles a failed accept: said once, then recovered from without spinning.
    async fn failed(&mut self, e: &std::io::Error) {
        use std::io::ErrorKind;
        if matches!(
            e.kind(),
            ErrorKind::ConnectionAborted
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionRefused
        ) {
            return;
        }
        let no_descriptors = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
        if !self.exhausted {
            self.exhausted = true;
            if no_descriptors {
                tracing::warn!(
                    "control API: out of file descriptors ({e}); refusing connections until some                      are freed; raise the limit of open files (ulimit -n) if this lasts"
                );
            } else {
                tracing::warn!("control API: cannot accept connections: {e}; trying again");
            }
        }
        if no_descriptors && let Some(spare) = self.reserve.take() {
            drop(spare);
            // The descriptor just freed takes the waiting connection, which is closed at once.
            if let Ok(Ok((refused, _))) =
                tokio::time::timeout(EXHAUSTED_RETRY, self.listener.accept()).await
            {
                drop(refused);
            }
            self.reserve = reserve();
            if self.reserve.is_some() {
                return;
            }
        }
        tokio::time::sleep(EXHAUSTED_RETRY).await;
        if self.reserve.is_none() {
            self.reserve = reserve();
        }
    }
}

fn reserve() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

impl axum::serve::Listener for SocketListener {
    type Io = tokio::net::UnixStream;
    type Addr = tokio::net::unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.try_accept().await {
                Ok(accepted) => {
                    if std::mem::take(&mut self.exhausted) {
                        tracing::info!("control API: accepting connections again");
                    }
                    return accepted;
                }
                Err(e) => self.failed(&e).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
