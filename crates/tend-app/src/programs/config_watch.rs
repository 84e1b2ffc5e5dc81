//! `tend up --watch-config`: reloading `tend.toml` when it changes.
//!
//! The file's folder is watched (not the file itself: editors save by writing a new file and
//! renaming it over the old one, which would end a watch on the file), and only events naming
//! the file count. A burst of changes is debounced into one reload. A config that does not
//! load (a syntax error, an unknown key, a missing file) is logged with the same message
//! `tend up` prints, and the running programs are kept; a later valid edit applies.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::Watcher as _;
use tokio::sync::mpsc;

use super::{ProgramSet, unavailable_runner};
use crate::config::Config;
use crate::reload::{is_change, next_batch};

/// Quiet time after the last change of the config file before it is reloaded.
pub const CONFIG_DEBOUNCE: Duration = Duration::from_millis(100);

/// Why the config file cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum ConfigWatchError {
    /// The path names no file.
    #[error("{}: not a file path", .0.display())]
    NotAFile(PathBuf),
    /// The current directory is gone, or the OS watcher failed.
    #[error("cannot watch {}: {source}", folder.display())]
    Watch {
        /// The folder holding the config file.
        folder: PathBuf,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Watches a config file and applies its changes. Dropping it stops watching.
#[derive(Debug)]
pub struct ConfigWatch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConfigWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConfigWatch {
    /// Starts watching `file` (as given to `tend up -f`; error messages name it so) and applies
    /// each valid new version to `programs`.
    ///
    /// # Errors
    /// When its folder cannot be watched.
    pub fn start(file: &Path, programs: ProgramSet) -> Result<ConfigWatch, ConfigWatchError> {
        let name: OsString =
            file.file_name().ok_or_else(|| ConfigWatchError::NotAFile(file.to_path_buf()))?.into();
        let absolute = std::path::absolute(file).map_err(|e| ConfigWatchError::Watch {
            folder: file.to_path_buf(),
            source: e.into(),
        })?;
        let folder = absolute.parent().map_or_else(|| absolute.clone(), Path::to_path_buf);
        let failed = |source: notify::Error| ConfigWatchError::Watch {
            folder: folder.clone(),
            source: source.into(),
        };
        let (changes, received) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                Ok(event) if is_change(&event.kind) => {
                    if let Some(path) =
                        event.paths.into_iter().find(|p| p.file_name() == Some(name.as_os_str()))
                    {
                        let _ = changes.send(path);
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::warn!("watching the config file: {error}"),
            })
            .map_err(failed)?;
        watcher.watch(&folder, notify::RecursiveMode::NonRecursive).map_err(failed)?;
        tracing::info!("watching {} for changes (--watch-config)", file.display());
        let task = tokio::spawn(reload_on_change(file.to_path_buf(), programs, received));
        Ok(ConfigWatch { _watcher: watcher, task })
    }
}

async fn reload_on_change(
    file: PathBuf,
    programs: ProgramSet,
    mut changes: mpsc::UnboundedReceiver<PathBuf>,
) {
    while next_batch(&mut changes, CONFIG_DEBOUNCE).await.is_some() {
        match Config::load(&file)
            .map_err(|e| e.to_string())
            .and_then(|config| unavailable_runner(&config).map_or(Ok(config), Err))
            .and_then(|config| crate::descriptors::check(&config).map(|_| config))
        {
            Ok(config) => programs.apply(config).await,
            Err(message) => tracing::error!(
                "{} not reloaded (the running programs are kept): {message}",
                file.display()
            ),
        }
    }
}
