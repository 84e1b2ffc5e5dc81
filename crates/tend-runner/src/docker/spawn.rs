//! Starting a run in the container: from a [`CommandSpec`] to an exec whose output is
//! forwarded line by line, and the task that waits for its end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;

use super::Ready;
use super::child::{DockerChild, Shared, exit_of};
use super::error::DockerError;
use super::scripts::{self, Started};
use crate::output::{self, Stream};
use crate::{APP_VAR, ChildId, CommandSpec, PROGRAM_VAR, RunnerError};

/// How long the wrapper has to report that the program started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long output may take to drain after a run ended.
const DRAIN: Duration = Duration::from_secs(2);

/// How often a waiter asks the daemon once the event stream is gone (never while it flows).
const POLL: Duration = Duration::from_secs(2);

/// The buffer between the exec's stream and the line splitters.
const PIPE: usize = 64 * 1024;

/// Starts `spec` as an exec in the prepared container and returns once the program runs.
///
/// # Errors
/// [`RunnerError::BinaryNotFound`] (the container's PATH searched), [`RunnerError::Docker`].
pub(super) async fn spawn(
    ready: &Ready,
    mut spec: CommandSpec,
) -> Result<DockerChild, RunnerError> {
    let (feed, pipe) = spec.take_pipes();
    let CommandSpec { argv, dir, env, stop: policy, output, record, .. } = spec;
    let program = argv.first().cloned().unwrap_or_default();
    let token = crate::native::new_token();
    // The image's variables, then the app's, then the run's, then tend's: through the API only.
    let mut vars = ready.env.clone();
    vars.extend(&env);
    // The program gets it as TEND_RUN_ID from the wrapper, which itself must not carry it.
    vars.set(scripts::WRAP_TOKEN_VAR, &token);
    if let Some(record) = &record {
        vars.set(APP_VAR, &record.app);
        vars.set(PROGRAM_VAR, &record.program);
    }
    let dir = dir.to_string_lossy().into_owned();
    let options = CreateExecOptions {
        attach_stdin: Some(feed.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        env: Some(vars.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        cmd: Some(scripts::run(&argv, policy.signal.number(), policy.grace)),
        user: ready.user.clone(),
        working_dir: (!dir.is_empty()).then_some(dir),
        ..Default::default()
    };
    let docker = &ready.docker;
    let exec = docker
        .create_exec(&ready.container, options)
        .await
        .map_err(|e| DockerError::api(format!("creating the exec of `{program}`"), e))?
        .id;
    let died = ready.events.register(&exec);
    let started = docker
        .start_exec(&exec, None)
        .await
        .map_err(|e| DockerError::api(format!("starting the exec of `{program}`"), e))?;
    let StartExecResults::Attached { output: mut frames, input } = started else {
        return Err(DockerError::Wrapper("the exec started detached".into()).into());
    };

    // The wrapper's first stdout line; anything else read meanwhile is kept for the sink.
    let mut early: Vec<(Stream, bytes::Bytes)> = Vec::new();
    let mut first = Vec::new();
    let read_first = async {
        while let Some(frame) = frames.next().await {
            match frame {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    match memchr::memchr(b'\n', &message) {
                        Some(pos) => {
                            first.extend_from_slice(&message[..pos]);
                            early.push((Stream::Stdout, message.slice(pos + 1..)));
                            return true;
                        }
                        None => first.extend_from_slice(&message),
                    }
                }
                Ok(LogOutput::StdErr { message }) => early.push((Stream::Stderr, message)),
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    };
    let got_line = tokio::time::timeout(START_TIMEOUT, read_first).await.unwrap_or(false);
    let line = String::from_utf8_lossy(&first).into_owned();
    let pgid = match got_line.then(|| scripts::parse_started(&line)).flatten() {
        Some(Started::Pid(pid)) => pid,
        Some(Started::Missing(path)) => {
            ready.events.unregister(&exec);
            return Err(RunnerError::BinaryNotFound { name: program, path });
        }
        None => {
            ready.events.unregister(&exec);
            let mut said = line;
            for (_, message) in &early {
                said.push_str(&String::from_utf8_lossy(message));
            }
            return Err(DockerError::Wrapper(format!(
                "`{program}` did not start: {}",
                said.trim()
            ))
            .into());
        }
    };
    let host_pid = docker
        .inspect_exec(&exec)
        .await
        .ok()
        .and_then(|i| i.pid)
        .and_then(|p| u32::try_from(p).ok())
        .filter(|&p| p > 0);

    // Output: the same line splitting as native runs, through in-memory pipes.
    let mut forwarders = Vec::new();
    let (out_tx, out_rx) = tokio::io::duplex(PIPE);
    let (err_tx, err_rx) = tokio::io::duplex(PIPE);
    match pipe {
        Some(mut pipe) => forwarders.push(tokio::spawn(async move {
            let mut out_rx = out_rx;
            let _ = tokio::io::copy(&mut out_rx, &mut pipe).await;
            let _ = pipe.shutdown().await;
        })),
        None => {
            forwarders.push(tokio::spawn(output::forward(out_rx, Stream::Stdout, output.clone())))
        }
    }
    forwarders.push(tokio::spawn(output::forward(err_rx, Stream::Stderr, output)));
    forwarders.push(tokio::spawn(async move {
        let (mut out_tx, mut err_tx) = (out_tx, err_tx);
        for (stream, message) in early {
            let target = if stream == Stream::Stdout { &mut out_tx } else { &mut err_tx };
            let _ = target.write_all(&message).await;
        }
        while let Some(Ok(frame)) = frames.next().await {
            let _ = match frame {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    out_tx.write_all(&message).await
                }
                LogOutput::StdErr { message } => err_tx.write_all(&message).await,
                LogOutput::StdIn { .. } => Ok(()),
            };
        }
        let _ = out_tx.shutdown().await;
        let _ = err_tx.shutdown().await;
    }));
    if let Some(mut feed) = feed {
        let mut input = input;
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut feed, &mut input).await;
            let _ = input.shutdown().await;
        });
    }

    let shared = Arc::new(Shared {
        docker: docker.clone(),
        container: ready.container.clone(),
        user: ready.user.clone(),
        pgid,
        token,
        policy,
        end: watch::Sender::new(None),
        stop_requested: AtomicBool::new(false),
    });
    let waiter = Arc::clone(&shared);
    let events = Arc::clone(&ready.events);
    let exec_id = exec.clone();
    tokio::spawn(async move {
        let code = wait_exec(&waiter, &exec_id, died, events.lost()).await;
        events.unregister(&exec_id);
        // The wrapper has ended what the run left. Only when it may itself have been killed (a
        // status over 128, or none) is it looked for again, from outside.
        let wrapper_may_be_gone = code.is_none_or(|c| c > 128);
        if wrapper_may_be_gone && !waiter.stop_requested.load(Ordering::SeqCst) {
            let (_, survivors) = waiter.end_tree(false).await;
            if !survivors.is_empty() {
                tracing::error!(container = %waiter.container, pgid = waiter.pgid, ?survivors, "processes in the container survived SIGKILL");
            }
        }
        drain(forwarders).await;
        waiter.end.send_replace(Some(exit_of(code)));
    });
    let id = ChildId::Exec { container: ready.container.clone(), exec };
    Ok(DockerChild { id, host_pid, shared })
}

/// Waits for `exec` to end and returns its exit code: its `exec_die` event wakes the waiter,
/// which then asks the daemon for the code. No timer runs while the event stream flows; only
/// once it has ended (`lost`) is the daemon asked every [`POLL`].
async fn wait_exec(
    shared: &Shared,
    exec: &str,
    mut died: watch::Receiver<bool>,
    mut lost: watch::Receiver<bool>,
) -> Option<i64> {
    loop {
        if *lost.borrow() {
            let _ = tokio::time::timeout(POLL, died.wait_for(|&d| d)).await;
        } else {
            tokio::select! {
                _ = died.wait_for(|&d| d) => {}
                _ = lost.wait_for(|&l| l) => {}
            }
        }
        match shared.docker.inspect_exec(exec).await {
            Ok(info) if info.running != Some(true) => return info.exit_code,
            Ok(_) => {}
            Err(e) if super::error::is_not_found(&e) => return None,
            Err(_) => {}
        }
        if *died.borrow() {
            // Announced but not yet marked ended: ask again shortly.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Gives output forwarders a bounded time, together, to reach end-of-file after the run ended.
async fn drain(forwarders: Vec<tokio::task::JoinHandle<()>>) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    for mut task in forwarders {
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}
