//! `state.json`: what the last start of the app left, to classify the next one.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tend_fs::FsError;

/// The content of `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StartupState {
    /// The machine's boot id when the app started.
    pub boot_id: String,
    /// When the app started (Unix seconds).
    pub started_at: u64,
    /// The tend version that started it.
    pub version: String,
    /// Whether that run ended gracefully.
    pub clean_shutdown: bool,
    /// The pid of the tend that ran it.
    pub pid: u32,
    /// The absolute path of the app's `tend.toml` (none for an app of `tend run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
}

impl StartupState {
    /// A state for a start of this tend now, on the boot `boot_id`, not yet shut down.
    pub fn starting(boot_id: &str) -> Self {
        StartupState {
            boot_id: boot_id.to_string(),
            started_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            version: env!("CARGO_PKG_VERSION").to_string(),
            clean_shutdown: false,
            pid: std::process::id(),
            config: None,
        }
    }
}

/// What a load found.
#[derive(Debug)]
pub struct LoadedState {
    /// The previous state, if there was a valid one.
    pub state: Option<StartupState>,
    /// Where a damaged file was moved to.
    pub quarantined: Option<PathBuf>,
}

/// Reads `state.json`. A missing file is `None`; a damaged one is moved aside
/// (`state.json.corrupt-<millis>`), logged, and is `None` too.
///
/// # Errors
/// Only when a damaged file cannot be moved aside.
pub fn load(path: &Path) -> Result<LoadedState, FsError> {
    let loaded = tend_fs::load_json_or_default::<Option<StartupState>>(path)?;
    Ok(LoadedState { state: loaded.value, quarantined: loaded.quarantined })
}

/// Writes `state.json` atomically (mode 0600).
///
/// # Errors
/// When it cannot be written.
pub fn save(path: &Path, state: &StartupState) -> Result<(), FsError> {
    tend_fs::write_json(path, state)
}

/// What a consumed `restart-sentinel.json` held.
#[derive(Debug)]
pub struct Sentinel {
    /// Its content; `None` if it was damaged (and moved aside).
    pub context: Option<serde_json::Value>,
}

/// Consumes `restart-sentinel.json`: reads it and removes it, so that it counts once. A damaged
/// one still counts as a request; it is moved aside rather than removed.
///
/// # Errors
/// When it cannot be read, moved aside or removed (it would count again at the next start).
pub fn take_sentinel(path: &Path) -> Result<Option<Sentinel>, FsError> {
    if path.symlink_metadata().is_err() {
        return Ok(None);
    }
    let loaded = tend_fs::load_json_or_default::<Option<serde_json::Value>>(path)?;
    if loaded.quarantined.is_some() {
        return Ok(Some(Sentinel { context: None }));
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(FsError::io("removing", path, e)),
    }
    Ok(Some(Sentinel { context: loaded.value }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(load(&path).unwrap().state.is_none());
        let state = StartupState::starting("boot-a");
        save(&path, &state).unwrap();
        assert_eq!(load(&path).unwrap().state, Some(state));
        std::fs::write(&path, "{ torn").unwrap();
        let loaded = load(&path).unwrap();
        assert!(loaded.state.is_none());
        assert!(loaded.quarantined.unwrap().exists());
        assert!(!path.exists());
    }

    #[test]
    fn a_sentinel_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restart-sentinel.json");
        assert!(take_sentinel(&path).unwrap().is_none());
        std::fs::write(&path, r#"{"reason": "test"}"#).unwrap();
        let taken = take_sentinel(&path).unwrap().unwrap();
        assert_eq!(taken.context.unwrap()["reason"], "test");
        assert!(!path.exists());
        assert!(take_sentinel(&path).unwrap().is_none());
        std::fs::write(&path, "not json").unwrap();
        assert!(take_sentinel(&path).unwrap().unwrap().context.is_none());
        assert!(!path.exists());
    }
}
