//! One control API connection's clock: it is closed when it does not talk.
//!
//! - A new connection must send its first request head within [`HEAD_TIMEOUT`], and so must
//!   every head once its first byte came.
//! - Between requests, a kept-alive connection may stay silent for [`IDLE_TIMEOUT`].
//! - While a request is answered (a `logs?follow=true` stream included) it is never idle; but
//!   a peer that stops reading its answer is closed once a write has waited [`IDLE_TIMEOUT`].
//!
//! [`Timed`] wraps the stream and enforces this from inside its reads and writes, so a quiet
//! connection costs one timer and no task. [`Activity`] is what it shares with the service
//! (which tells when a request starts and when its answer is done) and with the accept loop
//! (which sheds the longest-idle connection when the cap is reached).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// How long a request head may take, from a new connection or from the head's first byte.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection may stay silent between requests, and how long a write may wait for
/// a peer that does not read.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What one connection shares with the service and the accept loop.
#[derive(Debug)]
pub struct Activity {
    /// When the connection was accepted: the origin of `last_active`.
    opened: Instant,
    /// Request heads received in full (the service was called).
    requests: AtomicU64,
    /// Requests whose answer is not done yet.
    in_flight: AtomicU32,
    /// When it last read or wrote a byte, in milliseconds since `opened`.
    last_active: AtomicU64,
    /// Set when the accept loop chose to close it.
    shed: AtomicBool,
    /// Wakes its task to close it.
    close: Notify,
}

impl Activity {
    /// The activity of a connection accepted now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            requests: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            last_active: AtomicU64::new(0),
            shed: AtomicBool::new(false),
            close: Notify::new(),
        })
    }

    /// A request head arrived in full: the connection is busy until the guard is dropped
    /// (with the answer's body, once it is sent).
    pub fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.requests.fetch_add(1, Ordering::AcqRel);
        RequestGuard(self.clone())
    }

    /// Whether a request is being answered.
    pub fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// When it last read or wrote.
    pub fn last_active(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_active.load(Ordering::Relaxed))
    }

    fn touch(&self, now: Instant) {
        let millis = now.saturating_duration_since(self.opened).as_millis();
        self.last_active.store(u64::try_from(millis).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Asks its task to close it (the accept loop needs its slot). Only the first call counts.
    pub fn shed(&self) {
        if !self.shed.swap(true, Ordering::AcqRel) {
            self.close.notify_one();
        }
    }

    /// Whether it was asked to close.
    pub fn is_shed(&self) -> bool {
        self.shed.load(Ordering::Acquire)
    }

    /// Resolves when it is asked to close.
    pub async fn closed(&self) {
        self.close.notified().await;
    }
}

/// A request being answered; dropping it (with the answer) makes the connection idle again.
#[derive(Debug)]
pub struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection's stream that fails a read or a write once the connection has been silent
/// for too long (see the module's rules).
#[derive(Debug)]
pub struct Timed<Io> {
    io: Io,
    activity: Arc<Activity>,
    /// Heads received when this stream last looked: a change means the head in progress is done.
    seen_requests: u64,
    /// When the request head in progress started: the connection's start for its first one,
    /// its first byte for the next ones; `None` between requests.
    head_since: Option<Instant>,
    /// Since when a write has waited for the peer to read.
    write_blocked_since: Option<Instant>,
    /// The one timer, made at the first wait and moved after.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<Io> Timed<Io> {
    /// Wraps the stream of a connection accepted now, whose activity is `activity`.
    pub fn new(io: Io, activity: Arc<Activity>) -> Timed<Io> {
        let opened = activity.opened;
        Timed {
            io,
            activity,
            seen_requests: 0,
            head_since: Some(opened),
            write_blocked_since: None,
            timer: None,
        }
    }

    /// Notices heads that were received in full since the last look.
    fn sync(&mut self) {
        let requests = self.activity.requests.load(Ordering::Acquire);
        if requests != self.seen_requests {
            self.seen_requests = requests;
            self.head_since = None;
        }
    }

    /// When the connection is to be closed, and why; `None` while nothing is due.
    fn deadline(&mut self) -> Option<(Instant, &'static str)> {
        self.sync();
        let read = if self.activity.busy() {
            None
        } else if let Some(since) = self.head_since {
            Some((since + HEAD_TIMEOUT, "no complete request head in time"))
        } else {
            Some((self.activity.last_active() + IDLE_TIMEOUT, "idle"))
        };
        let write = self.write_blocked_since.map(|since| (since + IDLE_TIMEOUT, "not reading"));
        match (read, write) {
            (Some(r), Some(w)) => Some(if w.0 < r.0 { w } else { r }),
            (r, w) => r.or(w),
        }
    }

    /// Called when the stream has nothing to give or take: an error once the connection has
    /// overstayed, otherwise `Pending` with the timer set.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let Some((deadline, why)) = self.deadline() else { return Poll::Pending };
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(std::io::Error::new(std::io::ErrorKind::TimedOut, why))
    }

    fn read_some(&mut self) {
        let now = Instant::now();
        self.activity.touch(now);
        self.sync();
        if self.head_since.is_none() && !self.activity.busy() {
            self.head_since = Some(now);
        }
    }

    fn wrote_some(&mut self) {
        self.write_blocked_since = None;
        self.activity.touch(Instant::now());
    }

    fn write_blocked(&mut self) {
        self.write_blocked_since.get_or_insert_with(Instant::now);
    }

    /// What a write returned, once noted: progress ends a blocked spell; a write that cannot
    /// go on counts towards the stalled-reader timeout, and ends with it.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                self.wrote_some();
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                self.write_blocked();
                self.poll_expired(cx).map(Err)
            }
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Timed<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.read_some();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_expired(cx).map(Err),
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Timed<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        this.after_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Pending => {
                this.write_blocked();
                this.poll_expired(cx).map(Err)
            }
            done => done,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

    use super::*;

    /// A timed server end and the client end of a fresh connection.
    fn connection() -> (Timed<DuplexStream>, DuplexStream, Arc<Activity>) {
        let (server, client) = tokio::io::duplex(64);
        let activity = Activity::new();
        (Timed::new(server, activity.clone()), client, activity)
    }

    /// Reads until an error, returning how long it took and the error's text.
    async fn read_until_error(stream: &mut Timed<DuplexStream>) -> (Duration, String) {
        let start = Instant::now();
        let mut buf = [0u8; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => panic!("end of stream instead of a timeout"),
                Ok(_) => {}
                Err(e) => return (start.elapsed(), e.to_string()),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_closed_after_the_head_timeout() {
        let (mut server, _client, _) = connection();
        let (after, why) = read_until_error(&mut server).await;
        assert_eq!(after, HEAD_TIMEOUT);
        assert!(why.contains("request head"), "{why}");
    }

    #[tokio::test(start_paused = true)]
    async fn half_a_head_is_closed_after_the_head_timeout() {
        let (mut server, mut client, _) = connection();
        client.write_all(b"GET /v1/status HTTP/1.1\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        // More bytes of the same head do not extend it.
        client.write_all(b"Host: x\r\n").await.unwrap();
        let (after, _) = read_until_error(&mut server).await;
        assert_eq!(after, HEAD_TIMEOUT - Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_alive_connection_may_be_silent_for_the_idle_timeout() {
        let (mut server, mut client, activity) = connection();
        let head = b"GET / HTTP/1.1\r\n\r\n";
        client.write_all(head).await.unwrap();
        let mut buf = [0u8; 18];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, head);
        // The head was whole: answered, then done.
        drop(activity.begin());
        let (after, why) = read_until_error(&mut server).await;
        assert_eq!(after, IDLE_TIMEOUT);
        assert_eq!(why, "idle");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_being_answered_is_never_idle() {
        let (mut server, _client, activity) = connection();
        let answering = activity.begin();
        let read = tokio::time::timeout(IDLE_TIMEOUT * 3, read_until_error(&mut server)).await;
        assert!(read.is_err(), "closed while answering: {read:?}");
        // Once the answer is done, the idle clock runs from then.
        drop(answering);
        let (after, _) = read_until_error(&mut server).await;
        assert_eq!(after, IDLE_TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_does_not_read_its_answer_is_closed() {
        let (mut server, _client, activity) = connection();
        let _answering = activity.begin();
        let start = Instant::now();
        let chunk = [b'x'; 1024];
        let e = loop {
            if let Err(e) = server.write(&chunk).await {
                break e;
            }
        };
        assert_eq!(start.elapsed(), IDLE_TIMEOUT);
        assert_eq!(e.to_string(), "not reading");
    }

    #[test]
    fn shedding_wakes_the_connection_once() {
        let activity = Activity::new();
        assert!(!activity.is_shed());
        activity.shed();
        activity.shed();
        assert!(activity.is_shed());
    }
}
