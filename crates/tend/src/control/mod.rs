//! The control API of a running app: an HTTP/JSON server on `$TEND_HOME/apps/<app>/tend.sock`
//! (see `docs/control-api.md`), and the commands that use it (`tend status`, `tend restart`,
//! `tend down`). Its documents, its address and its client are [`tend_api`]'s.

pub mod accept;
pub mod api;
pub mod commands;
pub mod conn;
#[cfg(windows)]
pub mod pipe;
mod routes;
pub mod server;
#[cfg(unix)]
pub mod socket;
pub mod target;
