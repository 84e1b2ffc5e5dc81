//! Ending what crashed tends left behind (`tend reap`, and every start of an app), and
//! finding it without ending it.

use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{Environment as _, NativeEnvironment, RunRegistry};

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
