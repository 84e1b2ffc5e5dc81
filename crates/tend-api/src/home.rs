//! The state folder of one app, `$TEND_HOME/apps/<app>/`, and the files tend keeps in it.

use std::path::{Path, PathBuf};

/// The state folder of one app: `$TEND_HOME/apps/<app>/`.
#[derive(Debug, Clone)]
pub struct AppHome {
    /// The app's name.
    pub app: String,
    /// `$TEND_HOME/apps/<app>`.
    pub dir: PathBuf,
}

impl AppHome {
    /// The app `app` under `home`.
    pub fn new(home: &Path, app: &str) -> Self {
        AppHome { app: app.to_string(), dir: home.join("apps").join(app) }
    }

    /// The app whose state folder is `$TEND_STATE_DIR` (set by tend for its programs), if that
    /// variable names a folder `<home>/apps/<app>`.
    pub fn from_state_dir_env() -> Option<AppHome> {
        let dir = PathBuf::from(std::env::var_os("TEND_STATE_DIR")?);
        let app = dir.file_name()?.to_str()?.to_string();
        let parent = dir.parent()?;
        (parent.file_name()? == "apps" && dir.is_dir()).then_some(AppHome { app, dir })
    }

    /// `runs/`: one record per live process group.
    pub fn runs(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// `logs/`.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// `logs/<program>.log`.
    pub fn program_log(&self, program: &str) -> PathBuf {
        self.logs().join(format!("{program}.log"))
    }

    /// `logs/tend.log`.
    pub fn tend_log(&self) -> PathBuf {
        self.logs().join("tend.log")
    }

    /// `tend.pid`: the single-instance lock and its holder's pid.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("tend.pid")
    }

    /// `state.json`: the startup state.
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// `state.clean.json`: `state.json` as a clean shutdown leaves it, written at start so
    /// that the shutdown is recorded by a rename even on a full disk.
    pub fn clean_state_file(&self) -> PathBuf {
        self.dir.join("state.clean.json")
    }

    /// Refuses the app's state when another user could change it: `$TEND_HOME` and `apps/`
    /// owned by someone else than you or root, or writable by others (unless sticky); the app
    /// folder, its sub-folders (`logs/`, `runs/`) and the files in them owned by another user
    /// or writable by group or others. Changes nothing: the error names the path and the fix.
    ///
    /// # Errors
    /// [`tend_fs::FsError::Exposed`] (or an I/O error reading a folder).
    pub fn check_private(&self) -> Result<(), tend_fs::FsError> {
        let apps = self.dir.parent();
        let parents: Vec<&std::path::Path> =
            apps.into_iter().chain(apps.and_then(std::path::Path::parent)).collect();
        tend_fs::check_private(&parents, &self.dir, 2)
    }

    /// `restart-sentinel.json`: context carried across a restart, consumed at the next start.
    pub fn restart_sentinel(&self) -> PathBuf {
        self.dir.join("restart-sentinel.json")
    }

    /// `upgrade-sentinel.json`: the old and new versions of an upgrade (`tend update`),
    /// consumed at the next start.
    pub fn upgrade_sentinel(&self) -> PathBuf {
        self.dir.join("upgrade-sentinel.json")
    }

    /// `restart-requested`: the marker by which anyone asks for a restart of the whole app.
    pub fn restart_marker(&self) -> PathBuf {
        self.dir.join("restart-requested")
    }

    /// `last-failure.json`: why the last start of the app failed.
    pub fn failure_file(&self) -> PathBuf {
        self.dir.join("last-failure.json")
    }

    /// `inflight.json`: work items programs reported as in progress.
    pub fn inflight_file(&self) -> PathBuf {
        self.dir.join("inflight.json")
    }

    /// `recovery.json`: what a program is handed as `TEND_RECOVERY` after a crash, reboot or
    /// restart (the startup kind and the interrupted work items).
    pub fn recovery_file(&self) -> PathBuf {
        self.dir.join("recovery.json")
    }

    /// `restart-context.json`: the context of the restart that started this run, handed to
    /// programs as `TEND_RESTART_CONTEXT`.
    pub fn restart_context_file(&self) -> PathBuf {
        self.dir.join("restart-context.json")
    }

    /// Creates the app folder and its `logs/` (mode 0700 on Unix).
    ///
    /// # Errors
    /// When a folder cannot be created.
    pub fn create(&self) -> std::io::Result<()> {
        tend_fs::create_private_dir(&self.logs())
    }
}
