//! `upgrade-sentinel.json`: written by `tend update` before it asks an app to restart; consumed
//! once by the app's next start.

use serde::{Deserialize, Serialize};

/// The restart reason programs see in `TEND_RESTART_CONTEXT` after an upgrade.
pub const UPGRADE_REASON: &str = "upgrade";

/// What an upgrade carries across the restart of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeSentinel {
    /// The version that ran before.
    pub old_version: String,
    /// The version installed.
    pub new_version: String,
    /// When, RFC 3339 in UTC.
    pub requested_at: String,
    /// Set when the new version did not come up healthy and `tend.previous` was put back: the
    /// app runs `old_version` again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<String>,
}

impl UpgradeSentinel {
    /// An upgrade from `old` to `new`, now.
    pub fn new(old: &str, new: &str) -> Self {
        UpgradeSentinel {
            old_version: old.to_owned(),
            new_version: new.to_owned(),
            requested_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            rolled_back: None,
        }
    }

    /// What the next start logs and `tend status` shows.
    pub fn describe(&self) -> String {
        match &self.rolled_back {
            None => format!("upgraded from {} to {}", self.old_version, self.new_version),
            Some(why) => format!(
                "the upgrade to {} was rolled back to {}: {why}",
                self.new_version, self.old_version
            ),
        }
    }
}
