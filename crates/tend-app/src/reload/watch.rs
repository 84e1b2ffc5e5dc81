//! Watching a program's files (`watch = { paths, ignore, debounce }`): a change restarts it,
//! debounced, with `TEND_RESTART_REASON=file_change`.
//!
//! Events come from the OS (inotify, FSEvents, ReadDirectoryChangesW through `notify`), never
//! from polling; each watched path is watched with the folders below it. Where the OS watches
//! a whole tree at once (FSEvents, ReadDirectoryChangesW) it does; where it watches one folder
//! at a time (inotify, whose watches are a limited resource: often 8192 per user), tend walks
//! the tree itself and places no watch in an ignored folder (module `walk`; symlinks are not
//! followed), then watches each folder that appears (created, or moved in) and counts the
//! files it already holds as changes; a removed folder's watch goes with it.
//!
//! Reads (open, access) are not changes. A changed path is ignored when, taken relative to the
//! program's `dir` (or to the watched path it is under, if outside `dir`), one of its parts is
//! `.git`, `target` or `node_modules`, or it or one of its parent folders matches an `ignore`
//! glob (where `*` also matches `/`: `*.tmp` ignores every `.tmp` file). Ignored changes are
//! dropped as they come: they neither restart the program nor prolong a debounce.
//!
//! Only a program that is active (starting, running, stopping or backing off) is restarted:
//! a program that is stopped, done or fatal is left so (its change is logged). A backing-off
//! program is restarted at once: the change may well be the fix for its crash.

mod walk;

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
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

/// How the OS watches a tree of folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// One watch covers a whole tree (FSEvents, ReadDirectoryChangesW): an ignored folder
    /// costs nothing beyond its events, dropped as they come.
    Recursive,
    /// One watch per folder (inotify): tend places them itself, none inside ignored folders,
    /// and watches new folders as they appear.
    PerFolder,
}

/// The strategy for this OS: per folder where `notify` uses inotify, whose recursive mode
/// would watch every folder of the tree, ignored ones included (a `node_modules` alone can
/// exhaust `fs.inotify.max_user_watches`). Elsewhere a watch per folder would cost more than
/// one recursive watch: an FSEvents stream restarted for each path, a handle per folder.
const fn strategy() -> Strategy {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        Strategy::PerFolder
    } else {
        Strategy::Recursive
    }
}

/// Whether an event may be a folder appearing in the tree: created, or moved in (a move
/// within the tree also reports its destination this way).
fn may_be_new_folder(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{CreateKind, ModifyKind, RenameMode};
    matches!(
        kind,
        EventKind::Create(CreateKind::Folder | CreateKind::Any)
            | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Any))
    )
}

/// What the event handler asks of the [`Tree`], under [`Strategy::PerFolder`].
#[derive(Debug)]
enum Grown {
    /// This path may be a new folder: watch it and what is below it, and count its files as
    /// changes (they may have been written before the watch was placed).
    Folder(PathBuf),
    /// The OS dropped events: new folders may have gone unseen. Walk every watched path again.
    Rescan,
}

/// One program's OS watcher, and what is needed to add folders to it.
#[derive(Debug)]
struct Tree {
    name: String,
    roots: Vec<PathBuf>,
    ignore: Arc<Ignore>,
    watcher: Mutex<notify::RecommendedWatcher>,
    changes: mpsc::UnboundedSender<PathBuf>,
}

impl Tree {
    /// Watches `top` and the folders below it that are not ignored, one watch each (see
    /// [`walk`]); with `report`, the files found below `top` are sent as changes. A folder
    /// below `top` that cannot be watched is logged and left out; the OS limit stops the walk.
    ///
    /// # Errors
    /// `top` itself cannot be watched.
    fn watch_tree(&self, top: &Path, report: bool) -> Result<(), notify::Error> {
        let mut watcher = self.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        let mut failed = None;
        let mut watch =
            |folder: &Path| match watcher.watch(folder, notify::RecursiveMode::NonRecursive) {
                Ok(()) => walk::Flow::Descend,
                Err(error) if folder == top => {
                    failed = Some(error);
                    walk::Flow::Stop
                }
                Err(error) => self.cannot_watch(folder, &error),
            };
        let mut found = |file: PathBuf| {
            let _ = self.changes.send(file);
        };
        let found: Option<&mut dyn FnMut(PathBuf)> = if report { Some(&mut found) } else { None };
        walk::walk(top, &self.ignore, &mut watch, found);
        failed.map_or(Ok(()), Err)
    }

    /// Logs why `folder` cannot be watched (nothing if it is gone) and says how the walk goes on.
    fn cannot_watch(&self, folder: &Path, error: &notify::Error) -> walk::Flow {
        let name = &self.name;
        let shown = self.ignore.relative(folder);
        match &error.kind {
            notify::ErrorKind::MaxFilesWatch => {
                tracing::warn!(
                    "{name}: cannot watch {}: inotify watch limit reached: raise \
                     fs.inotify.max_user_watches (sysctl) or add ignore globs; changes in the \
                     folders not watched will not restart it",
                    shown.display()
                );
                walk::Flow::Stop
            }
            // Gone since it was seen: nothing to watch.
            notify::ErrorKind::PathNotFound => walk::Flow::Skip,
            notify::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                walk::Flow::Skip
            }
            _ => {
                tracing::warn!(
                    "{name}: cannot watch {}: {error}; changes there will not restart it",
                    shown.display()
                );
                walk::Flow::Skip
            }
        }
    }

    /// Watches what the event handler reported, a burst at a time.
    fn grow(&self, burst: Vec<Grown>) {
        if burst.iter().any(|grown| matches!(grown, Grown::Rescan)) {
            for root in &self.roots {
                // Watched again: a folder already watched keeps its watch.
                if let Err(error) = self.watch_tree(root, false) {
                    self.cannot_watch(root, &error);
                }
            }
            return;
        }
        let mut folders: Vec<PathBuf> = burst
            .into_iter()
            .filter_map(|grown| match grown {
                Grown::Folder(path) => Some(path),
                Grown::Rescan => None,
            })
            .collect();
        // A folder below another new one is walked with it.
        folders.sort();
        folders.dedup();
        let mut walked: Vec<&PathBuf> = Vec::new();
        for folder in &folders {
            if walked.last().is_some_and(|top| folder.starts_with(top)) {
                continue;
            }
            // A moved file, or a folder gone already: nothing to walk. A link to a folder is
            // not followed.
            if !std::fs::symlink_metadata(folder).is_ok_and(|meta| meta.is_dir()) {
                continue;
            }
            walked.push(folder);
            if let Err(error) = self.watch_tree(folder, true) {
                self.cannot_watch(folder, &error);
            }
        }
    }
}

/// Watches the folders that appear, as the event handler reports them.
async fn watch_new_folders(tree: Arc<Tree>, mut grown: mpsc::UnboundedReceiver<Grown>) {
    while let Some(first) = grown.recv().await {
        let mut burst = vec![first];
        while let Ok(more) = grown.try_recv() {
            burst.push(more);
        }
        let tree = Arc::clone(&tree);
        // A walk blocks: it reads folders and waits for each watch to be placed.
        if tokio::task::spawn_blocking(move || tree.grow(burst)).await.is_err() {
            return;
        }
    }
}

/// Watches one program's files and restarts it on change. Dropping it stops watching.
#[derive(Debug)]
pub struct ProgramWatcher {
    _tree: Arc<Tree>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for ProgramWatcher {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
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
        let (grow, grown) = mpsc::unbounded_channel();
        let grow = (strategy() == Strategy::PerFolder).then_some(grow);
        let filter = Arc::clone(&ignore);
        let sender = changes.clone();
        let watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                // The OS dropped events (a queue overflow): something changed, somewhere.
                Ok(event) if event.need_rescan() => {
                    let _ = sender.send(filter.base.clone());
                    if let Some(grow) = &grow {
                        let _ = grow.send(Grown::Rescan);
                    }
                }
                Ok(event) => {
                    if !is_change(&event.kind) {
                        return;
                    }
                    let grow = grow.as_ref().filter(|_| may_be_new_folder(&event.kind));
                    for path in event.paths {
                        if !filter.is_ignored(&path) {
                            if let Some(grow) = grow {
                                let _ = grow.send(Grown::Folder(path.clone()));
                            }
                            // The receiver is gone only once the watcher is being dropped.
                            let _ = sender.send(path);
                        }
                    }
                }
                Err(error) => tracing::warn!("file watching: {error}"),
            })?;
        let tree = Arc::new(Tree {
            name: name.clone(),
            roots: roots.clone(),
            ignore: Arc::clone(&ignore),
            watcher: Mutex::new(watcher),
            changes,
        });
        let mut watching = Vec::new();
        for (root, given) in roots.iter().zip(&watch.paths) {
            let shown = given.strip_prefix(dir).unwrap_or(given);
            let shown = if shown.as_os_str().is_empty() { Path::new(".") } else { shown };
            let watched = match strategy() {
                Strategy::Recursive => tree
                    .watcher
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .watch(root, notify::RecursiveMode::Recursive),
                Strategy::PerFolder => tree.watch_tree(root, false),
            };
            match watched {
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
        let mut tasks =
            vec![tokio::spawn(restart_on_change(handle, received, watch.debounce, ignore))];
        if strategy() == Strategy::PerFolder {
            tasks.push(tokio::spawn(watch_new_folders(Arc::clone(&tree), grown)));
        }
        Ok(ProgramWatcher { _tree: tree, tasks })
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
    fn the_watch_limit_stops_a_walk_and_a_gone_folder_is_skipped() {
        let (changes, _received) = mpsc::unbounded_channel();
        let tree = Tree {
            name: "web".to_owned(),
            roots: vec![PathBuf::from("/app")],
            ignore: Arc::new(rules(&[])),
            watcher: Mutex::new(notify::recommended_watcher(|_: notify::Result<_>| {}).unwrap()),
            changes,
        };
        let folder = Path::new("/app/src/x");
        let error = |kind| notify::Error::new(kind);
        let limit = error(notify::ErrorKind::MaxFilesWatch);
        assert_eq!(tree.cannot_watch(folder, &limit), walk::Flow::Stop);
        let gone = error(notify::ErrorKind::PathNotFound);
        assert_eq!(tree.cannot_watch(folder, &gone), walk::Flow::Skip);
        let denied = notify::Error::io(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(tree.cannot_watch(folder, &denied), walk::Flow::Skip);
        // A top that is not there is the caller's error to report.
        let missing = std::env::temp_dir().join("tend-watch-test-missing-folder");
        assert!(tree.watch_tree(&missing, false).is_err());
    }

    #[test]
    fn new_folders_are_looked_for_on_creation_and_moves_in() {
        use notify::EventKind;
        use notify::event::{CreateKind, DataChange, ModifyKind, RemoveKind, RenameMode};
        assert!(may_be_new_folder(&EventKind::Create(CreateKind::Folder)));
        assert!(may_be_new_folder(&EventKind::Modify(ModifyKind::Name(RenameMode::To))));
        assert!(!may_be_new_folder(&EventKind::Create(CreateKind::File)));
        assert!(!may_be_new_folder(&EventKind::Modify(ModifyKind::Name(RenameMode::From))));
        assert!(!may_be_new_folder(&EventKind::Modify(ModifyKind::Data(DataChange::Any))));
        assert!(!may_be_new_folder(&EventKind::Remove(RemoveKind::Folder)));
    }

    #[test]
    fn bad_globs_are_errors() {
        let error = Ignore::new(Path::new("/app"), &[], &["[abc".to_owned()]).unwrap_err();
        assert!(error.to_string().starts_with("invalid ignore glob \"[abc\""), "{error}");
    }
}
