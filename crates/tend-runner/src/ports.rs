//! TCP port helpers.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

/// A port that was free on 127.0.0.1 a moment ago (racy by nature: bind it soon).
///
/// # Errors
/// When no listening socket can be opened.
pub fn find_free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Whether `port` can be bound on all interfaces right now.
pub fn is_port_free(port: u16) -> bool {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).is_ok()
}

/// Waits until `port` is free, checking every 50 ms (the kernel offers no event for it), for
/// at most `timeout`. Returns whether it became free.
pub async fn wait_port_released(port: u16, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if is_port_free(port) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn held_port_is_not_free_until_released() {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!is_port_free(port));
        assert!(!wait_port_released(port, Duration::from_millis(120)).await);
        drop(listener);
        assert!(wait_port_released(port, Duration::from_secs(5)).await);
        assert!(find_free_port().unwrap() > 0);
    }
}
