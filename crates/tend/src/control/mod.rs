//! The control API of a running app: an HTTP/JSON server on `$TEND_HOME/apps/<app>/tend.sock`
//! (see `docs/control-api.md`), its client, and the commands that use it (`tend status`,
//! `tend restart`, `tend down`).

pub mod accept;
pub mod api;
pub mod client;
pub mod commands;
pub mod conn;
#[cfg(windows)]
pub mod pipe;
pub mod server;
pub mod socket;
pub mod target;
