//! The control API of a running app: an HTTP/JSON server on `$TEND_HOME/apps/<app>/tend.sock`
//! (see `docs/control-api.md`). The commands that use it are the binary's (`tend-cli`); its
//! documents, address and client are [`tend_api`]'s.

pub mod accept;
pub mod api;
pub mod conn;
pub mod events;
#[cfg(windows)]
pub mod pipe;
mod routes;
pub mod server;
#[cfg(unix)]
pub mod socket;
