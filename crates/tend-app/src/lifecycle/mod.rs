//! The app's lifecycle across runs: the single-instance lock (`tend.pid`), the startup state
//! (`state.json`), how each start is classified (`TEND_STARTUP_KIND`), and restarts of the whole
//! app (`restart-requested`, `restart-sentinel.json`), and why the last start failed
//! (`last-failure.json`).

pub mod failure;
pub mod lock;
pub mod restart;
pub mod startup;
pub mod state;
