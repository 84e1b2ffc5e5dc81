//! The commands the CLI runs, one file each (or per family): what they ask of the runtime, and
//! what they print. `tend up`/`tend run` are the runtime itself ([`crate::app`]).
//!
//! - [`control`]: `tend status`, `tend restart`, `tend down` (through the control API)
//! - [`logs`]: `tend logs`
//! - [`env`](mod@env): `tend env`
//! - [`service`]: `tend service …`
//! - [`inflight`]: `tend inflight begin|done|list`

pub mod control;
pub mod env;
pub mod inflight;
pub mod logs;
pub mod service;
