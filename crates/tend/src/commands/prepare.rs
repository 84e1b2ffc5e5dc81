//! `tend prepare [--refresh]`: builds what the app needs before it starts — the image of its
//! `[docker] build`, the dev shell of each nix program's flake — with progress: a bar over the
//! build's steps (the build's lines printed above it), a spinner while nix evaluates; plain
//! lines without a terminal.
//!
//! What is prepared is what `tend up` would prepare: the app's environments
//! ([`tend_app::programs::environments::Environments`]), `runner = "auto"` resolved as a start
//! would.

use std::io::IsTerminal as _;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tend_api::AppHome;
use tend_app::config::Config;
use tend_app::programs::choice::{Probe, resolve};
use tend_app::programs::environments::{EnvOptions, Environments};
use tend_runner::{DockerBuildProgress, DockerImageBuild, NixEnvironment, NixMode, ShellSource};

use crate::cli::PrepareArgs;
use crate::exit::CliError;
use crate::global::Global;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    /// Bars and spinners on a terminal (stderr).
    Bars,
    /// One line per step.
    Lines,
}

/// Prepares the app in `file`.
///
/// # Errors
/// A bad config, a build that failed, a dev shell that cannot be made (exit 1).
pub async fn run(global: &Global, file: &Path, args: PrepareArgs) -> Result<u8, CliError> {
    tend_app::logging::init(&global.level(), global.color, None);
    let mut config = Config::load(file).map_err(|e| CliError::error(e.to_string()))?;
    if let Some(message) = tend_app::programs::unavailable_runner(&config) {
        return Err(CliError::error(message));
    }
    let probe = Probe::take(&config).await;
    for (name, choice) in resolve(&mut config, &probe) {
        println!("{name}: runner = \"auto\" chose {}", choice.reason);
    }
    let home = AppHome::new(&global.home, &config.name);
    let options = EnvOptions { refresh: args.refresh, ..EnvOptions::new(&global.home, probe) };
    let environments = Environments::for_config(&config, &home, &options);
    let show =
        if std::io::stderr().is_terminal() && !global.quiet { Show::Bars } else { Show::Lines };
    let mut prepared = 0;
    for env in environments.all() {
        if let Some(build) = env.image_build() {
            image(build, args.refresh, show).await?;
            prepared += 1;
        }
        if let Some(nix) = env.nix() {
            shell(nix, show).await?;
            prepared += 1;
        }
    }
    if prepared == 0 {
        println!(
            "{}: nothing to prepare (no [docker] build used, no runner = \"nix\" program)",
            config.name
        );
    }
    Ok(crate::exit::SUCCESS)
}

/// Builds `build`'s image, unless it is there and not `refresh`.
async fn image(build: &DockerImageBuild, refresh: bool, show: Show) -> Result<(), CliError> {
    let tag = &build.tag;
    let failed = |e: tend_runner::DockerError| CliError::error(format!("image {tag}: {e}"));
    if !refresh && tend_runner::docker_image_present(tag).await.map_err(failed)? {
        println!("image {tag}: ready (already built)");
        return Ok(());
    }
    let start = Instant::now();
    let bar = (show == Show::Bars).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("image {tag}"));
        bar.set_message("sending the build context");
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    if bar.is_none() {
        eprintln!("image {tag}: building (at most {})", tend_api::human(build.timeout));
    }
    let result = tend_runner::docker_build_image(build, &mut |progress| match (&bar, progress) {
        (Some(bar), DockerBuildProgress::Step { number, total, instruction }) => {
            bar.set_length(total as u64);
            bar.set_position(number.saturating_sub(1) as u64);
            bar.set_message(instruction.to_owned());
        }
        (Some(bar), DockerBuildProgress::Line(line)) => bar.println(format!("  | {line}")),
        (None, DockerBuildProgress::Step { number, total, instruction }) => {
            eprintln!("image {tag}: step {number}/{total}: {instruction}");
        }
        (None, DockerBuildProgress::Line(line)) => eprintln!("  | {line}"),
    })
    .await;
    match (&bar, &result) {
        (Some(bar), Ok(())) => {
            let total = bar.length().unwrap_or(0);
            bar.set_position(total);
            bar.finish_and_clear();
        }
        (Some(bar), Err(_)) => bar.abandon(),
        (None, _) => {}
    }
    result.map_err(failed)?;
    println!("image {tag}: ready (built in {})", seconds(start.elapsed()));
    Ok(())
}

/// Prepares `nix`'s dev shell (its spec says whether to evaluate again).
async fn shell(nix: &NixEnvironment, show: Show) -> Result<(), CliError> {
    let dir = nix.flake_dir().display().to_string();
    let spinner = (show == Show::Bars).then(|| {
        let spinner = ProgressBar::new_spinner();
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.set_message(format!("dev shell of {dir}: preparing"));
        spinner.enable_steady_tick(Duration::from_millis(100));
        spinner
    });
    if spinner.is_none() {
        eprintln!("dev shell of {dir}: preparing");
    }
    let result = nix.prepare_shell().await;
    if let Some(spinner) = &spinner {
        spinner.finish_and_clear();
    }
    let prepared = result.map_err(|e| {
        CliError::error(format!("dev shell of {dir}: {}", tend_app::error::chain(&e)))
    })?;
    let how = match prepared.source {
        ShellSource::Cache => "from the cache".to_owned(),
        ShellSource::SharedEvaluation => "evaluated by another tend".to_owned(),
        ShellSource::Evaluated => format!("evaluated in {}", seconds(prepared.took)),
        ShellSource::None => "not materialised".to_owned(),
    };
    match &prepared.mode {
        NixMode::Materialised => println!("dev shell of {dir}: ready (materialised, {how})"),
        NixMode::Wrapped { reason } => println!(
            "dev shell of {dir}: ready, wrapped: each start goes through `nix develop` (slower), \
             because {reason}"
        ),
    }
    Ok(())
}

fn seconds(took: Duration) -> String {
    format!("{:.1}s", took.as_secs_f64())
}
