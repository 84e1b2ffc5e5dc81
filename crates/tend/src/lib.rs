//! The `tend` command as a library: configuration, app lifecycle and command dispatch.
//!
//! The binary (`main.rs`) only parses arguments, builds the runtime and calls
//! [`cli::dispatch`]; everything else lives here, so it can be tested and embedded.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod control;
pub mod descriptors;
pub mod detach;
pub mod exit;
pub mod global;
pub mod home;
pub mod inflight;
pub mod lifecycle;
pub mod logfile;
pub mod logging;
pub mod os;
pub mod output;
pub mod program_log;
pub mod programs;
pub mod reap;
pub mod reload;
pub mod stall_queue;
pub mod tail;
pub mod terminal;
