//! Starting a run on this machine: from a [`CommandSpec`] to a running leader, and the task
//! that waits for it.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;

use super::child::{NativeChild, Shared};
use crate::adopted::{self, Label};
use crate::envvars::{find_binary, not_found};
use crate::output::{self, Stream};
use crate::records::{Owner, RECORD_VERSION, RunRecord, current_boot_id};
use crate::tree::{self, Tree};
use crate::{APP_VAR, ChildId, CommandSpec, PROGRAM_VAR, RUN_ID_VAR, RunnerError, os};

/// How long output may take to drain after a process tree ended.
pub(super) const DRAIN: Duration = Duration::from_secs(2);

/// Starts `spec` in a process group of its own and returns once it runs (its run record, if
/// any, is on disk first).
///
/// # Errors
/// [`RunnerError::BinaryNotFound`] naming the PATH searched, [`RunnerError::NoSuchDir`],
/// [`RunnerError::NotADir`], [`RunnerError::Spawn`], [`RunnerError::Record`] when the record
/// cannot be written (the program then never runs).
pub(super) async fn spawn(mut spec: CommandSpec) -> Result<NativeChild, RunnerError> {
    let (feed, pipe) = spec.take_pipes();
    let CommandSpec { argv, dir, env, stop: policy, output, record, .. } = spec;
    let (program, args) = match argv.split_first() {
        Some((program, args)) => (program.as_str(), args),
        None => ("", &[][..]),
    };
    let path_var =
        env.get("PATH").map(std::ffi::OsString::from).or_else(|| std::env::var_os("PATH"));
    let binary = find_binary(program, path_var.as_ref())
        .ok_or_else(|| not_found(program, path_var.as_ref()))?;
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(RunnerError::NotADir { dir }),
        Err(_) => return Err(RunnerError::NoSuchDir { dir }),
    }
    let token = new_token();
    let mut cmd = tokio::process::Command::new(&binary);
    cmd.args(args).current_dir(&dir).kill_on_drop(false);
    for (k, v) in env.iter() {
        cmd.env(k, v);
    }
    cmd.env(RUN_ID_VAR, &token);
    let label =
        record.as_ref().map(|spec| Label { app: spec.app.clone(), program: spec.program.clone() });
    if let Some(label) = &label {
        // What an escapee that drops its token is still known by.
        cmd.env(APP_VAR, &label.app).env(PROGRAM_VAR, &label.program);
    }
    cmd.stdin(if feed.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped());
    cmd.stderr(Stdio::piped());
    let program = program.to_string();
    let run_record = record.as_ref().map(|spec| {
        let record = RunRecord {
            version: RECORD_VERSION,
            app: spec.app.clone(),
            program: spec.program.clone(),
            pgid: 0,
            pid: 0,
            start_time: 0,
            boot_id: current_boot_id().unwrap_or_default(),
            argv,
            cwd: dir,
            run_id: token.clone(),
            owner: Owner::current(),
            started_at: RunRecord::now_secs(),
        };
        (&spec.registry, record)
    });
    let mut launched = os::launch(cmd, &program, run_record).await?;
    let pid = launched.pid;
    let tree = Tree { leader: pid, leader_start: launched.start_time, token, ours: true, label };
    adopted::register(tree.live_run());
    let shared = Arc::new(Shared {
        end: watch::Sender::new(None),
        stop_requested: AtomicBool::new(false),
        reaped: AtomicBool::new(false),
        tree,
        kill: launched.kill.take(),
        record,
        policy,
    });

    let mut forwarders = Vec::new();
    if let (Some(mut feed), Some(mut stdin)) = (feed, launched.stdin.take()) {
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut feed, &mut stdin).await;
            let _ = stdin.shutdown().await;
        });
    }
    match (pipe, launched.stdout.take()) {
        (Some(mut pipe), Some(mut out)) => {
            forwarders.push(tokio::spawn(async move {
                let _ = tokio::io::copy(&mut out, &mut pipe).await;
                let _ = pipe.shutdown().await;
            }));
        }
        (None, Some(out)) => {
            forwarders.push(tokio::spawn(output::forward(out, Stream::Stdout, output.clone())));
        }
        _ => {}
    }
    if let Some(err) = launched.stderr.take() {
        forwarders.push(tokio::spawn(output::forward(err, Stream::Stderr, output)));
    }
    let waiter = Arc::clone(&shared);
    tokio::spawn(async move {
        let end = launched.wait.await;
        let shared = &waiter;
        shared.reaped.store(true, Ordering::SeqCst);
        tree::disown(pid);
        let mut clean = true;
        let tree = &shared.tree;
        if !shared.stop_requested.load(Ordering::SeqCst) && tree.may_have_leftovers() {
            // The leader is gone: like systemd's control-group mode, nothing of its run
            // outlives it.
            let outcome = tree.terminate(shared.policy.signal, shared.policy.grace, false).await;
            if !outcome.survivors.is_empty() {
                tracing::error!(pid, survivors = ?outcome.survivors, "processes survived SIGKILL");
                clean = false;
            }
        }
        adopted::unregister(&tree.token);
        drain(forwarders).await;
        if clean && !shared.stop_requested.load(Ordering::SeqCst) {
            shared.remove_record(pid);
        }
        shared.end.send_replace(Some(end));
    });
    let id = ChildId::Group { pgid: pid, start_time: shared.tree.leader_start };
    Ok(NativeChild { id, pid, shared })
}

/// Gives output forwarders a bounded time, together, to reach end-of-file after the process
/// tree ended (a process outside the run could hold the pipe open forever).
async fn drain(forwarders: Vec<tokio::task::JoinHandle<()>>) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    for mut task in forwarders {
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// A new random run token (`TEND_RUN_ID`).
pub(crate) fn new_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
