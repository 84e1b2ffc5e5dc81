//! The commands that talk to a running app: `tend status`, `tend restart`, `tend down`; and
//! what they share with `tend logs` (finding the app, printing to a pipe that may close).

use std::path::Path;
use std::time::{Duration, Instant};

use tend_api::client::{self, ClientError};
use tend_api::{ProgramStatus, Status, Stopping};

pub use crate::cli::{DownArgs, RestartArgs, StatusArgs};
use crate::commands::target::Target;
use crate::exit::{self, CliError};
use crate::global::Global;
use crate::output::Printer;

/// How long `tend status` waits for an answer.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `tend restart` waits: a graceful stop may take a program's whole stop timeout.
const VERB_TIMEOUT: Duration = Duration::from_secs(300);
/// How long `tend down` waits for the app to stop.
pub const DOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// `tend status [--json]`.
///
/// # Errors
/// Not running (exit 3), or the app's answer cannot be read (exit 1).
pub async fn status(global: &Global, file: &Path, args: StatusArgs) -> Result<u8, CliError> {
    let target = Target::resolve(global, file, args.name.as_deref())?;
    let response = match target.request("GET", "/v1/status", STATUS_TIMEOUT, true).await {
        Err(e) if e.code == exit::NOT_RUNNING => return Err(not_running(&target, e)),
        response => response?,
    };
    if !response.is_success() {
        return Err(CliError::error(response.error_message()));
    }
    let mut out = Printer::stdout();
    if args.json {
        out.write(&response.text());
        out.write("\n");
    } else {
        let status: Status = serde_json::from_slice(&response.body)
            .map_err(|e| CliError::error(format!("unreadable status from the app: {e}")))?;
        out.write(&crate::output::status_table(&status));
    }
    out.flush();
    Ok(exit::SUCCESS)
}

/// The "not running" error, told truthfully: when a crashed tend left processes behind, it
/// says which, and how to end them.
fn not_running(target: &Target, error: CliError) -> CliError {
    let left = tend_app::reap::leftovers(&target.home);
    if left.is_empty() {
        return error;
    }
    CliError {
        code: exit::NOT_RUNNING,
        message: format!(
            "app `{}` is not running: no tend runs it, but {} process(es) of a crashed run are \
             still alive: {}; end them with `tend down{}` or `tend reap`",
            target.home.app,
            left.len(),
            tend_app::reap::describe(&left),
            target.hint
        ),
    }
}

/// `tend restart [PROGRAM]`.
///
/// # Errors
/// Not running (exit 3), an unknown program (exit 1).
pub async fn restart(global: &Global, file: &Path, args: RestartArgs) -> Result<u8, CliError> {
    let target = Target::resolve(global, file, args.name.as_deref())?;
    if args.app {
        return restart_app(&target, args).await;
    }
    let uri = match &args.program {
        Some(name) => format!("/v1/programs/{}/restart", client::percent_encode(name)),
        None => "/v1/restart".into(),
    };
    let response = target.request("POST", &uri, VERB_TIMEOUT, true).await?;
    if !response.is_success() {
        return Err(CliError::error(response.error_message()));
    }
    let mut out = Printer::stdout();
    match &args.program {
        Some(name) => {
            let program: ProgramStatus = serde_json::from_slice(&response.body)
                .map_err(|e| CliError::error(format!("unreadable answer from the app: {e}")))?;
            let pid = program.pid.map_or_else(String::new, |pid| format!(", pid {pid}"));
            out.write(&format!("{name}: restarted ({}{pid})\n", program.state));
        }
        None => {
            let status: Status = serde_json::from_slice(&response.body)
                .map_err(|e| CliError::error(format!("unreadable answer from the app: {e}")))?;
            out.write(&format!("{}: restarted {} program(s)\n", status.app, status.programs.len()));
        }
    }
    out.flush();
    Ok(exit::SUCCESS)
}

/// `tend restart --app`: asks the running app to restart itself; returns once it has accepted.
async fn restart_app(target: &Target, args: RestartArgs) -> Result<u8, CliError> {
    let body = serde_json::json!({ "reason": args.reason, "context": args.context });
    let socket = target.socket();
    let response =
        match client::request_json(&socket, "POST", "/v1/app/restart", Some(&body), VERB_TIMEOUT)
            .await
        {
            Ok(response) => response,
            Err(ClientError::NotRunning) => return Err(target.not_running(true)),
            Err(ClientError::Failed(message)) => {
                return Err(CliError::error(format!("app `{}`: {message}", target.home.app)));
            }
        };
    if !response.is_success() {
        return Err(CliError::error(response.error_message()));
    }
    let restarting: tend_api::Restarting = serde_json::from_slice(&response.body)
        .map_err(|e| CliError::error(format!("unreadable answer from the app: {e}")))?;
    let mut out = Printer::stdout();
    out.write(&format!(
        "{}: restarting (tend pid {}); `tend status` answers again once it is back\n",
        target.home.app, restarting.pid
    ));
    out.flush();
    Ok(exit::SUCCESS)
}

/// `tend down`: asks the running app to stop, waits (up to [`DOWN_TIMEOUT`]) until its tend
/// has exited, then ends what its run records still name.
///
/// # Errors
/// Not running (exit 3), or it did not stop in time (exit 1).
pub async fn down(global: &Global, file: &Path, args: DownArgs) -> Result<u8, CliError> {
    let target = Target::resolve(global, file, args.name.as_deref())?;
    let socket = target.socket();
    // An installed, running service would start the app again at once: stop the service
    // first (design.md, "Stopping"). That may already have ended the app: still a success.
    let service = crate::commands::service::stop_for_down(global, &target.home.app);
    let service_stopped = match service {
        Some(Ok(note)) => {
            eprintln!("{note}");
            true
        }
        Some(Err(note)) => {
            eprintln!("tend: warning: {note}");
            false
        }
        None => false,
    };
    let response = match target.request("POST", "/v1/stop", STATUS_TIMEOUT, false).await {
        Err(e) if service_stopped && e.code == exit::NOT_RUNNING => {
            return finish_down(global, &target).await;
        }
        Err(e) if e.code == exit::NOT_RUNNING => {
            // No tend runs it; what a crashed one left still goes (design.md, "Stopping").
            let left = tend_app::reap::leftovers(&target.home);
            if left.is_empty() {
                return Err(e);
            }
            eprintln!(
                "{}: no tend was running; ending {} process(es) of a crashed run: {}",
                target.home.app,
                left.len(),
                tend_app::reap::describe(&left)
            );
            return finish_down(global, &target).await;
        }
        response => response?,
    };
    if !response.is_success() {
        return Err(CliError::error(response.error_message()));
    }
    let stopping: Stopping = serde_json::from_slice(&response.body)
        .map_err(|e| CliError::error(format!("unreadable answer from the app: {e}")))?;
    let deadline = Instant::now() + DOWN_TIMEOUT;
    loop {
        let alive = tend_runner::process_stats(stopping.pid).is_some_and(|p| !p.state.has_ended());
        if !alive && !client::answers(&socket).await {
            break;
        }
        if Instant::now() >= deadline {
            return Err(CliError::error(format!(
                "app `{}` did not stop within {} (tend pid {}); see {}",
                target.home.app,
                tend_api::human(DOWN_TIMEOUT),
                stopping.pid,
                target.home.tend_log().display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    finish_down(global, &target).await
}

/// The end of `tend down` once the app's tend has exited: end what its run records still
/// name, and say so.
async fn finish_down(global: &Global, target: &Target) -> Result<u8, CliError> {
    tend_app::logging::init(&global.level(), global.color, None);
    tend_app::reap::reap_app(&target.home).await;
    let mut out = Printer::stdout();
    out.write(&format!("{}: stopped\n", target.home.app));
    out.flush();
    Ok(exit::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(client::percent_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(client::percent_encode("web-1"), "web-1");
    }
}
