//! Restarting the whole app: the `restart-requested` marker (watched by file-system events, never
//! polled), `tend restart --app`, the sentinel that carries the request across the restart, and
//! how tend comes back (exit 42 under a service manager, else a re-execution in place).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tend_api::AppHome;
use tokio::sync::mpsc;

/// The exit code by which tend asks its service manager to start it again.
pub const SERVICE_RESTART_CODE: u8 = 42;

/// The reason recorded for a marker that gives none.
pub const MARKER_REASON: &str = "restart-requested marker";

/// The longest reason kept from a marker's text.
const MAX_REASON: usize = 200;

/// A request to restart the whole app; written as `restart-sentinel.json` and handed to the
/// programs of the next start as `TEND_RESTART_CONTEXT`.
///
/// ```
/// # use tend_app::lifecycle::restart::RestartRequest;
/// let request = RestartRequest::new("deploy", Some(serde_json::json!({"version": "1.2"})));
/// assert_eq!(request.reason, "deploy");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartRequest {
    /// Why: free text (`tend restart --app --reason`, the marker's `reason`).
    pub reason: String,
    /// When it was asked for, RFC 3339 in UTC.
    pub requested_at: String,
    /// Anything the requester wants the next start to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
}

impl RestartRequest {
    /// A request made now.
    pub fn new(reason: impl Into<String>, context: Option<serde_json::Value>) -> Self {
        RestartRequest {
            reason: reason.into(),
            requested_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            context,
        }
    }

    /// The request a `restart-requested` marker with `text` makes: empty → no reason given;
    /// a JSON object → its `reason` (a string) and `context`; any other text → its first line
    /// as the reason.
    pub fn from_marker(text: &str) -> Self {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return RestartRequest::new(MARKER_REASON, None);
        }
        if let Ok(serde_json::Value::Object(mut object)) =
            serde_json::from_str::<serde_json::Value>(trimmed)
        {
            let reason = match object.remove("reason") {
                Some(serde_json::Value::String(reason)) if !reason.trim().is_empty() => reason,
                _ => MARKER_REASON.to_string(),
            };
            return RestartRequest::new(clip(&reason), object.remove("context"));
        }
        let first = trimmed.lines().next().unwrap_or_default();
        RestartRequest::new(clip(first), None)
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_REASON) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Writes `restart-sentinel.json` atomically: the next start consumes it once.
///
/// # Errors
/// When it cannot be written.
pub fn write_sentinel(home: &AppHome, request: &RestartRequest) -> Result<(), tend_fs::FsError> {
    tend_fs::write_json(&home.restart_sentinel(), request)
}

/// Puts the consumed sentinel's content where programs find it (`restart-context.json`, the
/// path given as `TEND_RESTART_CONTEXT`), or removes an old one when this start has none, so that
/// no program ever reads a previous restart's context. Returns the path when there is one.
///
/// # Errors
/// When the file cannot be written or an old one removed.
pub fn publish_context(
    home: &AppHome,
    context: Option<&serde_json::Value>,
) -> Result<Option<PathBuf>, tend_fs::FsError> {
    let path = home.restart_context_file();
    match context {
        Some(value) => {
            tend_fs::write_json(&path, value)?;
            Ok(Some(path))
        }
        None => {
            remove_if_present(&path).map_err(|e| tend_fs::FsError::io("removing", &path, e))?;
            Ok(None)
        }
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads and removes the marker, if it is there: the request it makes.
fn take_marker(path: &Path) -> Option<RestartRequest> {
    let text = match tend_fs::read_state_file(path, tend_fs::MAX_STATE_FILE) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            // A FIFO, a folder, a huge file: never a request. Set aside so it is not seen again.
            match tend_fs::quarantine(path) {
                Ok(moved) => tracing::warn!(
                    "{} {e}; it was moved to {} and does not restart the app",
                    path.display(),
                    moved.display()
                ),
                Err(q) => tracing::error!("{} {e}, and {q}", path.display()),
            }
            return None;
        }
        Err(_) => return None,
    };
    match remove_if_present(path) {
        Ok(true) => Some(RestartRequest::from_marker(&text)),
        // Someone else took it meanwhile.
        Ok(false) => None,
        Err(e) => {
            tracing::error!(
                "cannot remove {}: {e}; ignoring it so that it does not restart the app in a loop",
                path.display()
            );
            None
        }
    }
}

/// Watches the app folder for `restart-requested`: each marker that appears is read, removed,
/// and sent as a request. File-system events only (inotify, FSEvents, ReadDirectoryChangesW):
/// nothing runs while nobody writes the marker.
pub struct MarkerWatch {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for MarkerWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarkerWatch").finish_non_exhaustive()
    }
}

impl MarkerWatch {
    /// Starts watching `home`'s folder; requests go to `requests`. A marker left from before
    /// this start is removed first (tend is starting anyway), and logged.
    ///
    /// # Errors
    /// When the folder cannot be watched (e.g. the inotify watch limit is reached).
    pub fn start(
        home: &AppHome,
        requests: mpsc::UnboundedSender<RestartRequest>,
    ) -> Result<MarkerWatch, notify::Error> {
        use notify::Watcher as _;
        let marker = home.restart_marker();
        if let Some(old) = take_marker(&marker) {
            tracing::info!(
                "removed a restart-requested marker left from before this start ({})",
                old.reason
            );
        }
        let name = marker.file_name().map(ToOwned::to_owned).unwrap_or_default();
        let path = marker.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if !completes_a_write(&event.kind)
                    || !event.paths.iter().any(|p| p.file_name() == Some(name.as_os_str()))
                {
                    return;
                }
                if let Some(request) = take_marker(&path) {
                    let _ = requests.send(request);
                }
            })?;
        watcher.watch(&home.dir, notify::RecursiveMode::NonRecursive)?;
        Ok(MarkerWatch { _watcher: watcher })
    }
}

/// Whether an event means a file is complete under its name: closed after writing, or renamed
/// into place. Where the platform does not report closes (not Linux), its creation too.
fn completes_a_write(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Modify(ModifyKind::Name(
            RenameMode::To | RenameMode::Both | RenameMode::Any,
        )) => true,
        EventKind::Create(_) | EventKind::Modify(_) => !cfg!(target_os = "linux"),
        _ => false,
    }
}

/// How tend comes back after a restart of the app was requested and every program stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comeback {
    /// Exit with [`SERVICE_RESTART_CODE`]: the service manager starts tend again.
    ExitForServiceManager,
    /// Execute tend again in this process (same pid, same arguments and environment).
    ReExecute,
}

/// How to come back: under a service manager (`TEND_SUPERVISOR=1` or systemd's
/// `INVOCATION_ID`) leave it to the manager, else re-execute.
pub fn comeback(under_service_manager: bool) -> Comeback {
    if under_service_manager { Comeback::ExitForServiceManager } else { Comeback::ReExecute }
}

/// Executes tend again with the arguments it was started with. On Unix the process image is
/// replaced (same pid; the lock's file descriptor is closed by the exec, so the new image takes
/// the lock again). On Windows a new tend is started with the same console and this one waits
/// for it and exits with its code. Returns only on failure.
pub fn re_execute() -> std::io::Error {
    let exe = match std::env::current_exe() {
        // Linux marks a replaced binary `… (deleted)`: the new one is at argv[0].
        Ok(path) if path.exists() => path,
        _ => match std::env::args_os().next() {
            Some(arg0) => PathBuf::from(arg0),
            None => return std::io::Error::other("cannot tell where the tend binary is"),
        },
    };
    let mut command = std::process::Command::new(exe);
    command.args(std::env::args_os().skip(1));
    if let Some((key, value)) = crate::detach::child_env() {
        command.env(key, value);
    }
    // The next image raises the limit again, and must see the one tend was started with.
    if let Err(e) = tend_runner::restore_fd_limit() {
        tracing::warn!("cannot restore the limit of open files: {e}");
    }
    crate::os::exec_in_place(command)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn marker_text() {
        let empty = RestartRequest::from_marker(" \n");
        assert_eq!((empty.reason.as_str(), empty.context), (MARKER_REASON, None));

        let json = RestartRequest::from_marker(r#"{"reason": "deploy", "context": {"v": 2}}"#);
        assert_eq!(json.reason, "deploy");
        assert_eq!(json.context, Some(serde_json::json!({"v": 2})));

        let no_reason = RestartRequest::from_marker(r#"{"context": [1]}"#);
        assert_eq!(no_reason.reason, MARKER_REASON);
        assert_eq!(no_reason.context, Some(serde_json::json!([1])));

        let text = RestartRequest::from_marker("new model\nsecond line");
        assert_eq!((text.reason.as_str(), text.context), ("new model", None));

        let long = RestartRequest::from_marker(&"é".repeat(500));
        assert_eq!(long.reason.chars().count(), MAX_REASON + 1);
    }

    #[test]
    fn sentinel_round_trip() {
        let request = RestartRequest::new("x", Some(serde_json::json!({"a": 1})));
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<RestartRequest>(&text).unwrap(), request);
        let bare = serde_json::to_value(RestartRequest::new("y", None)).unwrap();
        assert!(bare.get("context").is_none());
        assert!(bare["requested_at"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn context_is_published_or_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let home = AppHome::new(dir.path(), "a");
        home.create().unwrap();
        let value = serde_json::json!({"reason": "r"});
        let path = publish_context(&home, Some(&value)).unwrap().unwrap();
        let read: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(read, value);
        assert_eq!(publish_context(&home, None).unwrap(), None);
        assert!(!path.exists());
    }

    #[test]
    fn comeback_follows_the_service_manager() {
        assert_eq!(comeback(true), Comeback::ExitForServiceManager);
        assert_eq!(comeback(false), Comeback::ReExecute);
    }

    #[tokio::test]
    async fn a_marker_becomes_one_request() {
        let dir = tempfile::tempdir().unwrap();
        let home = AppHome::new(dir.path(), "a");
        home.create().unwrap();
        std::fs::write(home.restart_marker(), "stale").unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _watch = MarkerWatch::start(&home, tx).unwrap();
        assert!(!home.restart_marker().exists(), "a stale marker is removed at start");
        std::fs::write(home.restart_marker(), r#"{"reason": "now"}"#).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.reason, "now");
        assert!(!home.restart_marker().exists());
        // Written atomically (temp file, then rename) works the same.
        let temp = home.dir.join(".marker.tmp");
        std::fs::write(&temp, "renamed").unwrap();
        std::fs::rename(&temp, home.restart_marker()).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.reason, "renamed");
    }
}
