//! systemd "linger": whether a user's services run without a login session.
//!
//! A systemd user manager normally starts at the user's first login and stops at the last
//! logout, taking every user unit with it. With linger on, it starts at boot and stays: only
//! then does a `WantedBy=default.target` user unit start at boot and survive logout. logind
//! records linger as the file `/var/lib/systemd/linger/<user>`.

use std::path::{Path, PathBuf};

use super::plan::{Cmd, Step};

/// The folder where logind keeps one file per lingering user.
pub const LINGER_DIR: &str = "/var/lib/systemd/linger";

/// The file that exists while `user` lingers.
pub fn marker(dir: &Path, user: &str) -> PathBuf {
    dir.join(user)
}

/// The command that turns linger on for `user`, never waiting for a password prompt.
pub fn enable_command(user: &str) -> Vec<String> {
    vec!["loginctl".into(), "enable-linger".into(), "--no-ask-password".into(), user.into()]
}

/// Why linger matters and the exact command to run, for when tend could not (or was told
/// not to) turn it on.
pub fn hint(user: &str) -> String {
    format!(
        "linger is off for user `{user}`: the service starts when you log in and stops when \
your last session ends, and it does not start at boot. To keep it running without a login, \
run:\n    sudo loginctl enable-linger {user}"
    )
}

/// The install step for linger: nothing when it is on; otherwise try to turn it on (explaining
/// what to run if that fails), or, when `try_enable` is off, only explain.
pub fn steps(user: &str, linger: Option<bool>, try_enable: bool) -> Vec<Step> {
    match linger {
        Some(false) if try_enable => {
            vec![Step::Run(Cmd::new(&enable_command(user)).warn(hint(user)))]
        }
        Some(false) => vec![Step::Note(hint(user))],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_state() {
        assert!(steps("al", Some(true), true).is_empty());
        assert!(steps("al", None, true).is_empty());
        let tried = steps("al", Some(false), true);
        assert_eq!(tried.len(), 1);
        assert_eq!(
            tried[0].to_string(),
            "loginctl enable-linger --no-ask-password al  [failure explained]"
        );
        let Step::Note(text) = &steps("al", Some(false), false)[0] else { panic!("a note") };
        assert!(text.contains("sudo loginctl enable-linger al"), "{text}");
        assert_eq!(marker(Path::new(LINGER_DIR), "al"), Path::new("/var/lib/systemd/linger/al"));
    }
}
