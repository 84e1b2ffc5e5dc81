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
//!
//! [docker]                            # the app's container, for runner = "docker" programs
//! image = "debian:bookworm-slim"      # an image as it is; or, not both:
//! # build = { base = "debian:bookworm-slim", extras = ["python", "ocr"], steps = ["RUN useradd bot"] }
//! mounts = ["/srv/models", { source = "/var/cache/bot", target = "/cache", ro = true }]
//! network = "host"                    # the default: programs bind to 127.0.0.1 as natively
//! init = true                         # the default: an init as PID 1
//! user = "host"                       # the default: host uid:gid on Linux; "image", or "name", "uid", "uid:gid"
//! env = { LANG = "C.UTF-8" }          # every docker program's; a program's env wins
//! fallback = "none"                   # none | native: run natively when Docker cannot
//!
//! [docker.extras.ocr]                 # an extra of the app's own, for build.extras
//! apt = ["tesseract-ocr"]
//! pip = ["torch", "pytesseract"]
//! pip_index = "https://download.pytorch.org/whl/cpu"   # installed before default-index packages
//! needs = ["python"]                  # extras installed first; a cycle is an error
//!
//! [nix]                               # the dev shell of runner = "nix" programs
//! flake = "."                         # the folder holding flake.nix, relative to tend.toml;
//!                                     # default: the program's dir if it has a flake.nix, else this folder
//! ```
//!
//! In every container the app's folder is mounted at `/app` and its state folder
//! (`$TEND_HOME/apps/<app>`) at `/tend/state` ([`crate::docker::APP_TARGET`],
//! [`crate::docker::STATE_TARGET`]), read-write. A `mounts` entry is an absolute host path
//! (mounted at `/mnt/<its base name>`, read-write) or a table with `source`, optional `target`
//! and `ro`; a relative source is an error (what is under the app's folder is under `/app`
//! already), so is one that does not exist ([`Config::load`]), and so are two mounts with one
//! target or one at `/app` or `/tend/state`. The built-in extras are `build-tools`, `ffmpeg`,
//! `git`, `node`, `python`, `pytorch-cpu` and `tesseract` ([`crate::docker::extras`]); an
//! app's extra of the same name replaces the built-in one. A `runner = "docker"` program needs
//! a `[docker]` table: [`Config::docker_for`] says so, naming the program.
//!
//! A `runner = "nix"` program runs in the dev shell of [`Config::flake_dir`]'s flake
//! (`devShells.<system>.default`), evaluated once and cached under `$TEND_HOME/cache/nix/`;
//! [`Config::load`] checks that `[nix] flake` names a folder holding `flake.nix`.
//! `runner = "auto"` picks nix, docker or native when the app starts
//! ([`crate::programs::choice`]).
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

mod docker;
mod error;
mod parse;
mod types;
mod values;

#[cfg(test)]
mod docker_tests;
#[cfg(test)]
mod tests;

pub use crate::docker::{DockerBuild, Extra, Registry};
pub use docker::{DockerConfig, DockerImage, DockerUser, Fallback, Mount};
pub use error::{ConfigError, Diagnostic};
pub use types::{
    Backoff, Config, DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE, DEFAULT_RESTART_EXIT_CODE,
    InflightConfig, LogConfig, MaxRestarts, NixConfig, ProgramConfig, RestartPolicy, Runner,
    StopPolicy, UpdateConfig, Watch,
};
pub use values::{
    SIGNALS, is_valid_name, normalize_signal, run_name, sanitize_name, signal_number,
};
