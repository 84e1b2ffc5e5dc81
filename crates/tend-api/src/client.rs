//! A minimal client of the control API: one HTTP/1 request per connection to an app's socket
//! (on Windows, its named pipe). Everything is async: no call blocks a thread.
//!
//! ```no_run
//! # async fn status() -> Result<(), tend_api::client::ClientError> {
//! use std::time::Duration;
//! use tend_api::{AppHome, Status, address, client};
//!
//! let home = AppHome::new(std::path::Path::new("/home/me/.tend"), "web");
//! let socket = address::connect_path(&home);
//! let response = client::request(&socket, "GET", "/v1/status", Duration::from_secs(10)).await?;
//! if response.is_success() {
//!     let status: Status = serde_json::from_slice(&response.body).map_err(|e| {
//!         client::ClientError::Failed(format!("unreadable answer: {e}"))
//!     })?;
//!     println!("{} runs {} programs", status.app, status.programs.len());
//! }
//! # Ok(()) }
//! ```

use std::path::Path;
use std::time::Duration;

/// A response: status code and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error` of a JSON error body, or the body itself.
    pub fn error_message(&self) -> String {
        serde_json::from_slice::<crate::ApiError>(&self.body)
            .map(|e| e.error)
            .unwrap_or_else(|_| format!("HTTP {}: {}", self.status, self.text()))
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket: the app is not running.
    #[error("nothing listens on the control socket")]
    NotRunning,
    /// Anything else, for people.
    #[error("{0}")]
    Failed(String),
}

/// Percent-encodes one path segment of a URI (everything but RFC 3986's unreserved
/// characters), so that a program name or an item id stays one segment.
///
/// ```
/// assert_eq!(tend_api::client::percent_encode("job 1/ü"), "job%201%2F%C3%BC");
/// ```
pub fn percent_encode(segment: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Whether something accepts connections on `socket` (a busy server counts).
pub async fn answers(socket: &Path) -> bool {
    crate::os::answers(socket).await
}

/// Sends `method uri` (no body) to the server on `socket` and reads the whole response, all
/// within `timeout`.
///
/// # Errors
/// [`ClientError::NotRunning`] when nothing listens; [`ClientError::Failed`] otherwise.
pub async fn request(
    socket: &Path,
    method: &str,
    uri: &str,
    timeout: Duration,
) -> Result<Response, ClientError> {
    request_json(socket, method, uri, None, timeout).await
}

/// Like [`request`], with `body` (if any) sent as `application/json`.
///
/// # Errors
/// [`ClientError::NotRunning`] when nothing listens; [`ClientError::Failed`] otherwise.
pub async fn request_json(
    socket: &Path,
    method: &str,
    uri: &str,
    body: Option<&serde_json::Value>,
    timeout: Duration,
) -> Result<Response, ClientError> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    match tokio::time::timeout(timeout, send(socket, method, uri, body)).await {
        Ok(result) => result,
        Err(_) => Err(ClientError::Failed(format!(
            "no answer from {} within {}",
            socket.display(),
            crate::human(timeout)
        ))),
    }
}

async fn send(
    socket: &Path,
    method: &str,
    uri: &str,
    body: String,
) -> Result<Response, ClientError> {
    use http_body_util::{BodyExt as _, Full};
    use hyper::body::Bytes;

    let failed = |what: &str, e: &dyn std::fmt::Display| {
        ClientError::Failed(format!("{what} {}: {e}", socket.display()))
    };
    let stream = match crate::os::connect(socket).await {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(ClientError::NotRunning);
        }
        Err(e) => return Err(failed("cannot connect to", &e)),
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| failed("cannot talk to", &e))?;
    let driver = tokio::spawn(async move {
        // Its errors surface through the request below.
        let _ = connection.await;
    });
    let request = hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header(hyper::header::HOST, "localhost")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| failed("bad request to", &e))?;
    let result = async {
        let response =
            sender.send_request(request).await.map_err(|e| failed("no answer from", &e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| failed("incomplete answer from", &e))?
            .to_bytes()
            .to_vec();
        Ok(Response { status, body })
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn answers_only_while_something_listens() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tend.sock");
        assert!(!answers(&socket).await, "no socket yet");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        assert!(answers(&socket).await);
        drop(listener);
        assert!(!answers(&socket).await, "a stale socket file answers nothing");
        let error = request(&socket, "GET", "/v1/status", Duration::from_secs(5)).await;
        assert_eq!(error.unwrap_err(), ClientError::NotRunning);
    }

    #[test]
    fn error_bodies_give_their_message() {
        let json = Response { status: 404, body: br#"{"error": "no program `x`"}"#.to_vec() };
        assert!(!json.is_success());
        assert_eq!(json.error_message(), "no program `x`");
        let plain = Response { status: 502, body: b"bad gateway".to_vec() };
        assert_eq!(plain.error_message(), "HTTP 502: bad gateway");
    }
}
