//! The options every command shares (`--home`, colour, `-v`, `-q`).

use std::path::PathBuf;

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Global {
    /// The tend home.
    pub home: PathBuf,
    /// Whether to colour output.
    pub color: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `-q`.
    pub quiet: bool,
}

impl Global {
    /// The log level for tend's own events.
    pub fn level(&self) -> String {
        tend_app::logging::level(self.verbose, self.quiet).to_string()
    }
}
