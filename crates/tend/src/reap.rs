//! `tend reap`: end what crashed tends left behind.

use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{RunRegistry, reap_stale};

use crate::app::Global;
use crate::exit::CliError;
use crate::home;

/// How long reaped processes get between SIGTERM and SIGKILL.
pub const REAP_GRACE: Duration = Duration::from_secs(5);

/// Reaps one app's stale process groups and logs what was done.
pub async fn reap_app(app: &AppHome) -> tend_runner::ReapReport {
    let report = reap_stale(&RunRegistry::new(app.runs()), REAP_GRACE).await;
    if report.records_cleared > 0 || report.processes_ended > 0 {
        tracing::info!(
            "{}: ended {} process(es) left by a tend that is gone ({} record(s) cleared)",
            app.app,
            report.processes_ended,
            report.records_cleared
        );
    }
    for problem in &report.problems {
        tracing::warn!("{}: {problem}", app.app);
    }
    if !report.survivors.is_empty() {
        tracing::error!("{}: processes {:?} survived SIGKILL", app.app, report.survivors);
    }
    report
}

/// A process of a run whose tend is gone (it crashed, or was killed), still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Its pid (the leader of its process group).
    pub pid: u32,
    /// The program it was started as.
    pub program: String,
}

/// The live processes that a tend of this app which is gone left behind, found through the run
/// records (the same trust rule as reaping: the recorded start time and boot must match). Never
/// signals anything.
pub fn leftovers(app: &AppHome) -> Vec<Leftover> {
    let boot = tend_runner::current_boot_id().unwrap_or_default();
    let (records, _) = RunRegistry::new(app.runs()).list();
    records
        .into_iter()
        .filter(|(_, record)| !record.owner.is_alive(&record.boot_id))
        .filter(|(_, record)| {
            tend_runner::same_boot(&record.boot_id, &boot)
                && tend_runner::process_stats(record.pid).is_some_and(|info| {
                    info.start_time == record.start_time && !info.state.has_ended()
                })
        })
        .map(|(_, record)| Leftover { pid: record.pid, program: record.program })
        .collect()
}

/// `12 (web), 15 (worker)`: leftovers for a message.
pub fn describe(leftovers: &[Leftover]) -> String {
    leftovers.iter().map(|l| format!("{} ({})", l.pid, l.program)).collect::<Vec<_>>().join(", ")
}

/// `tend reap [--name NAME]`.
///
/// # Errors
/// When processes survive SIGKILL.
pub async fn reap(global: &Global, only: Option<&str>) -> Result<u8, CliError> {
    crate::logging::init(&global.level(), global.color, None);
    let apps: Vec<AppHome> = match only {
        Some(name) => vec![AppHome::new(&global.home, name)],
        None => home::apps(&global.home),
    };
    let (mut ended, mut kept, mut survivors) = (0, 0, Vec::new());
    for app in &apps {
        let report = reap_app(app).await;
        ended += report.processes_ended;
        kept += report.records_kept;
        survivors.extend(report.survivors);
    }
    println!(
        "reaped {ended} process(es) in {} app(s); {kept} record(s) of running tends left alone",
        apps.len()
    );
    if survivors.is_empty() {
        Ok(crate::exit::SUCCESS)
    } else {
        Err(CliError::error(format!(
            "processes {survivors:?} survived SIGKILL; check them with `ps -o pid,stat,cmd -p <pid>` (a process in state D waits on I/O)"
        )))
    }
}
