//! The app configuration: `tend.toml`, parsed and validated.
//!
//! [`Config::load`] reads a file, [`Config::parse`] parses text, and [`Config::single`] builds
//! the one-program app of `tend run`. Every value comes out resolved: paths are absolute,
//! durations are [`std::time::Duration`]s, sizes are bytes, defaults are filled in.
//!
//! # File format
//!
//! ```toml
//! name = "demo"                       # default: the folder's name, sanitised
//!
//! [inflight]                          # work programs report with `tend inflight begin`
//! max_age = "1h"                      # older open items are not handed over after a crash
//!
//! [log]                               # defaults for every program's log
//! max_size = "10MiB"                  # integer bytes, or B, KB, MB, GB (×1000), KiB, MiB, GiB (×1024)
//! max_files = 5                       # files kept, counting the current one
//!
//! [programs.web]                      # NAME: [A-Za-z0-9][A-Za-z0-9._-]*; start order = file order
//! command = ["python3", "-m", "http.server", "8000"]   # or one string, split like a shell
//! dir = "web"                         # relative to tend.toml; default its folder
//! env = { PORT = "8000" }             # integers, floats and booleans are turned into strings
//! env_files = [".env"]                # relative to tend.toml
//! runner = "native"                   # native | docker | nix | auto
//! restart = "on-failure"              # always | on-failure | never
//! restart_exit_code = 42              # 1..=255, or false to turn the protocol off
//! backoff = { initial = "1s", max = "1m", factor = 2.0, reset_after = "30s" }
//! max_restarts = { count = 10, within = "1m" }
//! stop = { signal = "TERM", timeout = "10s" }    # TERM, SIGTERM, term or 15
//! watch = { paths = ["src"], ignore = ["**/__pycache__/**"], debounce = "200ms" }
//! log = { max_size = "1MiB" }         # overrides [log] key by key
//! ```
//!
//! `watch = true` watches the program's `dir` with the default debounce; `watch = false` is
//! the same as no `watch`. Without `paths`, a `watch` table watches the program's `dir`;
//! `paths` are relative to the program's `dir`, and `ignore` globs must be valid.
//! Durations use the `humantime` syntax (`500ms`, `1.5s`, `2m`, `1h 30m`) and may be at most
//! 365 days.
//!
//! Every mistake is a [`ConfigError`] that names the file, line, column and key, like
//! `tend.toml:9:21: programs.web.backoff.initial: invalid duration "1x"; expected a number
//! and a unit, like 500ms, 10s or 2m`.

mod error;
mod parse;
mod types;
mod values;

#[cfg(test)]
mod tests;

pub use error::{ConfigError, Diagnostic};
pub use types::{
    Backoff, Config, DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE, DEFAULT_RESTART_EXIT_CODE,
    InflightConfig, LogConfig, MaxRestarts, ProgramConfig, RestartPolicy, Runner, StopPolicy,
    Watch,
};
pub use values::{
    SIGNALS, is_valid_name, normalize_signal, run_name, sanitize_name, signal_number,
};
