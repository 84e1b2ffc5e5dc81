//! What tend needs to update itself without a running app (issue #13):
//!
//! - [`BuildInfo`]: version, commit, build date and target (`tend version`);
//! - [`InstallMode`]: how this binary was installed, and so how it is upgraded (`cargo`,
//!   `binary`, `package`, `dev`);
//! - [`check`]: the crates.io sparse-index entry of `tend-cli`, the newest release for a
//!   [`Channel`], at most once a day, cached in `$TEND_HOME/update.json`;
//! - [`release`]: downloading a release binary, verifying it (SHA-256, minisign where
//!   published) and swapping it in, keeping `tend.previous`;
//! - [`UpgradeSentinel`]: what `upgrade-sentinel.json` carries across the restart.
//!
//! Network work is blocking ([`ureq`]) with short bounded timeouts; async callers run it on a
//! blocking thread.

mod build_info;
pub mod check;
mod error;
mod http;
pub mod index;
mod install;
mod os;
pub mod release;
mod sentinel;

pub use build_info::{BuildInfo, VERSION_SLOT_PREFIX, patch_version};
pub use check::{Channel, Check, Checker};
pub use error::UpdateError;
pub use install::{InstallMode, Probe};
pub use sentinel::{UPGRADE_REASON, UpgradeSentinel};

/// The package whose releases tend looks for (the crate `tend` on crates.io is another
/// project's).
pub const PACKAGE: &str = "tend-cli";

/// The default sparse index (`[update] index`, `TEND_UPDATE_INDEX`).
pub const DEFAULT_INDEX: &str = "https://index.crates.io";

/// Set to `1` to turn every update check off (the same as `[update] check = false`).
pub const NO_CHECK_VAR: &str = "TEND_NO_UPDATE_CHECK";

/// Overrides the index base URL.
pub const INDEX_VAR: &str = "TEND_UPDATE_INDEX";

/// Overrides the release base URL.
pub const RELEASES_VAR: &str = "TEND_UPDATE_RELEASES";

/// Whether `TEND_NO_UPDATE_CHECK` turns checks off (`1`, `true`, `yes`).
pub fn checks_disabled_by_env() -> bool {
    std::env::var(NO_CHECK_VAR)
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The User-Agent of every request: which tend, on what, and why.
pub fn user_agent() -> String {
    let info = BuildInfo::current();
    format!("tend/{} ({}; update check; package {PACKAGE})", info.version, info.target)
}
