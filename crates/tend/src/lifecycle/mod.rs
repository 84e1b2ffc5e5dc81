//! The app's lifecycle across runs: the single-instance lock (`tend.pid`), the startup state
//! (`state.json`) and how each start is classified (`TEND_STARTUP_KIND`).

pub mod lock;
pub mod startup;
pub mod state;
