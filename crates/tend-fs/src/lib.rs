//! Durable files for tend: atomic writes, JSON state files that survive crashes, and secrets
//! from dotenv files.
//!
//! Every state file tend keeps (run records, `state.json`, sentinels) goes through this crate so
//! that a crash at any instant leaves either the old or the new content, never a torn file, and a
//! damaged file is set aside instead of crashing the program or being silently dropped.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), tend_fs::FsError> {
//! let dir = std::env::temp_dir().join(format!("tend-fs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).map_err(|e| tend_fs::FsError::io("creating", &dir, e))?;
//! let path = dir.join("state.json");
//! tend_fs::write_json(&path, &vec![1, 2, 3])?;
//! let loaded: Vec<u32> = tend_fs::load_json_or_default(&path)?.value;
//! assert_eq!(loaded, vec![1, 2, 3]);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```
//!
//! # Theory of operation
//!
//! A write creates `.<name>.XXXXXX` beside the target, writes, fsyncs it, renames it over the
//! target and fsyncs the directory (the `atomic-write-file` crate does those steps). Temp files
//! left behind by a crashed writer are removed at the next write of the same file. Files are
//! created with mode 0600 on Unix: they may hold secrets.
//!
//! Dotenv files are parsed by the hermetic parser in [`dotenv`]; [`dotenv::DotenvCache`] keeps
//! them parsed and notices edits.

pub mod dotenv;

mod append;
mod atomic;
mod dir;
mod error;
mod os;
mod private;
mod read;
mod state;

pub use append::open_private_append;
pub use atomic::{rename_into_place, write_bytes, write_json, write_text};
pub use dir::create_private_dir;
pub use error::{FsError, chain};
pub use private::{Exposure, Kind, check_private, judge};
pub use read::{MAX_STATE_FILE, read_state_file};
pub use state::{Loaded, load_json_or_default, quarantine};
