//! The `tend` command: its arguments ([`cli`]), one file per command ([`commands`]), what they
//! print ([`output`]) and the exit codes ([`exit`], the one place where errors become codes).
//! The runtime it drives is the `tend-app` crate ([`tend_app`]).
//!
//! The binary (`main.rs`) only parses arguments, builds the async runtime and calls
//! [`commands::dispatch`].

pub mod cli;
pub mod commands;
pub mod exit;
pub mod global;
pub mod output;
