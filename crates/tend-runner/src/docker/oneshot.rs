//! Short helper execs (stop, sweep, probe): run, collect the output, return it with the exit
//! code.

use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt as _;

use super::error::DockerError;

/// The most output a helper exec may give (they print a few short lines).
const MAX_OUTPUT: usize = 64 * 1024;

/// Runs `argv` in `container` with `env` (`KEY=value` items), as `user` if given, for at most
/// `limit`; returns its stdout and its exit code (`None` when it could not be read).
///
/// # Errors
/// [`DockerError::Api`] when the exec cannot be created or started, or does not end in time.
pub(crate) async fn run(
    docker: &Docker,
    container: &str,
    argv: Vec<String>,
    env: Vec<String>,
    user: Option<&str>,
    limit: Duration,
) -> Result<(String, Option<i64>), DockerError> {
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(argv),
        env: Some(env),
        user: user.map(str::to_string),
        ..Default::default()
    };
    let exec = docker
        .create_exec(container, options)
        .await
        .map_err(|e| DockerError::api("creating a helper exec", e))?;
    let started = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(|e| DockerError::api("starting a helper exec", e))?;
    let mut out = Vec::new();
    if let StartExecResults::Attached { mut output, .. } = started {
        let collect = async {
            while let Some(Ok(frame)) = output.next().await {
                if let LogOutput::StdOut { message } | LogOutput::Console { message } = frame
                    && out.len() < MAX_OUTPUT
                {
                    out.extend_from_slice(&message);
                }
            }
        };
        if tokio::time::timeout(limit, collect).await.is_err() {
            return Err(DockerError::Wrapper(format!(
                "a helper exec did not end within {}s",
                limit.as_secs()
            )));
        }
    }
    let code = docker.inspect_exec(&exec.id).await.ok().and_then(|i| i.exit_code);
    Ok((String::from_utf8_lossy(&out).into_owned(), code))
}
