//! Watching a program's files (`watch = { paths, ignore, debounce }`): a change restarts it,
//! debounced, with `TEND_RESTART_REASON=file_change`.
//!
//! Events come from the OS (inotify, FSEvents, ReadDirectoryChangesW through `notify`), never
//! from polling; each watched path is watched recursively. Reads (open, access) are not
//! changes. A changed path is ignored when, taken relative to the program's `dir` (or to the
//! watched path it is under, if outside `dir`), one of its parts is `.git`, `target` or
//! `node_modules`, or it or one of its parent folders matches an `ignore` glob (where `*`
//! also matches `/`: `*.tmp` ignores every `.tmp` file). Ignored changes are dropped as they
//! come: they neither restart the program nor prolong a debounce.
//!
//! Only a program that is active (starting, running, stopping or backing off) is restarted:
//! a program that is stopped, done or fatal is left so (its change is logged). A backing-off
//! program is restarted at once: the change may well be the fix for its crash.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use notify::Watcher as _;
use tend_supervisor::{ProgramHandle, RestartReason};
use tokio::sync::mpsc;

use super::debounce::next_batch;
use crate::config::Watch;

/// Folder names whose changes never restart a program, in addition to the `ignore` globs.
pub const DEFAULT_IGNORES: [&str; 3] = [".git", "target", "node_modules"];

/// Why a program's files cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// An `ignore` pattern is not a valid glob (the config parser rejects these first).
    #[error("invalid ignore glob {pattern:?}: {source}")]
    Glob {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        source: globset::Error,
    },
    /// The OS watcher could not be created (e.g. the inotify instance limit is reached).
    #[error("cannot watch files: {0}")]
    Watcher(#[from] notify::Error),
}

/// Which changed paths do not count: the default folders and the `ignore` globs.
#[derive(Debug, Clone)]
pub struct Ignore {
    base: PathBuf,
    roots: Vec<PathBuf>,
    globs: GlobSet,
}

impl Ignore {
    /// Rules for paths under `base` (the program's `dir`) or under one of `roots` (the watched
    /// paths), with the globs `patterns`.
    ///
    /// # Errors
    /// [`WatchError::Glob`] for an invalid pattern.
    pub fn new(base: &Path, roots: &[PathBuf], patterns: &[String]) -> Result<Ignore, WatchError> {
        let mut set = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .build()
                .map_err(|source| WatchError::Glob { pattern: pattern.clone(), source })?;
            set.add(glob);
        }
        let globs = set
            .build()
            .map_err(|source| WatchError::Glob { pattern: patterns.join(" "), source })?;
        Ok(Ignore { base: base.to_path_buf(), roots: roots.to_vec(), globs })
    }

    /// `path` relative to the program's `dir`, or to the watched path it is under (named by
    /// that path's last part, like `shared/lib.py`), or as it is.
    pub fn relative(&self, path: &Path) -> PathBuf {
        if let Ok(relative) = path.strip_prefix(&self.base) {
            return relative.to_path_buf();
        }
        for root in &self.roots {
            if let Ok(relative) = path.strip_prefix(root) {
                return match root.file_name() {
                    Some(name) => Path::new(name).join(relative),
                    None => relative.to_path_buf(),
                };
            }
        }
        path.to_path_buf()
    }

    /// Whether a change of `path` is ignored.
    pub fn is_ignored(&self, path: &Path) -> bool {
        let relative = self.relative(path);
        let mut prefix = PathBuf::new();
        for component in relative.components() {
            if let Component::Normal(part) = component
                && DEFAULT_IGNORES.iter().any(|ignored| part == *ignored)
            {
                return true;
            }
            prefix.push(component);
            if self.globs.is_match(&prefix) {
                return true;
            }
        }
        // A folder whose content is ignored is ignored itself: `**/__pycache__/**` also covers
        // the creation of `__pycache__`. The child name is one no file can have.
        !relative.as_os_str().is_empty() && self.globs.is_match(relative.join("\0"))
    }
}

/// Whether an event is a change of content or of the tree, rather than a read.
pub fn is_change(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{MetadataKind, ModifyKind};
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// Watches one program's files and restarts it on change. Dropping it stops watching.
#[derive(Debug)]
pub struct ProgramWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ProgramWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ProgramWatcher {
    /// Starts watching `watch.paths` of the program driven by `handle`, whose `dir` is `dir`.
    /// A path that cannot be watched (missing, unreadable) is logged as a warning and skipped.
    ///
    /// # Errors
    /// An invalid glob, or no OS watcher to be had.
    pub fn start(
        dir: &Path,
        watch: &Watch,
        handle: ProgramHandle,
    ) -> Result<ProgramWatcher, WatchError> {
        let name = handle.name().to_owned();
        // The OS reports paths under the watched path as given: canonical ones make the
        // relative paths (and so the ignore rules) independent of `..` and symlinks.
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let roots: Vec<PathBuf> = watch.paths.iter().map(|p| canonical(p)).collect();
        let ignore = Arc::new(Ignore::new(&canonical(dir), &roots, &watch.ignore)?);
        let (changes, received) = mpsc::unbounded_channel();
        let filter = Arc::clone(&ignore);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                // The OS dropped events (a queue overflow): something changed, somewhere.
                Ok(event) if event.need_rescan() => {
                    let _ = changes.send(filter.base.clone());
                }
                Ok(event) => {
                    if !is_change(&event.kind) {
                        return;
                    }
                    for path in event.paths {
                        if !filter.is_ignored(&path) {
                            // The receiver is gone only once the watcher is being dropped.
                            let _ = changes.send(path);
                        }
                    }
                }
                Err(error) => tracing::warn!("file watching: {error}"),
            })?;
        let mut watching = Vec::new();
        for (root, given) in roots.iter().zip(&watch.paths) {
            let shown = given.strip_prefix(dir).unwrap_or(given);
            let shown = if shown.as_os_str().is_empty() { Path::new(".") } else { shown };
            match watcher.watch(root, notify::RecursiveMode::Recursive) {
                Ok(()) => watching.push(shown.display().to_string()),
                Err(error) => tracing::warn!(
                    "{name}: cannot watch {}: {error}; changes there will not restart it",
                    shown.display()
                ),
            }
        }
        if !watching.is_empty() {
            tracing::info!("{name}: watching {} for changes", watching.join(", "));
        }
        let task = tokio::spawn(restart_on_change(handle, received, watch.debounce, ignore));
        Ok(ProgramWatcher { _watcher: watcher, task })
    }
}

/// Restarts the program after each debounced burst of changes, while it is active.
async fn restart_on_change(
    handle: ProgramHandle,
    mut changes: mpsc::UnboundedReceiver<PathBuf>,
    debounce: Duration,
    ignore: Arc<Ignore>,
) {
    let name = handle.name().to_owned();
    while let Some(batch) = next_batch(&mut changes, debounce).await {
        let what = describe(&batch, &ignore);
        let state = handle.state();
        if state.is_idle() {
            tracing::info!("{name}: {what} changed; not restarting: it is {state}");
            continue;
        }
        tracing::info!("{name}: {what} changed; restarting");
        // Checked again by the program's task itself: a stop that came first wins.
        if let Err(error) = handle.restart_if_active(RestartReason::FileChange).await {
            tracing::debug!("{name}: no restart on change: {error}");
            return;
        }
    }
}

/// `src/app.py`, or `src/app.py (+2 more)`.
fn describe(batch: &[PathBuf], ignore: &Ignore) -> String {
    let first = batch.first().map(|p| ignore.relative(p)).unwrap_or_default();
    match batch.len() {
        0 | 1 => first.display().to_string(),
        n => format!("{} (+{} more)", first.display(), n - 1),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rules(patterns: &[&str]) -> Ignore {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        Ignore::new(
            Path::new("/app"),
            &[PathBuf::from("/app/src"), PathBuf::from("/lib")],
            &patterns,
        )
        .unwrap()
    }

    #[test]
    fn default_folders_are_ignored_anywhere_below_the_program() {
        let ignore = rules(&[]);
        for path in [
            "/app/.git/HEAD",
            "/app/src/target/debug/x",
            "/app/src/node_modules/a/index.js",
            "/lib/node_modules/x.js",
            "/app/target",
        ] {
            assert!(ignore.is_ignored(Path::new(path)), "{path}");
        }
        for path in ["/app/src/app.py", "/app/src/targets.py", "/lib/git/x", "/app/.gitignore"] {
            assert!(!ignore.is_ignored(Path::new(path)), "{path}");
        }
        // Only parts below the program count: an app inside a `target` folder still works.
        let nested = Ignore::new(Path::new("/home/u/target/app"), &[], &[]).unwrap();
        assert!(!nested.is_ignored(Path::new("/home/u/target/app/main.py")));
    }

    #[test]
    fn globs_match_the_path_or_a_parent_relative_to_the_program() {
        let ignore = rules(&["**/__pycache__/**", "*.tmp", "build", "src/gen"]);
        for path in [
            "/app/src/__pycache__/m.pyc",
            "/app/src/deep/x.tmp",
            "/app/x.tmp",
            "/app/build/out.o",
            "/app/src/gen/a/b.rs",
        ] {
            assert!(ignore.is_ignored(Path::new(path)), "{path}");
        }
        for path in ["/app/src/app.py", "/app/src/build.py", "/app/src/generated.rs"] {
            assert!(!ignore.is_ignored(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn a_folder_whose_content_is_ignored_is_ignored() {
        let ignore = rules(&["**/__pycache__/**", "*.tmp"]);
        assert!(ignore.is_ignored(Path::new("/app/src/__pycache__")));
        assert!(!ignore.is_ignored(Path::new("/app/src/cache")));
        assert!(!ignore.is_ignored(Path::new("/app/src")));
        assert!(!ignore.is_ignored(Path::new("/app")));
    }

    #[test]
    fn paths_are_shown_relative_to_the_program() {
        let ignore = rules(&[]);
        assert_eq!(ignore.relative(Path::new("/app/src/app.py")), Path::new("src/app.py"));
        assert_eq!(ignore.relative(Path::new("/lib/util.py")), Path::new("lib/util.py"));
        assert_eq!(ignore.relative(Path::new("/other/x")), Path::new("/other/x"));
        let batch = [PathBuf::from("/app/src/a.py"), PathBuf::from("/app/b.py")];
        assert_eq!(describe(&batch[..1], &ignore), "src/a.py");
        assert_eq!(describe(&batch, &ignore), "src/a.py (+1 more)");
    }

    #[test]
    fn reads_are_not_changes() {
        use notify::EventKind;
        use notify::event::{
            AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, ModifyKind, RemoveKind,
            RenameMode,
        };
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Remove(RemoveKind::Any)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Data(DataChange::Any))));
        assert!(is_change(&EventKind::Modify(ModifyKind::Name(RenameMode::To))));
        assert!(is_change(&EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any))));
        assert!(!is_change(&EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))));
        assert!(!is_change(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
    }

    #[test]
    fn bad_globs_are_errors() {
        let error = Ignore::new(Path::new("/app"), &[], &["[abc".to_owned()]).unwrap_err();
        assert!(error.to_string().starts_with("invalid ignore glob \"[abc\""), "{error}");
    }
}
