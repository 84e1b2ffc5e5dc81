//! The tend app runtime as a library: what `tend up` and `tend run` do, without the command
//! line.
//!
//! - [`config`]: `tend.toml`, parsed and checked (split by table), with errors that name the
//!   file, the line and the key.
//! - [`docker`]: what an app's container is made of, without a daemon: the Dockerfile of a
//!   `[docker] build`, the extras registry, the fixed mounts.
//! - [`app`]: running an app ([`App::run`]) until it is stopped, its programs end, or a restart
//!   of the whole app is asked for ([`Outcome`]); its errors are typed ([`AppError`]) and carry
//!   no exit code: the binary chooses those.
//! - [`lifecycle`]: the app's lock, the startup kind, the restart protocol and the start's
//!   failure report; [`detach`] is the `tend up -d` handshake.
//! - [`control`]: the control API server (transport apart from routes).
//! - [`programs`]: the running set of programs, launching one in its runner's environment, and
//!   the layers of variables a program gets; [`reload`] is what hot reload is made of.
//! - [`inflight`]: the in-flight work store and its journal.
//! - Logs: [`logfile`] (rotation), [`program_log`], [`tail`] (the one tail/follow every caller
//!   uses), [`terminal`] and [`logging`] (tend's own events).
//! - [`os`]: every difference between operating systems in this crate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend_app::AppError> {
//! use tend_app::{App, AppOptions, Outcome, Source};
//! let options = AppOptions::new("/tmp/tend-home", Source::file("tend.toml"));
//! match App::run(options).await? {
//!     Outcome::Stopped => println!("stopped"),
//!     Outcome::Finished(finals) => println!("{} program(s) ended", finals.len()),
//!     Outcome::RestartByServiceManager => println!("the service manager starts it again"),
//! }
//! # Ok(()) }
//! ```

pub mod app;
pub mod config;
pub mod control;
pub mod descriptors;
pub mod detach;
pub mod docker;
pub mod error;
pub mod home;
pub mod inflight;
pub mod lifecycle;
pub mod logfile;
pub mod logging;
pub mod os;
pub mod program_log;
pub mod programs;
pub mod reap;
pub mod reload;
pub mod stall_queue;
pub mod tail;
pub mod terminal;
pub mod update_watch;

pub use app::{App, AppOptions, Outcome, Source};
pub use error::{AppError, chain};
