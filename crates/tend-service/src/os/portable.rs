//! Systems that are neither Unix nor Windows.

/// The current user's name, from `USER`.
pub fn current_user() -> (String, u32) {
    (std::env::var("USER").unwrap_or_default(), 0)
}

/// Nothing to add to a command here (there is no console window to hide).
pub fn quiet(_cmd: &mut std::process::Command) {}
