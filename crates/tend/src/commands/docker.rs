//! `tend docker …`: the app's Docker container, as tend.toml describes it.

use std::io::Write as _;
use std::path::Path;

use tend_app::config::{Config, DockerImage};

use crate::cli::{DockerArgs, DockerCommand};
use crate::exit::CliError;
use crate::global::Global;

/// Runs a `tend docker` subcommand on the app in `file`.
///
/// # Errors
/// A bad config, or one with nothing to show (exit 1).
pub fn run(global: &Global, file: &Path, args: DockerArgs) -> Result<u8, CliError> {
    tend_app::logging::init(&global.level(), global.color, None);
    match args.command {
        DockerCommand::Dockerfile => dockerfile(file),
    }
}

/// `tend docker dockerfile`: the Dockerfile of `[docker] build`, on stdout.
fn dockerfile(file: &Path) -> Result<u8, CliError> {
    let config = Config::load(file).map_err(|e| CliError::error(e.to_string()))?;
    let shown = file.display();
    let docker = config.docker.as_deref().ok_or_else(|| {
        CliError::error(format!(
            "{shown} has no [docker] table; add one with build = {{ base = \"debian:bookworm-slim\" }} \
             for tend to build an image"
        ))
    })?;
    let build = match &docker.image {
        DockerImage::Build(build) => build,
        DockerImage::Named(image) => {
            return Err(CliError::error(format!(
                "{shown}: [docker] runs the image {image:?} as it is, so there is no Dockerfile; \
                 use build = {{ base = {image:?} }} instead of image for tend to build one"
            )));
        }
    };
    // A loaded config has its extras checked: this does not fail.
    let text = tend_app::docker::dockerfile(build, &docker.extras)
        .map_err(|e| CliError::error(format!("{shown}: {e}")))?;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => Ok(crate::exit::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(crate::exit::SUCCESS),
        Err(e) => Err(CliError::error(format!("writing to stdout: {e}"))),
    }
}
