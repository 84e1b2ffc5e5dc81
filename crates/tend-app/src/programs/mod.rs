//! An app's programs: the set of them as configured ([`ProgramSet`]: log file, output sink,
//! launcher and file watcher of each, applying an edited config), starting one program
//! ([`launch`]: its variables and the supervisor's adapter), the app's runner environments
//! ([`environments`]: one [`tend_runner::Environment`] per runner kind in use, reaping and
//! shutdown), the layers of variables a program gets ([`env_layers`]), and applying an edited
//! `tend.toml` to the running set ([`ConfigWatch`], `tend up --watch-config`).

mod config_watch;
pub mod env_layers;
pub mod environments;
pub mod launch;
mod set;

pub use config_watch::{CONFIG_DEBOUNCE, ConfigWatch, ConfigWatchError};
pub use set::{ProgramSet, policy_of, unavailable_runner};
