//! The descriptor limit (`RLIMIT_NOFILE`): raised for tend at start, given back to its
//! programs.
//!
//! tend holds a few descriptors per program (its output pipes, its log, a pidfd), so the usual
//! soft limit of 1024 caps an app at a few hundred programs. Like systemd, tend raises its soft
//! limit to the hard limit ([`raise_fd_limit`]); every program it starts gets back the limit
//! tend was started with, set in the child before `exec` (a program that uses `select(2)`
//! breaks on descriptors above 1023).

use std::io;
use std::sync::OnceLock;

use crate::os;

/// A soft and a hard descriptor limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// The limit in force: the highest descriptor number plus one.
    pub soft: u64,
    /// How far the soft limit may be raised without privileges.
    pub hard: u64,
}

/// What [`raise_fd_limit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaisedLimit {
    /// The limit tend was started with; its programs get it back.
    pub original: FdLimit,
    /// The limit now in force for tend.
    pub now: FdLimit,
}

/// The limit tend was started with, once it raised its own.
static ORIGINAL: OnceLock<FdLimit> = OnceLock::new();

/// This process's descriptor limit; `None` where there is no such limit (Windows).
pub fn fd_limit() -> Option<FdLimit> {
    os::get_fd_limit()
}

/// Raises this process's soft descriptor limit up to its hard limit, and remembers the limit
/// it had so that every program started from then on gets it back. Calling it again keeps the
/// first original.
///
/// # Errors
/// When the limit cannot be read or set; `Ok(None)` where there is no such limit (Windows).
pub fn raise_fd_limit() -> io::Result<Option<RaisedLimit>> {
    let Some(current) = os::get_fd_limit() else { return Ok(None) };
    let original = *ORIGINAL.get_or_init(|| current);
    let now = os::raise_fd_limit(current)?;
    Ok(Some(RaisedLimit { original, now }))
}

/// Sets this process's soft limit back to the one it was started with (before `exec`ing a new
/// image of tend, which raises it again and must see the original). Does nothing unless
/// [`raise_fd_limit`] raised it.
///
/// # Errors
/// When the limit cannot be set.
pub fn restore_fd_limit() -> io::Result<()> {
    match for_children() {
        Some(original) => os::set_fd_limit(original),
        None => Ok(()),
    }
}

/// The limit a started program must get back: `Some` only when tend raised its own.
pub(crate) fn for_children() -> Option<FdLimit> {
    let original = *ORIGINAL.get()?;
    (os::get_fd_limit() != Some(original)).then_some(original)
}
