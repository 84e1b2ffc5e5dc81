//! Every difference between operating systems in this crate, behind one interface: the
//! background tend's readiness pipe (`tend up -d`), the signals that stop the app, signalling a
//! pid, private files, who holds the app's lock, and the user docker programs run as. Outside
//! this module, `cfg` appears only on `mod` lines and in tests.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(target_os = "linux"))]
pub use other::*;

/// What waiting for a background tend's first word gave.
#[derive(Debug)]
pub enum Heard {
    /// Its one line (the handshake, as JSON).
    Line(Vec<u8>),
    /// Its control API answers (where no line can be handed over: Windows).
    Answered,
    /// It exited first, with this code (`None`: killed).
    Exited(Option<i32>),
    /// It said nothing within the time.
    TimedOut,
}
