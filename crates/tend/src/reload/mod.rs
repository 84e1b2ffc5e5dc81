//! Hot reload: restarting a program when its files change (`watch`), and applying an edited
//! `tend.toml` to the running app (`tend up --watch-config`).
//!
//! - [`ProgramSet`] owns the app's programs as configured: it sets each one up (log file,
//!   output sink, launcher, file watcher) and applies a new config by [`diff`]: removed
//!   programs are stopped and dropped, changed ones respecified and restarted with
//!   `TEND_RESTART_REASON=config_change`, added ones started, the rest left alone.
//! - [`ProgramWatcher`] restarts one program, debounced, when a file under its `watch.paths`
//!   changes (`TEND_RESTART_REASON=file_change`).
//! - [`ConfigWatch`] reloads `tend.toml` when it changes.
//!
//! Everything is event-driven (OS file events through `notify`): no polling, and no timer
//! while nothing changes.

mod config_watch;
mod debounce;
mod diff;
mod programs;
mod watch;

pub use config_watch::{CONFIG_DEBOUNCE, ConfigWatch, ConfigWatchError};
pub use debounce::next_batch;
pub use diff::{Diff, app_level_changes, diff};
pub use programs::{ProgramSet, policy_of, unavailable_runner};
pub use watch::{DEFAULT_IGNORES, Ignore, ProgramWatcher, WatchError, is_change};
