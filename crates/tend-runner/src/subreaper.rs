//! Adopting orphaned descendants, so that processes that escape their group are still found
//! and reaped.

use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Makes this process the reaper of its orphaned descendants (Linux `PR_SET_CHILD_SUBREAPER`)
/// and, inside a tokio runtime, starts a task that reaps them when they end (on SIGCHLD, no
/// polling). Call once, early, from a process that spawns programs only through this crate:
/// the reaper reaps any ended child that this crate did not spawn.
///
/// # Errors
/// On systems without subreapers (everything but Linux) an `Unsupported` error; tend still works
/// there, finding escaped descendants by their run token instead.
pub fn enable_subreaper() -> std::io::Result<()> {
    crate::os::set_subreaper()?;
    ENABLED.store(true, Ordering::SeqCst);
    crate::os::reap_orphans_on_sigchld()?;
    Ok(())
}

pub(crate) fn is_enabled() -> bool {
    ENABLED.load(Ordering::SeqCst)
}
