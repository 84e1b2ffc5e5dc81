//! Which app a command is about: `--name NAME`, the `tend.toml` at `-f FILE` (also while that
//! file has errors), or, for a command run by a program under tend, `TEND_STATE_DIR`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tend_api::client::{self, ClientError, Response};
use tend_api::{AppHome, address};

use crate::exit::{self, CliError};
use crate::global::Global;
use tend_app::config::Config;
use tend_app::home;

/// The app a command is about.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its state folder.
    pub home: AppHome,
    /// Its programs in configuration order, when known from a valid `tend.toml`.
    pub programs: Option<Vec<String>>,
    /// How commands name it (` -f FILE`, ` --name NAME`, or nothing for `./tend.toml`), for
    /// the hints in messages.
    pub hint: String,
}

impl Target {
    /// The app named by `--name NAME`, else the one of the `tend.toml` at `file`, else (for a
    /// command run by a program under tend, with no `tend.toml` in its folder) the app of
    /// `TEND_STATE_DIR`.
    ///
    /// A `tend.toml` with errors still names its app: the name recorded in the app's
    /// `state.json` for that file, else its top-level `name` (or its folder's name) if such an
    /// app exists. Then one warning says that the file has errors.
    ///
    /// # Errors
    /// An invalid `--name`, no such file, or a broken file whose app cannot be told (exit 1).
    pub fn resolve(global: &Global, file: &Path, app: Option<&str>) -> Result<Target, CliError> {
        if let Some(name) = app {
            let clean = tend_app::config::sanitize_name(name);
            if clean != name || name.is_empty() {
                return Err(CliError::error(format!("--name: `{name}` is not an app name")));
            }
            return Ok(Target {
                home: AppHome::new(&global.home, name),
                programs: None,
                hint: format!(" --name {}", tend_app::detach::shell_word(name)),
            });
        }
        let hint = tend_app::detach::file_flag(file);
        if !file.exists() {
            if let Some(home) = AppHome::from_state_dir_env() {
                return Ok(Target { home, programs: None, hint: String::new() });
            }
            return Err(CliError::error(format!(
                "{} does not exist; pass -f FILE, or --name NAME for an app started with `tend run`",
                file.display()
            )));
        }
        match Config::load(file) {
            Ok(config) => Ok(Target {
                home: AppHome::new(&global.home, &config.name),
                programs: Some(config.programs.iter().map(|p| p.name.clone()).collect()),
                hint,
            }),
            Err(error) => {
                let Some(name) = tend_app::home::broken_file_app(&global.home, file) else {
                    return Err(CliError::error(format!(
                        "{error}\n  cannot tell which app {} is while it has errors, and no app in \
                         {} was started from it; fix it, or pass --name NAME (apps: {})",
                        file.display(),
                        global.home.display(),
                        app_list(&global.home)
                    )));
                };
                let first = error.to_string();
                let first = first.lines().next().unwrap_or_default();
                eprintln!(
                    "tend: warning: {} has errors, so app `{name}` was found by its name; a \
                     running app keeps its last good config ({first})",
                    file.display()
                );
                Ok(Target { home: AppHome::new(&global.home, &name), programs: None, hint })
            }
        }
    }

    /// Whether the app has a state folder: it ran here at least once.
    pub fn ever_ran(&self) -> bool {
        self.home.dir.is_dir()
    }

    /// The message for an app that has never run with this `TEND_HOME`.
    pub fn never_ran(&self) -> String {
        let home = self.home.dir.parent().and_then(Path::parent).unwrap_or(&self.home.dir);
        format!("it never ran with TEND_HOME={} (apps there: {})", home.display(), app_list(home))
    }

    /// The socket to reach the running app on.
    pub fn socket(&self) -> PathBuf {
        address::connect_path(&self.home)
    }

    /// The "not running" error (exit 3); with `hint`, how to start it.
    pub fn not_running(&self, hint: bool) -> CliError {
        let start = if hint {
            format!("; start it with `tend up{}`", self.up_hint())
        } else {
            String::new()
        };
        let never =
            if self.ever_ran() { String::new() } else { format!(" ({})", self.never_ran()) };
        CliError {
            code: exit::NOT_RUNNING,
            message: format!("app `{}` is not running{start}{never}", self.home.app),
        }
    }

    /// ` -f FILE` for `tend up`, when the app was named by its file.
    fn up_hint(&self) -> &str {
        if self.hint.starts_with(" --name") { "" } else { &self.hint }
    }

    /// Sends `method uri` to the running app.
    ///
    /// # Errors
    /// Not running (exit 3, with the start hint if `hint`), or no answer (exit 1).
    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        timeout: Duration,
        hint: bool,
    ) -> Result<Response, CliError> {
        match client::request(&self.socket(), method, uri, timeout).await {
            Ok(response) => Ok(response),
            Err(ClientError::NotRunning) => Err(self.not_running(hint)),
            Err(ClientError::Failed(message)) => {
                Err(CliError::error(format!("app `{}`: {message}", self.home.app)))
            }
        }
    }
}

/// The names of the apps under `tend_home`, for messages: `a, b`, or `none`.
pub fn app_list(tend_home: &Path) -> String {
    let names: Vec<String> = home::apps(tend_home).into_iter().map(|a| a.app).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}
