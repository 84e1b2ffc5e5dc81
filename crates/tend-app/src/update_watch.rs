//! Updates, as a running app sees them (issue #13): the background version check, reported
//! once (a log line, and `update` in `tend status`), and the upgrade sentinel that `tend update`
//! leaves for the next start.
//!
//! Test hooks (documented in docs/control-api.md): `TEND_UPDATE_FIRST_CHECK` (default `1m`) and
//! `TEND_UPDATE_INTERVAL` (default `24h`) are the delays of the first check and the next ones,
//! as durations (`100ms`).

use crate::control::events::EventHub;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tend_api::{AppHome, UpdateNotice};
use tend_update::{BuildInfo, Checker, InstallMode, UpgradeSentinel};

use crate::config::UpdateConfig;

/// The delay of the first check (a test hook).
pub const FIRST_CHECK_VAR: &str = "TEND_UPDATE_FIRST_CHECK";
/// The delay between checks (a test hook).
pub const INTERVAL_VAR: &str = "TEND_UPDATE_INTERVAL";

/// What `tend status` says about updates; cheap to clone, every clone is the same.
#[derive(Debug, Clone, Default)]
pub struct UpdateState(Arc<RwLock<Option<UpdateNotice>>>);

impl UpdateState {
    /// The notice, if there is something to say.
    pub fn get(&self) -> Option<UpdateNotice> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn change(&self, change: impl FnOnce(&mut UpdateNotice)) {
        let mut guard = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let notice = guard.get_or_insert_with(|| UpdateNotice {
            version: BuildInfo::current().version,
            ..UpdateNotice::default()
        });
        change(notice);
        notice.message = describe(notice);
    }
}

fn describe(notice: &UpdateNotice) -> String {
    let mut parts = Vec::new();
    if let Some(from) = &notice.rolled_back_from {
        parts.push(format!(
            "the upgrade to {from} did not come up healthy and was rolled back to {}",
            notice.version
        ));
    }
    if let Some(from) = &notice.upgraded_from {
        parts.push(format!("upgraded from {from} to {}", notice.version));
    }
    if let Some(available) = &notice.available {
        parts.push(format!(
            "tend {available} is available (this is {}); `tend update` installs it",
            notice.version
        ));
    }
    parts.join("; ")
}

/// Consumes `upgrade-sentinel.json`, if `tend update` left one: logs what happened ("upgraded
/// from X to Y", or the rollback) and puts it in `state`. A damaged one is removed and logged.
pub fn take_upgrade(home: &AppHome, state: &UpdateState) -> Option<UpgradeSentinel> {
    let path = home.upgrade_sentinel();
    let bytes = tend_fs::read_state_file(&path, tend_fs::MAX_STATE_FILE).ok()?;
    if let Err(e) = std::fs::remove_file(&path) {
        tracing::error!("cannot remove {}: {e}", path.display());
        return None;
    }
    let sentinel: UpgradeSentinel = match serde_json::from_slice(&bytes) {
        Ok(sentinel) => sentinel,
        Err(e) => {
            tracing::warn!("{} was damaged ({e}); removed", path.display());
            return None;
        }
    };
    tracing::info!("{}: {}", home.app, sentinel.describe());
    state.change(|notice| match &sentinel.rolled_back {
        Some(_) => notice.rolled_back_from = Some(sentinel.new_version.clone()),
        None => notice.upgraded_from = Some(sentinel.old_version.clone()),
    });
    Some(sentinel)
}

/// Starts the background check, unless turned off (`[update] check = false`,
/// `TEND_NO_UPDATE_CHECK=1`) or running from a build tree (then only with `TEND_UPDATE_INDEX`
/// set, which tests do). The task ends with the runtime.
pub fn start(config: &UpdateConfig, tend_home: &Path, state: UpdateState, events: EventHub) {
    if !config.checks_enabled() {
        tracing::debug!("update checks are off");
        return;
    }
    if InstallMode::detect_current() == InstallMode::Dev
        && std::env::var_os(tend_update::INDEX_VAR).is_none()
    {
        tracing::debug!("a build tree's tend does not check for updates");
        return;
    }
    let checker = Checker::new(config.index_url(), config.channel, tend_home);
    let first = delay(FIRST_CHECK_VAR, Duration::from_secs(60));
    let interval = delay(INTERVAL_VAR, Duration::from_secs(24 * 60 * 60));
    tokio::spawn(async move {
        tokio::time::sleep(first).await;
        loop {
            check_once(&checker, &state, &events).await;
            tokio::time::sleep(interval).await;
        }
    });
}

async fn check_once(checker: &Checker, state: &UpdateState, events: &EventHub) {
    let job = checker.clone();
    let result = tokio::task::spawn_blocking(move || {
        let check = job.check(false)?;
        let notified = job.load_cache().notified;
        Ok::<_, tend_update::UpdateError>((check, notified))
    })
    .await;
    let (check, notified) = match result {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::debug!("update check: {e}");
            return;
        }
        Err(e) => {
            tracing::debug!("update check: {e}");
            return;
        }
    };
    let Some(newer) = check.newer().cloned() else { return };
    let version = newer.to_string();
    if state.get().and_then(|n| n.available).as_deref() == Some(version.as_str()) {
        return;
    }
    state.change(|notice| notice.available = Some(version.clone()));
    if notified.as_deref() != Some(version.as_str()) {
        let text = format!(
            "tend {version} is available (this is {}); `tend update` installs it",
            check.current
        );
        tracing::info!("{text}");
        events.publish("update", None, text);
        let job = checker.clone();
        let _ = tokio::task::spawn_blocking(move || job.mark_notified(&newer)).await;
    }
}

fn delay(var: &str, default: Duration) -> Duration {
    std::env::var(var)
        .ok()
        .and_then(|v| humantime::parse_duration(v.trim()).ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_sentinel_is_consumed_once() {
        let dir = tempfile::tempdir().unwrap();
        let home = AppHome::new(dir.path(), "a");
        home.create().unwrap();
        let state = UpdateState::default();
        assert!(take_upgrade(&home, &state).is_none());
        assert!(state.get().is_none(), "nothing to say: no `update` in the status");
        tend_fs::write_json(&home.upgrade_sentinel(), &UpgradeSentinel::new("0.1.0", "0.2.0"))
            .unwrap();
        let taken = take_upgrade(&home, &state).unwrap();
        assert_eq!((taken.old_version.as_str(), taken.new_version.as_str()), ("0.1.0", "0.2.0"));
        assert!(!home.upgrade_sentinel().exists());
        assert!(take_upgrade(&home, &state).is_none(), "consumed once");
        let notice = state.get().unwrap();
        assert_eq!(notice.upgraded_from.as_deref(), Some("0.1.0"));
        assert!(notice.message.starts_with("upgraded from 0.1.0 to "), "{}", notice.message);
        std::fs::write(home.upgrade_sentinel(), "{ torn").unwrap();
        assert!(take_upgrade(&home, &state).is_none());
        assert!(!home.upgrade_sentinel().exists());
    }
}
