//! An app's programs: the set of them as configured ([`ProgramSet`]: log file, output sink,
//! launcher and file watcher of each, applying an edited config), starting one program
//! ([`launch`]: its variables and the supervisor's adapter), the app's runner environments
//! ([`environments`]: one [`tend_runner::Environment`] per runner kind in use — per flake for
//! nix —, reaping and shutdown), `runner = "auto"` ([`choice`]), the Nix flakes' watch
//! ([`FlakeWatch`]: an edited flake applies at the next start), the layers of variables a program gets ([`env_layers`]), and applying an edited
//! `tend.toml` to the running set ([`ConfigWatch`], `tend up --watch-config`).

pub mod choice;
mod config_watch;
pub mod env_layers;
pub mod environments;
mod flake_watch;
pub mod launch;
mod set;

pub use config_watch::{CONFIG_DEBOUNCE, ConfigWatch, ConfigWatchError};
pub use flake_watch::FlakeWatch;
pub use set::{ProgramSet, policy_of, unavailable_runner};
