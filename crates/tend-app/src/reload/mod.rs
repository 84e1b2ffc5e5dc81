//! What hot reload is made of: watching a program's files ([`ProgramWatcher`], restarts with
//! `TEND_RESTART_REASON=file_change`), debouncing bursts of file events ([`next_batch`]), and
//! the difference between two configs ([`diff`]). The app's programs use them:
//! [`crate::programs::ProgramSet`] applies a diff, [`crate::programs::ConfigWatch`] reloads an
//! edited `tend.toml`.
//!
//! Everything is event-driven (OS file events through `notify`): no polling, and no timer
//! while nothing changes.

mod debounce;
mod diff;
mod watch;

pub use debounce::next_batch;
pub use diff::{Diff, app_level_changes, diff};
pub use watch::{DEFAULT_IGNORES, Ignore, ProgramWatcher, WatchError, is_change};
