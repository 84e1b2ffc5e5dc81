//! Unix users.

/// The current user's login name and numeric id.
pub fn current_user() -> (String, u32) {
    let uid = nix::unistd::getuid();
    let name = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    (name, uid.as_raw())
}

/// Nothing to add to a command here (there is no console window to hide).
pub fn quiet(_cmd: &mut std::process::Command) {}
