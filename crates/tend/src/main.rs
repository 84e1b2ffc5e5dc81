//! The `tend` command: parse, run, exit with the command's code.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // While this process has one thread: its environment may still be changed safely.
    tend_app::detach::take_env();
    let cli = tend::cli::Cli::parse();
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("tend: error: cannot start the async runtime: {e}");
                return ExitCode::from(tend::exit::ERROR);
            }
        };
    let result = runtime.block_on(tend::commands::dispatch(cli));
    // Program tasks may still hold resources; do not wait for them.
    runtime.shutdown_background();
    // tend's last events, if the terminal takes them (one that does not read is not waited for).
    tend_app::logging::flush_terminal();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !e.message.is_empty() {
                // A background tend (`tend up -d`) says it to the launcher that waits for it.
                tend_app::detach::notify_failed(&e.message);
                eprintln!("tend: error: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
