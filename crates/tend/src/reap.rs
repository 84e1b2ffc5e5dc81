//! `tend reap`: end what crashed tends left behind.

use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{Environment as _, NativeEnvironment, RunRegistry};

use crate::exit::CliError;
use crate::global::Global;
use crate::home;

/// How long the processes of a tend that is gone get between SIGTERM and SIGKILL: short,
/// since they were not stopped by their own tend and the next start waits for them. Every run
/// gets it at the same time.
pub const REAP_GRACE: Duration = Duration::from_secs(1);

/// Reaps what a tend of `app` that is gone left natively (its stale process groups; the
/// app's own run ends what it left in every environment, see
/// [`crate::programs::environments::Environments::reap_leftovers`]) and logs what was done.
pub async fn reap_app(app: &AppHome) -> tend_runner::ReapReport {
    let report =
        NativeEnvironment::new().reap_leftovers(&RunRegistry::new(app.runs()), REAP_GRACE).await;
    log_report(app, &report);
    report
}

/// Logs what reaping `app` did.
pub fn log_report(app: &AppHome, report: &tend_runner::ReapReport) {
    if report.records_cleared > 0 || report.processes_ended > 0 {
        tracing::info!(
            "{}: ended {} process(es) left by a tend that is gone ({} record(s) cleared; {} \
             needed SIGKILL after {})",
            app.app,
            report.processes_ended,
            report.records_cleared,
            report.processes_killed,
            tend_api::human(REAP_GRACE)
        );
    }
    for problem in &report.problems {
        tracing::warn!("{}: {problem}", app.app);
    }
    if !report.survivors.is_empty() {
        tracing::error!("{}: processes {:?} survived SIGKILL", app.app, report.survivors);
    }
}

pub use tend_runner::Leftover;

/// The live processes that a tend of this app which is gone left behind, found through the run
/// records (see [`tend_runner::live_leftovers`]). Never signals anything.
pub fn leftovers(app: &AppHome) -> Vec<Leftover> {
    tend_runner::live_leftovers(&RunRegistry::new(app.runs()))
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
