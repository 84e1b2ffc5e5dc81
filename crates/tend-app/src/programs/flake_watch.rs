//! Watching the flakes of an app's Nix environments: an edit of `flake.nix` or `flake.lock`
//! makes the dev shell evaluated again at its programs' next start
//! ([`NixEnvironment::invalidate`]), and the programs of that flake with `watch` are restarted
//! at once, as for a change of their own files.
//!
//! Each flake's folder is watched (not the files: editors save by renaming a new file over the
//! old one), only events naming a flake file count, and a burst is debounced into one change.
//! A change that leaves the files as the shell was prepared from (same cache key: a `touch`, a
//! save without edits) is ignored.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::Watcher as _;
use tend_runner::{FLAKE_FILES, NixEnvironment};
use tokio::sync::mpsc;

use super::ProgramSet;
use super::environments::Environments;
use crate::reload::{is_change, next_batch};

/// Quiet time after the last change of a flake file before it applies.
pub const FLAKE_DEBOUNCE: Duration = Duration::from_millis(100);

/// Watches the flakes of an app's Nix environments. Dropping it stops watching.
#[derive(Debug)]
pub struct FlakeWatch {
    _watchers: Vec<notify::RecommendedWatcher>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FlakeWatch {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FlakeWatch {
    /// Watches the flake of every Nix environment of `environments`; a change restarts the
    /// programs of `programs` that use it and have `watch`. A flake whose folder cannot be
    /// watched is logged as a warning (its edits then apply at the next start of tend).
    pub fn start(environments: &Environments, programs: &ProgramSet) -> FlakeWatch {
        let mut watch = FlakeWatch { _watchers: Vec::new(), tasks: Vec::new() };
        for nix in environments.nix_environments() {
            let dir = nix.flake_dir().to_path_buf();
            match watch_flake(&nix) {
                Ok((watcher, changes)) => {
                    tracing::debug!("watching the flake in {} for changes", dir.display());
                    watch._watchers.push(watcher);
                    let task = apply_changes(nix, programs.clone(), changes);
                    watch.tasks.push(tokio::spawn(task));
                }
                Err(e) => tracing::warn!(
                    "cannot watch the flake in {}: {e}; an edit of it applies at the next start of tend",
                    dir.display()
                ),
            }
        }
        watch
    }
}

type Watched = (notify::RecommendedWatcher, mpsc::UnboundedReceiver<PathBuf>);

fn watch_flake(nix: &NixEnvironment) -> Result<Watched, notify::Error> {
    let (changes, received) = mpsc::unbounded_channel();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) if is_change(&event.kind) => {
                let named = event.paths.into_iter().find(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| FLAKE_FILES.contains(&n))
                });
                if let Some(path) = named {
                    let _ = changes.send(path);
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!("watching a flake: {error}"),
        })?;
    watcher.watch(nix.flake_dir(), notify::RecursiveMode::NonRecursive)?;
    Ok((watcher, received))
}

async fn apply_changes(
    nix: Arc<NixEnvironment>,
    programs: ProgramSet,
    mut changes: mpsc::UnboundedReceiver<PathBuf>,
) {
    let dir = nix.flake_dir().to_path_buf();
    // An edit made before the watch began (while the programs were starting) counts too.
    let key = tend_runner::nix_cache_key(&dir, &tend_runner::nix_system()).ok();
    if let (Some(key), Some(prepared)) = (key, nix.prepared().map(|p| p.key))
        && key != prepared
    {
        let present: Vec<&str> =
            FLAKE_FILES.iter().copied().filter(|name| dir.join(name).exists()).collect();
        apply(&nix, &programs, &dir, &present.join(", ")).await;
    }
    while let Some(batch) = next_batch(&mut changes, FLAKE_DEBOUNCE).await {
        let key = tend_runner::nix_cache_key(&dir, &tend_runner::nix_system()).ok();
        let prepared = nix.prepared().map(|p| p.key);
        if key.is_some() && key == prepared {
            tracing::debug!("the flake in {} is as its dev shell was made", dir.display());
            continue;
        }
        let names: Vec<String> = batch
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        apply(&nix, &programs, &dir, &names.join(", ")).await;
    }
}

/// The flake in `dir` changed (`names`, its files): its shell is evaluated again at the next
/// start, and its `watch` programs start again now.
async fn apply(nix: &NixEnvironment, programs: &ProgramSet, dir: &std::path::Path, names: &str) {
    tracing::info!(
        "{names} changed in {}: its dev shell is evaluated again at the next start of its programs",
        dir.display()
    );
    nix.invalidate();
    programs.flake_changed(dir).await;
}
