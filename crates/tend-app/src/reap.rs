//! Ending what crashed tends left behind (`tend reap`, and every start of an app), and
//! finding it without ending it.

use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{Environment as _, NativeEnvironment, RunRegistry, RunnerKind};

/// How long the processes of a tend that is gone get between SIGTERM and SIGKILL: short,
/// since they were not stopped by their own tend and the next start waits for them. Every run
/// gets it at the same time.
pub const REAP_GRACE: Duration = Duration::from_secs(1);

/// Reaps what a tend of `app` that is gone left: its stale process groups, and, where a Docker
/// daemon answers, its containers (an app's own start reaps in every environment it uses, see
/// [`crate::programs::environments::Environments::reap_leftovers`]); logs what was done.
pub async fn reap_app(app: &AppHome) -> tend_runner::ReapReport {
    let registry = RunRegistry::new(app.runs());
    let mut report = NativeEnvironment::new().reap_leftovers(&registry, REAP_GRACE).await;
    log_report(app, RunnerKind::Native, &report);
    match tend_runner::docker_ping().await {
        Ok(()) => {
            let spec = tend_runner::DockerSpec::new(app.app.clone(), String::new());
            let docker = tend_runner::DockerEnvironment::new(spec);
            let containers = docker.reap_leftovers(&registry, REAP_GRACE).await;
            log_report(app, RunnerKind::Docker, &containers);
            report.survivors.extend(containers.survivors);
            report.problems.extend(containers.problems);
        }
        // No Docker here: nothing of it to reap.
        Err(e) => tracing::debug!("{}: containers not reaped: {e}", app.app),
    }
    report
}

/// Logs what reaping `app` in the environment of `kind` did.
pub fn log_report(app: &AppHome, kind: RunnerKind, report: &tend_runner::ReapReport) {
    if kind == RunnerKind::Docker && report.records_cleared > 0 {
        tracing::info!(
            "{}: removed {} container(s) of a tend that is gone",
            app.app,
            report.records_cleared
        );
    } else if report.records_cleared > 0 || report.processes_ended > 0 {
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
