//! Preparing a dev shell: the cache, else one lock-protected evaluation shared by every tend
//! of the cache, else the wrapped mode when nix can still run programs in the shell.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::cache::{self, Entry, SCHEMA, Slot, host_system};
use super::command::{Failure, Nix};
use super::error::{Diagnosis, NixError, classify, git_repo_of};
use super::lock;
use super::shell::ShellEnv;
use super::spec::{NixMode, NixPrepared, NixSpec, ShellSource};

/// How programs are started in a prepared shell.
#[derive(Debug, Clone)]
pub(crate) enum Shell {
    /// With these variables, natively.
    Materialised(ShellEnv),
    /// Through `nix develop`.
    Wrapped,
}

/// A prepared shell: what spawns use, and what was found.
#[derive(Debug)]
pub(crate) struct Ready {
    pub nix: Nix,
    pub shell: Shell,
    pub prepared: NixPrepared,
}

/// Prepares the shell of the flake in `flake_dir` (absolute). `refresh` skips the cache;
/// `nix_runs` counts every run of nix.
pub(crate) async fn prepare(
    spec: &NixSpec,
    flake_dir: &Path,
    refresh: bool,
    nix_runs: &AtomicU64,
) -> Result<Ready, NixError> {
    let start = Instant::now();
    let nix = Nix::locate(&spec.nix, &spec.nix_env)?;
    let key = cache::key(flake_dir, &host_system())?;
    let slot = Slot::of(&spec.cache_dir, flake_dir);
    slot.create()?;
    let done = |nix: Nix, shell: Shell, mode, source, gc_root, set_aside| Ready {
        nix,
        shell,
        prepared: NixPrepared {
            mode,
            source,
            key: key.clone(),
            gc_root,
            set_aside,
            took: start.elapsed(),
        },
    };
    let mut set_aside = None;
    if !refresh {
        let (hit, aside) = slot.load(&key);
        set_aside = aside;
        if let Some(entry) = hit {
            let shell = Shell::Materialised(entry.shell);
            let root = Some(slot.profile());
            return Ok(done(
                nix,
                shell,
                NixMode::Materialised,
                ShellSource::Cache,
                root,
                set_aside,
            ));
        }
    }
    let (_lock, waited) = lock::acquire(&slot.lock(), flake_dir, spec.eval_timeout).await?;
    if waited || !refresh {
        // Another tend may have evaluated it meanwhile.
        let (hit, aside) = slot.load(&key);
        set_aside = set_aside.or(aside);
        if let Some(entry) = hit {
            let shell = Shell::Materialised(entry.shell);
            let (mode, source) = (NixMode::Materialised, ShellSource::SharedEvaluation);
            return Ok(done(nix, shell, mode, source, Some(slot.profile()), set_aside));
        }
    }
    nix_runs.fetch_add(1, Ordering::SeqCst);
    let printed = nix.print_dev_env(flake_dir, &slot.profile(), spec.eval_timeout).await;
    let (reason, failure) = match printed {
        Ok(stdout) => match ShellEnv::parse(&stdout) {
            Ok(shell) => {
                save(&slot, &key, flake_dir, &shell);
                let shell = Shell::Materialised(shell);
                let (mode, source) = (NixMode::Materialised, ShellSource::Evaluated);
                return Ok(done(nix, shell, mode, source, Some(slot.profile()), set_aside));
            }
            Err(e) => {
                (format!("`nix print-dev-env --json` printed no dev-shell environment: {e}"), None)
            }
        },
        Err(failure) => {
            refuse(&failure, flake_dir)?;
            if failure.timed_out {
                return Err(eval_failed(flake_dir, &failure));
            }
            let reason =
                format!("`{}` failed ({}): {}", failure.command, failure.status, failure.tail());
            (reason, Some(failure))
        }
    };
    // Materialising failed: can nix develop run programs in the shell?
    nix_runs.fetch_add(1, Ordering::SeqCst);
    match nix.probe_develop(flake_dir, spec.eval_timeout).await {
        Ok(()) => {
            let mode = NixMode::Wrapped { reason };
            Ok(done(nix, Shell::Wrapped, mode, ShellSource::None, None, set_aside))
        }
        Err(probe) => {
            refuse(&probe, flake_dir)?;
            Err(eval_failed(flake_dir, failure.as_ref().unwrap_or(&probe)))
        }
    }
}

fn eval_failed(flake_dir: &Path, failure: &Failure) -> NixError {
    NixError::EvalFailed {
        dir: flake_dir.to_path_buf(),
        command: failure.command.clone(),
        status: failure.status.clone(),
        stderr: failure.tail(),
    }
}

/// The failures that are not the flake's fault, as their own errors.
fn refuse(failure: &Failure, flake_dir: &Path) -> Result<(), NixError> {
    match classify(&failure.stderr) {
        Diagnosis::FlakesDisabled(feature) => Err(NixError::FlakesDisabled { feature }),
        Diagnosis::NotGitAdded(said) => match git_repo_of(flake_dir) {
            Some(repo) => Err(NixError::NotGitAdded { dir: flake_dir.to_path_buf(), repo, said }),
            None => Ok(()),
        },
        Diagnosis::Other => Ok(()),
    }
}

/// Keeps the evaluated shell for the next start: only the current profile generation stays
/// a GC root, and the entry is written atomically. A failure only costs an evaluation next
/// time.
fn save(slot: &Slot, key: &str, flake_dir: &Path, shell: &ShellEnv) {
    slot.prune_generations();
    if cache::key(flake_dir, &host_system()).ok().as_deref() != Some(key) {
        // Edited while nix evaluated it (or nix wrote flake.lock): which one nix saw is not
        // known, so nothing is kept; the next start evaluates again.
        tracing::info!(
            "the flake in {} changed while it was evaluated: not cached",
            flake_dir.display()
        );
        return;
    }
    let Some(store_path) = slot.rooted_store_path() else {
        tracing::warn!(
            "nix made no GC root at {}: the dev shell is not cached",
            slot.profile().display()
        );
        return;
    };
    let entry = Entry {
        schema: SCHEMA,
        key: key.to_string(),
        flake_dir: flake_dir.to_path_buf(),
        system: host_system(),
        store_path,
        created_at: crate::records::RunRecord::now_secs(),
        shell: shell.clone(),
    };
    if let Err(e) = slot.save(&entry) {
        tracing::warn!("the dev shell of {} is not cached: {e}", flake_dir.display());
    }
}
