//! Every difference between operating systems in this crate: file modes and owners (Unix has
//! them, Windows keeps files private by their folder's ACL), opening without blocking, and what
//! identifies a version of a file. Outside this module, `cfg` appears only on `mod` lines and in
//! tests.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
mod portable;
#[cfg(not(unix))]
pub(crate) use portable::*;
