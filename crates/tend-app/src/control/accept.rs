//! The control API's accept loop: a cap on connections, a clock on each (`control::conn`), and
//! a graceful stop.
//!
//! At most `max` connections are open at once (`descriptors::API_CONNECTIONS`, fewer under a
//! tight descriptor limit). When a new one comes past the cap, the longest-idle connection
//! (one that is not being answered) is closed to make room, so that clients that do not talk
//! cannot lock `tend status` out; when every connection is being answered, the new one is
//! refused at once. Either is logged, at most once every [`WARN_EVERY`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::conn::{Activity, RequestGuard, Timed};

/// The shortest time between two warnings about the cap.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Serves `router` on `listener`, at most `max` connections at once, until `stop` resolves;
/// then stops accepting and lets the answers in progress finish.
pub async fn serve<L>(mut listener: L, router: Router, max: usize, mut stop: oneshot::Receiver<()>)
where
    L: axum::serve::Listener,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut slots = Slots::new(max);
    let mut connections = JoinSet::new();
    let (shutdown, stopping) = watch::channel(false);
    let service = TowerToHyperService::new(router);
    'serving: loop {
        // One accept at a time, kept across the other events: a Windows pipe instance that
        // is waiting for its client must not be dropped.
        let accept = listener.accept();
        tokio::pin!(accept);
        let io = loop {
            // Past the cap, room is made before the next client is taken: it waits in the
            // backlog while a shed connection goes, so descriptors stay within the cap.
            let accepting = slots.make_room();
            tokio::select! {
                _ = &mut stop => break 'serving,
                Some(done) = connections.join_next_with_id() => {
                    slots.remove(match done {
                        Ok((id, ())) => id,
                        Err(e) => e.id(),
                    });
                }
                (io, _) = &mut accept, if accepting => break io,
            }
        };
        if !slots.has_room() {
            // Every connection is being answered: refused at once.
            slots.refused();
            drop(io);
            continue;
        }
        let activity = Activity::new();
        let task = connection(io, activity.clone(), service.clone(), stopping.clone());
        let handle = connections.spawn(task);
        slots.add(handle.id(), activity);
    }
    // New clients are refused from now on; the answers in progress are finished.
    drop(listener);
    let _ = shutdown.send(true);
    while connections.join_next().await.is_some() {}
}

/// The open connections, against the cap.
#[derive(Debug)]
struct Slots {
    max: usize,
    open: HashMap<tokio::task::Id, Arc<Activity>>,
    /// Open connections that were asked to close and have not yet.
    shedding: usize,
    warnings: Throttle,
}

impl Slots {
    fn new(max: usize) -> Slots {
        Slots { max, open: HashMap::new(), shedding: 0, warnings: Throttle::new(WARN_EVERY) }
    }

    fn has_room(&self) -> bool {
        self.open.len() < self.max
    }

    fn add(&mut self, id: tokio::task::Id, activity: Arc<Activity>) {
        self.open.insert(id, activity);
    }

    fn remove(&mut self, id: tokio::task::Id) {
        if let Some(activity) = self.open.remove(&id)
            && activity.is_shed()
        {
            self.shedding -= 1;
        }
    }

    /// Whether the next client may be taken now: there is room, or every connection is
    /// being answered (it is then refused at once). At the cap, asks the longest-idle
    /// connection to close, and the next client waits until it has.
    fn make_room(&mut self) -> bool {
        if self.has_room() {
            return true;
        }
        if self.shedding > 0 {
            return false;
        }
        let idlest = self
            .open
            .values()
            .filter(|a| !a.busy() && !a.is_shed())
            .min_by_key(|a| a.last_active());
        let Some(activity) = idlest else { return true };
        activity.shed();
        self.shedding += 1;
        if let Some(more) = self.warnings.ready() {
            tracing::warn!(
                "control API: {} connections are open, the most allowed; closing the \
                 longest-idle one to make room{}",
                self.max,
                also(more)
            );
        }
        false
    }

    /// Says (at most once per [`WARN_EVERY`]) that a client was refused.
    fn refused(&mut self) {
        if let Some(more) = self.warnings.ready() {
            tracing::warn!(
                "control API: refused a connection: all {} open ones are being answered{}",
                self.max,
                also(more)
            );
        }
    }
}

fn also(more: u64) -> String {
    if more == 0 { String::new() } else { format!(" ({more} more since the last warning)") }
}

/// Serves one connection until it ends, is shed, or the server stops (then its answer in
/// progress is finished first).
async fn connection<Io>(
    io: Io,
    activity: Arc<Activity>,
    router: TowerToHyperService<Router>,
    mut stopping: watch::Receiver<bool>,
) where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn({
        let activity = activity.clone();
        move |request: hyper::Request<Incoming>| {
            let guard = activity.begin();
            let answer = hyper::service::Service::call(&router, request);
            async move {
                let response = answer.await?;
                Ok::<_, Infallible>(response.map(|body| Answer { body, _guard: guard }))
            }
        }
    });
    let io = TokioIo::new(Timed::new(io, activity.clone()));
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!("control API: connection closed: {e}");
            }
            return;
        }
        () = activity.closed() => return,
        _ = stopping.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// An answer's body, which keeps its connection busy (never idle) until it is sent.
struct Answer {
    body: Body,
    _guard: RequestGuard,
}

impl hyper::body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Lets a warning through at most once every `every`, counting the ones held back.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
    held_back: u64,
}

impl Throttle {
    /// A throttle that lets one warning through every `every`.
    pub fn new(every: Duration) -> Throttle {
        Throttle { every, last: None, held_back: 0 }
    }

    /// `Some(how many were held back since the last one)` when a warning may go out now.
    pub fn ready(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.saturating_duration_since(last) < self.every) {
            self.held_back += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn warnings_go_out_once_per_period_with_a_count_of_the_others() {
        let mut throttle = Throttle::new(WARN_EVERY);
        assert_eq!(throttle.ready(), Some(0));
        assert_eq!(throttle.ready(), None);
        assert_eq!(throttle.ready(), None);
        tokio::time::advance(WARN_EVERY).await;
        assert_eq!(throttle.ready(), Some(2));
        assert_eq!(throttle.ready(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_cap_the_longest_idle_connection_makes_room() {
        let handles: Vec<_> = (0..3).map(|_| tokio::spawn(std::future::pending::<()>())).collect();
        let mut slots = Slots::new(3);
        let mut activities = Vec::new();
        for handle in &handles {
            let activity = Activity::new();
            slots.add(handle.id(), activity.clone());
            activities.push(activity);
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        let _busy = activities[0].begin();
        // At the cap: the idle one that was opened first goes; the busy one stays. Nothing is
        // taken until it has gone.
        assert!(!slots.make_room());
        assert!(!activities[0].is_shed() && activities[1].is_shed() && !activities[2].is_shed());
        assert!(!slots.make_room(), "one is being shed already");
        slots.remove(handles[1].id());
        assert!(slots.make_room() && slots.has_room());
        // Full of busy connections: the next client is taken, to be refused.
        let _also_busy = activities[2].begin();
        let newest = Activity::new();
        let _busy_too = newest.begin();
        slots.add(handles[1].id(), newest);
        assert!(slots.make_room() && !slots.has_room());
        for handle in handles {
            handle.abort();
        }
    }
}
