//! Finding and ending every process of a program: its group, the descendants that left the
//! group (setsid, double fork), and anything still carrying its run token.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use crate::adopted::{self, Label, LiveRun};
use crate::stats::ProcInfo;
use crate::{Signal, os};

/// Pids of the children this crate spawned and still waits on through tokio. The orphan
/// reaper never touches them, so it cannot steal an exit status from tokio.
static OWNED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Spawns with `spawn` and records the child as owned before anyone can reap it: the orphan
/// reaper takes the same lock, so a child that exits at once is never reaped behind tokio's
/// back.
pub(crate) fn spawn_owned<T>(
    spawn: impl FnOnce() -> std::io::Result<T>,
    pid_of: impl Fn(&T) -> Option<u32>,
) -> std::io::Result<T> {
    let mut owned = OWNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let child = spawn()?;
    if let Some(pid) = pid_of(&child) {
        owned.insert(pid);
    }
    Ok(child)
}

pub(crate) fn disown(pid: u32) {
    if let Ok(mut owned) = OWNED.lock() {
        owned.remove(&pid);
    }
}

pub(crate) fn is_owned(pid: u32) -> bool {
    OWNED.lock().map(|owned| owned.contains(&pid)).unwrap_or(true)
}

/// Everything that identifies one run of a program.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    /// The leader's pid, which is also the group id.
    pub leader: u32,
    /// The leader's start time: a process started earlier cannot belong to this run.
    pub leader_start: u64,
    /// The run token in the environment of every process of this run.
    pub token: String,
    /// Whether this tend started the run (so, with a subreaper, its processes are all in our
    /// process tree); false for runs of a tend that is gone.
    pub ours: bool,
    /// The app and program names its processes carry (runs started with a record).
    pub label: Option<Label>,
}

impl Tree {
    /// Whether something of this run may still be alive, cheaply: the group has a member, or one
    /// of our own children that tokio does not own (an orphan adopted as subreaper) came from
    /// this run (see [`crate::adopted`]). Exact only with a subreaper; elsewhere it says yes
    /// and lets the scan decide.
    pub fn may_have_leftovers(&self) -> bool {
        if os::group_exists(self.leader) {
            return true;
        }
        // (Subreapers exist only on Linux: elsewhere this is never enabled.)
        if !crate::subreaper::is_enabled() {
            return true;
        }
        let live = adopted::live_with(&self.live_run());
        os::own_children()
            .into_iter()
            .filter(|&pid| !is_owned(pid))
            .filter_map(os::process_info)
            .any(|info| self.adopted(&info, &live))
    }

    /// What the registry of live runs knows this run by.
    pub fn live_run(&self) -> LiveRun {
        LiveRun {
            token: self.token.clone(),
            leader_start: self.leader_start,
            label: self.label.clone(),
        }
    }

    /// Whether `orphan`, a child of ours that tokio does not own, came from this run: it is in
    /// the run's group, or is attributed to it among the `live` runs.
    fn adopted(&self, orphan: &ProcInfo, live: &[LiveRun]) -> bool {
        if orphan.state.has_ended() {
            return false;
        }
        (orphan.pgid == self.leader && orphan.start_time >= self.leader_start)
            || adopted::owner_of(orphan, live).is_some_and(|owner| owner == self.token)
    }

    /// Every live process of this run, found by group, by parentage and by token.
    pub fn members(&self) -> Vec<ProcInfo> {
        self.members_in_our_tree().unwrap_or_else(|| self.members_by_scan())
    }

    /// With a subreaper on Linux every process of a run is in tend's own process tree: the
    /// leader's subtree, or an orphan adopted by tend (then identified by token or group).
    /// Walking that tree costs in proportion to the run, not to the whole machine. `None` when
    /// the tree cannot be walked (no subreaper, or the kernel cannot list children).
    fn members_in_our_tree(&self) -> Option<Vec<ProcInfo>> {
        if !self.ours || !crate::subreaper::is_enabled() {
            return None;
        }
        let me = std::process::id();
        let mut live = None;
        let mut roots = Vec::new();
        for child in os::children_of(me)? {
            let leader = child == self.leader;
            // Another run's leader is none of this run's: skipped before anything is read, so
            // that stopping every program at once costs each stop its own run, not all of them.
            if !leader && is_owned(child) {
                continue;
            }
            let Some(info) = os::process_info(child) else { continue };
            let live = live.get_or_insert_with(|| adopted::live_with(&self.live_run()));
            if leader || self.adopted(&info, live) {
                roots.push(info);
            }
        }
        Some(subtree(roots))
    }

    /// Every process on the machine, filtered: for systems without a subreaper, and for runs
    /// of a tend that is gone (`reap_stale`).
    fn members_by_scan(&self) -> Vec<ProcInfo> {
        let me = std::process::id();
        let infos: HashMap<u32, ProcInfo> = os::all_pids()
            .into_iter()
            .filter(|&pid| pid != me)
            .filter_map(os::process_info)
            .filter(|info| !info.state.has_ended())
            .map(|info| (info.pid, info))
            .collect();
        let recent = |info: &ProcInfo| info.start_time >= self.leader_start;
        let mut found: BTreeSet<u32> = infos
            .values()
            .filter(|info| info.pgid == self.leader && recent(info))
            .map(|info| info.pid)
            .collect();
        // Descendants by parentage (those that left the group but whose parent lives).
        let mut frontier: Vec<u32> = found.iter().copied().chain([self.leader]).collect();
        while let Some(parent) = frontier.pop() {
            for info in infos.values() {
                if info.ppid == parent && recent(info) && found.insert(info.pid) {
                    frontier.push(info.pid);
                }
            }
        }
        for info in infos.values() {
            if !found.contains(&info.pid) && os::has_token(info.pid, &self.token) {
                found.insert(info.pid);
            }
        }
        found.into_iter().filter_map(|pid| infos.get(&pid).copied()).collect()
    }

    /// Ends every process of this run: `signal` to all, up to `grace` for them to exit, then
    /// SIGKILL to the rest and up to [`KILL_WAIT`] more. Returns the pids that survived even
    /// that. `group_signal` says whether the group id may be signalled as a whole (only while
    /// the leader is not yet reaped, so the id cannot have been reused).
    pub async fn terminate(
        &self,
        signal: Signal,
        grace: Duration,
        group_signal: bool,
    ) -> Terminated {
        let group = group_signal.then_some(self.leader);
        terminate_members(|| self.members(), group, signal, grace).await
    }
}

/// `roots` and every live descendant of theirs, walking the kernel's lists of children.
pub(crate) fn subtree(mut roots: Vec<ProcInfo>) -> Vec<ProcInfo> {
    let mut found: Vec<ProcInfo> = Vec::new();
    let mut seen = BTreeSet::new();
    while let Some(info) = roots.pop() {
        if !seen.insert(info.pid) {
            continue;
        }
        for child in os::children_of(info.pid).unwrap_or_default() {
            if let Some(child_info) = os::process_info(child) {
                roots.push(child_info);
            }
        }
        if !info.state.has_ended() {
            found.push(info);
        }
    }
    found
}

/// Ends the processes `members` finds (asked again after each wait, so that late ones are
/// found): `signal` to all, up to `grace` for them to exit, then SIGKILL to the rest and up to
/// [`KILL_WAIT`] more. With `group`, that process group is signalled as a whole as well (only
/// while its leader is not yet reaped, so the id cannot have been reused).
pub(crate) async fn terminate_members(
    members: impl Fn() -> Vec<ProcInfo>,
    group: Option<u32>,
    signal: Signal,
    grace: Duration,
) -> Terminated {
    let mut outcome = Terminated::default();
    let first = members();
    if first.is_empty() && !group.is_some_and(os::group_exists) {
        return outcome;
    }
    outcome.signalled = first.len();
    send(signal, &first, group);
    let deadline = tokio::time::Instant::now() + grace;
    let (mut waiting, mut rounds) = (first, 0);
    let remaining = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !wait_all_exited(&waiting, left).await {
            break members();
        }
        // A process forked, or gone out of the group, while the scan ran got no signal:
        // look again, and signal the late ones within the same grace.
        let late = members();
        rounds += 1;
        if late.is_empty() || rounds > LATE_ROUNDS {
            break late;
        }
        outcome.signalled += late.len();
        send(signal, &late, None);
        waiting = late;
    };
    if !remaining.is_empty() {
        outcome.killed = remaining.len();
        send(Signal::Kill, &remaining, group);
        wait_all_exited(&remaining, KILL_WAIT).await;
    }
    reap_orphans();
    outcome.survivors = members().iter().map(|i| i.pid).collect();
    outcome
}

fn send(signal: Signal, members: &[ProcInfo], group: Option<u32>) {
    if let Some(pgid) = group {
        let _ = os::signal_group(pgid, signal);
    }
    for info in members {
        if group != Some(info.pgid) {
            let _ = os::signal_pid(info.pid, signal);
        }
    }
    if signal != Signal::Kill && signal != Signal::Continue {
        // A stopped process cannot act on a polite signal until it is continued.
        for info in members.iter().filter(|i| i.state == crate::ProcessState::Stopped) {
            let _ = os::signal_pid(info.pid, Signal::Continue);
        }
    }
}

/// How many times [`Tree::terminate`] looks for processes that appeared after its scan before
/// it stops being polite.
const LATE_ROUNDS: usize = 5;

/// How long to wait after SIGKILL before reporting survivors.
pub(crate) const KILL_WAIT: Duration = Duration::from_secs(2);

/// What [`Tree::terminate`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Terminated {
    /// How many processes got the stop signal.
    pub signalled: usize,
    /// How many needed SIGKILL after the grace period.
    pub killed: usize,
    /// Processes still alive after SIGKILL.
    pub survivors: Vec<u32>,
}

/// Waits until every process in `members` has ended, for at most `limit`.
async fn wait_all_exited(members: &[ProcInfo], limit: Duration) -> bool {
    let all = async {
        for info in members {
            os::exited(info.pid).await;
        }
    };
    tokio::time::timeout(limit, all).await.is_ok()
}

/// Reaps every ended child of ours that tokio does not wait on: orphans adopted as subreaper.
/// Returns how many were reaped.
pub fn reap_orphans() -> usize {
    let owned = OWNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    os::own_children()
        .into_iter()
        .filter(|pid| !owned.contains(pid))
        .filter(|&pid| os::process_info(pid).is_some_and(|i| i.state.has_ended()))
        .filter(|&pid| os::reap_if_ended(pid))
        .count()
}
