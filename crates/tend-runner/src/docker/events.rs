//! The end of each exec, as the daemon announces it (`exec_die` events of the app's
//! container): one event stream per container, a wake-up per exec.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bollard::Docker;
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt as _;
use tokio::sync::watch;

/// Wakes the waiter of an exec when the daemon says it died.
#[derive(Debug, Default)]
pub(crate) struct ExecEvents {
    waiters: Mutex<HashMap<String, watch::Sender<bool>>>,
    /// Turns `true` if the event stream ends (the daemon went away): waiters then ask the
    /// daemon themselves.
    lost: watch::Sender<bool>,
}

impl ExecEvents {
    /// Starts following the `exec_die` events of `container` since `since` (Unix seconds: the
    /// daemon replays what happened after it, so nothing is missed while the stream
    /// connects). The task ends when the stream does, or when `self` is dropped.
    pub(crate) fn follow(docker: Docker, container: String, since: i64) -> Arc<Self> {
        let events = Arc::new(ExecEvents::default());
        let weak = Arc::downgrade(&events);
        tokio::spawn(async move {
            let filters = HashMap::from([
                ("type".to_string(), vec!["container".to_string()]),
                ("container".to_string(), vec![container]),
                ("event".to_string(), vec!["exec_die".to_string()]),
            ]);
            let options = EventsOptions {
                since: Some(since.to_string()),
                until: None,
                filters: Some(filters),
            };
            let mut stream = docker.events(Some(options));
            while let Some(Ok(event)) = stream.next().await {
                let Some(events) = weak.upgrade() else { return };
                let exec =
                    event.actor.and_then(|a| a.attributes).and_then(|mut a| a.remove("execID"));
                if let Some(exec) = exec {
                    events.died(&exec);
                }
            }
            tracing::debug!("docker event stream ended; exec ends are found by asking the daemon");
            if let Some(events) = weak.upgrade() {
                events.lost.send_replace(true);
            }
        });
        events
    }

    /// A receiver that turns `true` when `exec` dies. Register before starting the exec.
    pub(crate) fn register(&self, exec: &str) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.insert(exec.to_string(), tx);
        }
        rx
    }

    /// A receiver that turns `true` once the event stream has ended (no `exec_die` will come).
    pub(crate) fn lost(&self) -> watch::Receiver<bool> {
        self.lost.subscribe()
    }

    /// Forgets `exec`.
    pub(crate) fn unregister(&self, exec: &str) {
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.remove(exec);
        }
    }

    fn died(&self, exec: &str) {
        if let Ok(waiters) = self.waiters.lock()
            && let Some(tx) = waiters.get(exec)
        {
            tx.send_replace(true);
        }
    }
}
