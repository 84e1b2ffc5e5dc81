//! The events of a running app for `GET /v1/events` ([`EventHub`]): each program's starts,
//! exits, backoffs and ends, and the update notice, as they happen.

use tend_api::AppEvent;
use tokio::sync::broadcast;

/// How many events a follower may fall behind before it is told it missed some.
const BACKLOG: usize = 256;

/// Where the app's events go: to every follower of `GET /v1/events`, none kept for later.
/// Cheap to clone; every clone is the same hub. Publishing with no follower costs nothing
/// but a counter read.
#[derive(Debug, Clone)]
pub struct EventHub(broadcast::Sender<AppEvent>);

impl Default for EventHub {
    fn default() -> Self {
        EventHub(broadcast::channel(BACKLOG).0)
    }
}

impl EventHub {
    /// Hands an event of `kind` (of `program`, if it is a program's) with the text `message`
    /// to every follower.
    pub fn publish(&self, kind: &str, program: Option<&str>, message: String) {
        if self.0.receiver_count() == 0 {
            return;
        }
        let event = AppEvent {
            at: now(),
            kind: kind.to_owned(),
            program: program.map(str::to_owned),
            message,
        };
        // No follower left since the count: nothing to do.
        let _ = self.0.send(event);
    }

    /// A new follower: it gets the events published from now on.
    pub fn follow(&self) -> broadcast::Receiver<AppEvent> {
        self.0.subscribe()
    }
}

/// Now, RFC 3339 in UTC with microseconds.
pub fn now() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_get_what_is_published_after_they_came() {
        let hub = EventHub::default();
        hub.publish("started", Some("web"), "web: started (pid 1)".into());
        let mut follower = hub.follow();
        hub.publish("update", None, "tend 0.2.0 is out".into());
        let event = follower.recv().await.unwrap();
        assert_eq!(event.kind, "update");
        assert_eq!(event.program, None);
        assert_eq!(event.message, "tend 0.2.0 is out");
        assert!(event.at.ends_with('Z'), "{}", event.at);
        assert!(follower.try_recv().is_err(), "the event before it came is not replayed");
    }
}
