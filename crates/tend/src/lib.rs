//! tend
pub mod config;
pub mod logfile;
