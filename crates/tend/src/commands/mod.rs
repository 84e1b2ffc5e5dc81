//! The commands the CLI runs, one file each (or per family): what they ask of the runtime, and
//! what they print.
//!
//! - [`app`]: `tend up`, `tend up -d`, `tend run` (the runtime, [`tend_app::App::run`])
//! - [`control`]: `tend status`, `tend restart`, `tend down` (through the control API)
//! - [`logs`]: `tend logs`
//! - [`env`](mod@env): `tend env`
//! - [`docker`]: `tend docker dockerfile`
//! - [`prepare`]: `tend prepare` (images and dev shells, ahead of time)
//! - [`service`]: `tend service …`
//! - [`inflight`]: `tend inflight begin|done|list`
//! - [`reap`]: `tend reap`
//! - [`version`]: `tend version`; [`update`]: `tend update`
//! - [`target`]: which app a command is about, and asking it over its control API

pub mod app;
pub mod control;
pub mod docker;
pub mod env;
pub mod inflight;
pub mod logs;
pub mod prepare;
pub mod reap;
pub mod service;
pub mod target;
pub mod update;
pub mod version;

use crate::exit::CliError;

/// Runs the parsed command; returns tend's exit code.
///
/// # Errors
/// A [`CliError`] with the message to print and the exit code to use.
pub async fn dispatch(cli: crate::cli::Cli) -> Result<u8, CliError> {
    let home = tend_app::home::resolve(cli.home.as_deref()).map_err(CliError::error)?;
    let global = crate::global::Global {
        home,
        color: cli.color.enabled(),
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    match cli.command {
        crate::cli::Command::Up(args) if args.detach && !tend_app::detach::is_detached_child() => {
            app::up_detached(&global, &cli.file).await
        }
        crate::cli::Command::Up(args) => {
            app::up(&global, &cli.file, args.replace, args.watch_config).await
        }
        crate::cli::Command::Run(args) => {
            let config = args.config()?;
            app::run(&global, config, args.replace).await
        }
        crate::cli::Command::Env { program, show_secrets, json } => {
            env::show(
                &global,
                &cli.file,
                program.as_deref(),
                env::EnvOptions { show_secrets, json },
            )
            .await
        }
        crate::cli::Command::Reap { name } => reap::reap(&global, name.as_deref()).await,
        crate::cli::Command::Status(args) => control::status(&global, &cli.file, args).await,
        crate::cli::Command::Restart(args) => control::restart(&global, &cli.file, args).await,
        crate::cli::Command::Down(args) => control::down(&global, &cli.file, args).await,
        crate::cli::Command::Logs(args) => logs::logs(&global, &cli.file, args).await,
        crate::cli::Command::Service(args) => service::run(&global, &cli.file, args).await,
        crate::cli::Command::Inflight(args) => inflight::run(&global, &cli.file, args).await,
        crate::cli::Command::Docker(args) => docker::run(&global, &cli.file, args),
        crate::cli::Command::Prepare(args) => prepare::run(&global, &cli.file, args).await,
        crate::cli::Command::Version(args) => version::show(&args),
        crate::cli::Command::Update(args) => update::run(&global, &cli.file, args).await,
    }
}
