//! `tend inflight begin|done|list`, and the item tables of `tend inflight list` and
//! `tend status`.

use std::path::Path;
use std::time::SystemTime;

use tend_api::AppHome;
use tend_api::inflight::{Inflight, InflightError, rfc3339};

use crate::cli::{InflightArgs, InflightCommand};
use crate::commands::target::Target;
use crate::exit::{self, CliError};
use crate::global::Global;
use crate::output::{Printer, printable};

/// The default of the global `-f FILE`.
const DEFAULT_FILE: &str = "tend.toml";

/// `tend inflight …`.
///
/// # Errors
/// Not running (exit 3), a rejected item or an unreachable app (exit 1).
pub async fn run(global: &Global, file: &Path, args: InflightArgs) -> Result<u8, CliError> {
    // A program under tend reports to its own app, whatever tend.toml its folder holds and
    // whatever TEND_HOME it sees (its tend may have been given --home), unless told otherwise.
    let home = match AppHome::from_state_dir_env() {
        Some(home) if args.name.is_none() && file == Path::new(DEFAULT_FILE) => home,
        _ => Target::resolve(global, file, args.name.as_deref())?.home,
    };
    let program = std::env::var("TEND_PROGRAM").ok().filter(|p| !p.is_empty());
    let inflight = Inflight::new(home).with_program(program);
    let verbose = global.verbose > 0 && !global.quiet;
    match args.command {
        InflightCommand::Begin { id, label } => {
            let item = inflight.begin(&id, label.as_deref()).await.map_err(cli_error)?;
            if verbose {
                let since = rfc3339::format(item.started_at);
                eprintln!("tend: `{}` in flight since {since}", printable(&item.id));
            }
        }
        InflightCommand::Done { id } => {
            let removed = inflight.done(&id).await.map_err(cli_error)?;
            if verbose {
                let id = printable(&id);
                if removed {
                    eprintln!("tend: `{id}` done");
                } else {
                    eprintln!("tend: `{id}` was not in flight; nothing to do");
                }
            }
        }
        InflightCommand::List { json } => {
            let list = inflight.list().await.map_err(cli_error)?;
            let mut out = Printer::stdout();
            if json {
                let text = serde_json::to_string(&list)
                    .map_err(|e| CliError::error(format!("cannot print the list: {e}")))?;
                out.line("", &text);
            } else if list.inflight.is_empty() && list.interrupted.is_empty() {
                out.line("", "nothing in flight");
            } else {
                out.write(&crate::output::inflight_sections(
                    &list.inflight,
                    &list.interrupted,
                    SystemTime::now(),
                ));
            }
            out.flush();
        }
    }
    Ok(exit::SUCCESS)
}

fn cli_error(e: InflightError) -> CliError {
    match e {
        InflightError::NotRunning { app } => CliError {
            code: exit::NOT_RUNNING,
            message: format!("app `{app}` is not running; start it with `tend up`"),
        },
        other => CliError::error(exit::chain(&other)),
    }
}
