//! The control API of a running tend app, for anything that talks to it: the CLI, and programs
//! under tend that report their in-flight work.
//!
//! - [`wire`](crate::Status) types: the JSON documents of `docs/control-api.md` ([`Status`],
//!   [`ProgramStatus`], [`ApiError`], the in-flight and restart/stop answers);
//! - [`address`]: where an app's control socket lives (or, on Windows, its named pipe);
//! - [`client`]: one HTTP/1 request per connection, async, never blocking a thread;
//! - [`inflight`]: the in-flight items, the recovery document, and [`inflight::Inflight`], the
//!   SDK a Rust program embeds.
//!
//! It pulls in no CLI, no HTTP server and no file watcher: a program can depend on it alone.
//!
//! # Example: a Rust program reports in-flight work
//!
//! A program under tend gets `TEND_STATE_DIR` (its app's state folder) and `TEND_PROGRAM` (its
//! name); [`Inflight::from_env`](inflight::Inflight::from_env) finds the running app from
//! them. After a crash, a reboot or a restart, `TEND_RECOVERY` names what was interrupted.
//!
//! ```no_run
//! # async fn work() -> Result<(), tend_api::inflight::InflightError> {
//! use tend_api::inflight::{Inflight, Recovery};
//!
//! // What the previous run left unfinished, if tend handed anything over.
//! if let Some(recovery) = Recovery::from_env()? {
//!     for item in &recovery.interrupted {
//!         println!("interrupted by a {}: {}", recovery.startup_kind, item.id);
//!     }
//! }
//! let inflight = Inflight::from_env()?;
//! inflight.begin("job-17", Some("resize photo 17")).await?;
//! // ... the work ...
//! inflight.done("job-17").await?;
//! # Ok(()) }
//! ```

pub mod address;
pub mod client;
mod home;
mod human;
pub mod inflight;
pub mod json;
mod wire;

#[cfg(unix)]
#[path = "os/unix.rs"]
mod os;
#[cfg(windows)]
#[path = "os/windows.rs"]
mod os;

pub use home::AppHome;
pub use human::human;
pub use wire::{
    ApiError, AppEvent, InflightBegin, InflightDone, InflightList, LogError, Placement,
    ProgramStatus, Restarting, Status, Stopping, UpdateNotice,
};
