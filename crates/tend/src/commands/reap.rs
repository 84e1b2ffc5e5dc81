//! `tend reap`: end what crashed tends left behind, in every app (or one).

use tend_api::AppHome;

use crate::exit::{self, CliError};
use crate::global::Global;

/// `tend reap [--name NAME]`.
///
/// # Errors
/// When processes survive SIGKILL.
pub async fn reap(global: &Global, only: Option<&str>) -> Result<u8, CliError> {
    tend_app::logging::init(&global.level(), global.color, None);
    let apps: Vec<AppHome> = match only {
        Some(name) => vec![AppHome::new(&global.home, name)],
        None => tend_app::home::apps(&global.home),
    };
    let (mut ended, mut kept, mut survivors) = (0, 0, Vec::new());
    for app in &apps {
        let report = tend_app::reap::reap_app(app).await;
        ended += report.processes_ended;
        kept += report.records_kept;
        survivors.extend(report.survivors);
    }
    println!(
        "reaped {ended} process(es) in {} app(s); {kept} record(s) of running tends left alone",
        apps.len()
    );
    if survivors.is_empty() {
        Ok(exit::SUCCESS)
    } else {
        Err(CliError::error(format!(
            "processes {survivors:?} survived SIGKILL; check them with `ps -o pid,stat,cmd -p <pid>` (a process in state D waits on I/O)"
        )))
    }
}
