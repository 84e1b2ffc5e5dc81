//! Every difference between operating systems in this crate: which service manager is the
//! platform's, who the current user is, and how a command is started without a console window.
//! Outside this module, `cfg` appears only on `mod` lines and in tests.

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(not(any(target_os = "macos", windows)))]
mod other;
#[cfg(not(any(target_os = "macos", windows)))]
pub use other::*;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(not(any(unix, windows)))]
mod portable;
#[cfg(not(any(unix, windows)))]
pub use portable::*;
