//! `tend up` (in the foreground, or in the background with `-d`) and `tend run`: the runtime
//! ([`tend_app::App::run`]) with the command line's options; what it returns becomes the exit
//! code in [`crate::exit`].

use std::path::Path;

use tend_app::config::Config;
use tend_app::{App, AppOptions, Source};

use crate::cli::RunArgs;
use crate::exit::{self, CliError};
use crate::global::Global;

/// `tend up`: runs the app of `file` in the foreground; with `watch_config`, edits of `file`
/// are applied as they come.
///
/// # Errors
/// Whatever stops the app from running ([`tend_app::AppError`]), exit 1.
pub async fn up(
    global: &Global,
    file: &Path,
    replace: bool,
    watch_config: bool,
) -> Result<u8, CliError> {
    let source = Source::File { path: file.to_path_buf(), watch: watch_config };
    let outcome = App::run(options(global, source, replace)).await?;
    Ok(exit::of_up(&outcome))
}

/// `tend run`: runs the one-program app `config` (see [`RunArgs::config`]).
///
/// # Errors
/// Whatever stops the app from running ([`tend_app::AppError`]), exit 1.
pub async fn run(global: &Global, config: Config, replace: bool) -> Result<u8, CliError> {
    let outcome = App::run(options(global, Source::Config(config), replace)).await?;
    Ok(exit::of_run(&outcome))
}

/// `tend up -d`: starts the app of `file` in the background and returns once it answers.
///
/// # Errors
/// Whatever kept the background tend from being ready ([`tend_app::detach::DetachError`]).
pub async fn up_detached(global: &Global, file: &Path) -> Result<u8, CliError> {
    let started = tend_app::detach::up(&global.home, file).await?;
    let flag = tend_app::detach::file_flag(file);
    let how = if started.api {
        format!("`tend status{flag}`, `tend logs{flag} -F`, `tend down{flag}`")
    } else {
        "no control API (see tend.log)".to_owned()
    };
    println!(
        "{}: running in the background (pid {}); logs in {}; {how}",
        started.app,
        started.pid,
        started.logs.display()
    );
    Ok(exit::SUCCESS)
}

fn options(global: &Global, source: Source, replace: bool) -> AppOptions {
    AppOptions {
        replace,
        color: global.color,
        quiet: global.quiet,
        log_level: global.level(),
        ..AppOptions::new(&global.home, source)
    }
}

impl RunArgs {
    /// The one-program app these options describe, run from the current folder.
    ///
    /// # Errors
    /// No current folder, a name that cannot be told or is invalid, an unknown policy.
    pub fn config(&self) -> Result<tend_app::config::Config, CliError> {
        use tend_app::config::{Config, ProgramConfig, RestartPolicy};
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::error(format!("cannot read the current directory: {e}")))?;
        let name = match &self.name {
            Some(name) => name.clone(),
            None => tend_app::config::run_name(&self.command).map_err(CliError::error)?,
        };
        let mut program = ProgramConfig::new(name.clone(), self.command.clone(), cwd);
        program.restart = self.restart.parse::<RestartPolicy>().map_err(|_| {
            CliError::error(format!(
                "--restart: unknown policy `{}`; expected always, on-failure or never",
                self.restart
            ))
        })?;
        program.restart_exit_code = Some(self.restart_exit_code);
        program.backoff.initial = self.backoff_initial;
        program.backoff.max = self.backoff_max.max(self.backoff_initial);
        program.stop.grace = self.stop_timeout;
        Config::single(name, program).map_err(|e| CliError::error(e.to_string()))
    }
}
