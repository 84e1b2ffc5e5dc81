//! Orphans adopted as child subreaper: which run each one came from, and ending those whose
//! run cannot be told.
//!
//! With a subreaper, every orphan tend adopts came from one of its programs: a descendant
//! whose parent died (`(setsid cmd &)`, a double fork). The kernel says nothing when it
//! adopts one, and the orphan's ancestry is gone by then, so the runs are told apart, when a
//! run ends, by what the orphan still carries:
//!
//! 1. the run token (`TEND_RUN_ID`) of a live run;
//! 2. else the app and program names (`TEND_APP`, `TEND_PROGRAM`) of a live run — an escapee
//!    that dropped only its token (`env -u TEND_RUN_ID`) keeps them;
//! 3. else its start time: when a single live run had started by then, the orphan is that
//!    run's.
//!
//! An orphan none of these attribute when a run ends (it scrubbed its environment while
//! several programs ran) is marked unknown, so that it is not given by its start time to
//! whichever run happens to be left later, and is ended when the app stops:
//! [`end_adopted_orphans`].

use std::sync::Mutex;
use std::time::Duration;

use crate::stats::ProcInfo;
use crate::tree::{self, Terminated};
use crate::{APP_VAR, PROGRAM_VAR, RUN_ID_VAR, Signal, os};

/// The names a run's processes carry in their environment ([`APP_VAR`], [`PROGRAM_VAR`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Label {
    /// The app.
    pub app: String,
    /// The program.
    pub program: String,
}

/// What a live run of this process is known by, for attributing orphans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveRun {
    /// Its run token.
    pub token: String,
    /// Its leader's start time.
    pub leader_start: u64,
    /// Its app and program names, when it was started with a record.
    pub label: Option<Label>,
}

/// What an orphan's environment says about where it came from (each `None` when unset or
/// unreadable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    /// `TEND_RUN_ID`.
    pub token: Option<String>,
    /// `TEND_APP`.
    pub app: Option<String>,
    /// `TEND_PROGRAM`.
    pub program: Option<String>,
}

impl Identity {
    /// Reads `pid`'s environment.
    pub fn of(pid: u32) -> Identity {
        let mut values = os::env_values(pid, &[RUN_ID_VAR, APP_VAR, PROGRAM_VAR]).into_iter();
        Identity {
            token: values.next().flatten(),
            app: values.next().flatten(),
            program: values.next().flatten(),
        }
    }
}

/// The runs of this process that are live now.
static LIVE: Mutex<Vec<LiveRun>> = Mutex::new(Vec::new());

/// Adds a run that just started.
pub(crate) fn register(run: LiveRun) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(run);
    }
}

/// Removes a run once it has ended and its processes are gone.
pub(crate) fn unregister(token: &str) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|run| run.token != token);
    }
}

/// The live runs, with `me` among them (a run that is being ended may have been removed).
pub(crate) fn live_with(me: &LiveRun) -> Vec<LiveRun> {
    let mut live = LIVE.lock().map(|live| live.clone()).unwrap_or_default();
    if !live.iter().any(|run| run.token == me.token) {
        live.push(me.clone());
    }
    live
}

/// Orphans (pid, start time) that could not be told apart once: never attributed by start time
/// again.
static UNKNOWN: Mutex<Vec<(u32, u64)>> = Mutex::new(Vec::new());

/// The token of the run among `live` that `orphan` came from, or `None` (and the orphan is
/// marked unknown) when it cannot be told.
pub(crate) fn owner_of(orphan: &ProcInfo, live: &[LiveRun]) -> Option<String> {
    let key = (orphan.pid, orphan.start_time);
    let mut unknown = UNKNOWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let marked = unknown.contains(&key);
    let owner = attribute(orphan.start_time, &Identity::of(orphan.pid), live, marked);
    if owner.is_none() && !marked {
        // Forget the ones that are gone, then remember this one.
        unknown.retain(|&(pid, start)| {
            os::process_info(pid).is_some_and(|i| i.start_time == start && !i.state.has_ended())
        });
        unknown.push(key);
    }
    owner.map(str::to_string)
}

/// The token of the run in `live` that an orphan started at `start_time` with `identity` came
/// from, by the rules in the module documentation (without the start-time rule for one that
/// is `marked` unknown); `None` when it cannot be told.
pub(crate) fn attribute<'l>(
    start_time: u64,
    identity: &Identity,
    live: &'l [LiveRun],
    marked: bool,
) -> Option<&'l str> {
    if let Some(token) = &identity.token
        && let Some(run) = live.iter().find(|run| &run.token == token)
    {
        return Some(&run.token);
    }
    if let (Some(app), Some(program)) = (&identity.app, &identity.program) {
        let named = live
            .iter()
            .filter(|run| {
                run.label.as_ref().is_some_and(|l| &l.app == app && &l.program == program)
            })
            .max_by_key(|run| (run.leader_start <= start_time, run.leader_start));
        if let Some(run) = named {
            return Some(&run.token);
        }
    }
    if marked {
        return None;
    }
    let mut before = live.iter().filter(|run| run.leader_start <= start_time);
    match (before.next(), before.next()) {
        (Some(run), None) => Some(&run.token),
        _ => None,
    }
}

/// What ending an environment's leftovers at shutdown did ([`end_adopted_orphans`] for the
/// native environment, see [`crate::Environment::shutdown`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Processes that got the stop signal.
    pub ended: usize,
    /// Processes that needed SIGKILL after the grace.
    pub killed: usize,
    /// Processes still alive after SIGKILL.
    pub survivors: Vec<u32>,
}

/// Ends every orphan this process adopted as child subreaper that is still alive, with its
/// descendants: `signal`, up to `grace`, then SIGKILL. For the end of an app, once every
/// program has stopped: what is left then came from a program, but from which one could not
/// be told. Nothing to do (and at once) without a subreaper ([`crate::enable_subreaper`]).
pub async fn end_adopted_orphans(signal: Signal, grace: Duration) -> ShutdownReport {
    if !crate::subreaper::is_enabled() {
        return ShutdownReport::default();
    }
    let Terminated { signalled, killed, survivors } =
        tree::terminate_members(orphans_and_descendants, None, signal, grace).await;
    ShutdownReport { ended: signalled, killed, survivors }
}

/// The live orphans adopted by this process, and their descendants.
fn orphans_and_descendants() -> Vec<ProcInfo> {
    let roots = os::own_children()
        .into_iter()
        .filter(|&pid| !tree::is_owned(pid))
        .filter_map(os::process_info)
        .collect();
    tree::subtree(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(token: &str, leader_start: u64, program: Option<&str>) -> LiveRun {
        LiveRun {
            token: token.into(),
            leader_start,
            label: program.map(|p| Label { app: "demo".into(), program: p.into() }),
        }
    }

    fn identity(token: Option<&str>, program: Option<&str>) -> Identity {
        Identity {
            token: token.map(Into::into),
            app: program.map(|_| "demo".into()),
            program: program.map(Into::into),
        }
    }

    #[test]
    fn the_token_decides_first() {
        let live = [run("a", 10, Some("web")), run("b", 20, Some("worker"))];
        assert_eq!(attribute(30, &identity(Some("a"), Some("worker")), &live, false), Some("a"));
    }

    #[test]
    fn names_decide_when_the_token_was_dropped() {
        let live = [run("a", 10, Some("web")), run("b", 20, Some("worker"))];
        assert_eq!(attribute(30, &identity(None, Some("web")), &live, false), Some("a"));
        // A token of no live run (a nested tend's) does not hide the names.
        assert_eq!(attribute(30, &identity(Some("zz"), Some("worker")), &live, false), Some("b"));
        // Another app's program of the same name is not ours by name.
        let other_app =
            Identity { token: None, app: Some("other".into()), program: Some("web".into()) };
        assert_eq!(attribute(30, &other_app, &live, false), None);
    }

    #[test]
    fn the_start_time_decides_when_only_one_run_had_started() {
        let live = [run("a", 10, Some("web")), run("b", 20, Some("worker"))];
        assert_eq!(attribute(15, &Identity::default(), &live, false), Some("a"));
        assert_eq!(
            attribute(25, &Identity::default(), &live, false),
            None,
            "either run could be it"
        );
        assert_eq!(attribute(5, &Identity::default(), &live, false), None, "older than every run");
        assert_eq!(attribute(15, &Identity::default(), &live, true), None, "marked unknown");
        assert_eq!(attribute(15, &identity(None, Some("web")), &live, true), Some("a"));
    }
}
