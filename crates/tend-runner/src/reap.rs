//! Ending what a crashed tend left behind, and telling what is left.

use std::path::PathBuf;
use std::time::Duration;

use crate::records::{RunRecord, RunRegistry, current_boot_id};
use crate::tree::{Terminated, Tree};
use crate::{Signal, os};

/// How many passes [`reap_stale`] makes at most: ending one group can orphan another whose
/// owner was in it.
const MAX_PASSES: usize = 5;

/// What [`reap_stale`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReapReport {
    /// Records whose owner was gone and whose processes were ended (or already gone).
    pub records_cleared: usize,
    /// Processes that got a signal.
    pub processes_ended: usize,
    /// Processes that ignored the stop signal for the whole grace and got SIGKILL.
    pub processes_killed: usize,
    /// Records left alone because their owner is still running.
    pub records_kept: usize,
    /// Damaged records, moved aside (never acted on).
    pub set_aside: Vec<PathBuf>,
    /// Processes still alive after SIGKILL.
    pub survivors: Vec<u32>,
    /// Problems that did not stop the reaping (e.g. a record that could not be removed).
    pub problems: Vec<String>,
}

/// A process of a run whose tend is gone (it crashed, or was killed), still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Its pid.
    pub pid: u32,
    /// The program of the run it belongs to.
    pub program: String,
}

/// The run of `record`, as a later tend sees it, and whether its leader is still the recorded
/// process (same pid, start time and boot), so that its group id may be signalled.
fn stale_tree(record: &RunRecord, boot: &str) -> (Tree, bool) {
    let leader_is_ours = crate::same_boot(&record.boot_id, boot)
        && os::process_info(record.pid)
            .is_some_and(|info| info.start_time == record.start_time && !info.state.has_ended());
    let tree = Tree {
        leader: record.pgid,
        // An untrusted leader: only token carriers qualify, so no start-time filter can admit
        // a stranger; a trusted one bounds group members by its start time.
        leader_start: if leader_is_ours { record.start_time } else { u64::MAX },
        token: record.run_id.clone(),
        ours: false,
        label: None,
    };
    (tree, leader_is_ours)
}

/// The live processes of every run in `registry` whose tend is gone: its process group and
/// descendants while the recorded leader lives, and anything carrying its run token. The same
/// trust rule as [`reap_stale`] (a recycled pid is never listed); never signals anything.
/// Sorted by pid.
pub fn live_leftovers(registry: &RunRegistry) -> Vec<Leftover> {
    let boot = current_boot_id().unwrap_or_default();
    let (records, _) = registry.list();
    let mut found: Vec<Leftover> = records
        .into_iter()
        .filter(|(_, record)| !record.owner.is_alive(&record.boot_id))
        .flat_map(|(_, record)| {
            let (tree, _) = stale_tree(&record, &boot);
            tree.members()
                .into_iter()
                .map(move |info| Leftover { pid: info.pid, program: record.program.clone() })
        })
        .collect();
    found.sort_by_key(|l| l.pid);
    found.dedup_by_key(|l| l.pid);
    found
}

/// Ends the process groups of every run record in `registry` whose owner (a tend process) is
/// gone, then removes those records.
///
/// A group is signalled only if its leader's pid still has the recorded start time and the boot
/// id is the same: a recycled pid is never signalled. Any live process that carries the
/// record's run token is ended too — the token, not the pid, proves identity — which finds
/// descendants that left the group. Stop: SIGTERM, up to `grace`, then SIGKILL; every run at
/// the same time, so the whole reap takes one grace, not one per run.
pub async fn reap_stale(registry: &RunRegistry, grace: Duration) -> ReapReport {
    let mut report = ReapReport::default();
    let boot = current_boot_id().unwrap_or_default();
    for _ in 0..MAX_PASSES {
        let (records, damaged) = registry.list();
        for bad in damaged {
            match tend_fs::quarantine(&bad.path) {
                Ok(moved) => {
                    tracing::warn!(file = %bad.path.display(), moved_to = %moved.display(), "damaged run record set aside ({})", bad.problem);
                    report.set_aside.push(moved);
                }
                Err(e) => report.problems.push(format!("{e}")),
            }
        }
        report.records_kept = 0;
        let mut ending = tokio::task::JoinSet::new();
        for (path, record) in records {
            if record.owner.is_alive(&record.boot_id) {
                report.records_kept += 1;
                continue;
            }
            let (tree, leader_is_ours) = stale_tree(&record, &boot);
            ending.spawn(async move {
                let outcome = tree.terminate(Signal::Terminate, grace, leader_is_ours).await;
                (path, record, outcome)
            });
        }
        let mut ended_this_pass = 0;
        while let Some(joined) = ending.join_next().await {
            let Ok((path, record, outcome)) = joined else { continue };
            let Terminated { signalled, killed, survivors } = outcome;
            if signalled > 0 {
                tracing::info!(
                    app = %record.app, program = %record.program, pgid = record.pgid,
                    "ended {signalled} stale process(es) left by a tend that is gone ({killed} after SIGKILL)"
                );
            }
            ended_this_pass += signalled;
            report.processes_ended += signalled;
            report.processes_killed += killed;
            report.survivors.extend(survivors);
            match std::fs::remove_file(&path) {
                Ok(()) => report.records_cleared += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => report.problems.push(format!("removing {}: {e}", path.display())),
            }
        }
        if ended_this_pass == 0 {
            break;
        }
    }
    report
}
