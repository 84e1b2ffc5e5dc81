//! What can go wrong with Nix, told apart so that the message says what to do: [`NixError`],
//! and how nix's own stderr is read to tell the cases apart ([`classify`]).

use std::path::{Path, PathBuf};

/// The line that enables flakes, as nix.conf (or `NIX_CONFIG`) takes it.
pub const FLAKES_LINE: &str = "experimental-features = nix-command flakes";

/// How many of nix's last stderr lines an error quotes.
pub(crate) const STDERR_LINES: usize = 15;

/// An error of the Nix environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NixError {
    /// No `nix` binary on the PATH.
    #[error(
        "nix is not installed (no `{program}` on PATH={path}); install it (Debian/Ubuntu: `apt-get install nix-bin`; elsewhere: https://nixos.org/download) or use `runner = \"native\"`"
    )]
    NotInstalled {
        /// The binary looked for.
        program: String,
        /// The PATH searched.
        path: String,
    },
    /// The folder has no `flake.nix`.
    #[error(
        "no flake.nix in {}: the nix runner needs a flake with a dev shell (`devShells.<system>.default`); create one (`nix flake init`), point `[nix] flake` at the folder that has it, or use another runner",
        dir.display()
    )]
    NoFlake {
        /// The folder.
        dir: PathBuf,
    },
    /// nix refuses flakes or the `nix` command: they are experimental features not enabled.
    #[error(
        "nix has flakes disabled ({feature} is an experimental feature); add the line `{FLAKES_LINE}` to /etc/nix/nix.conf or ~/.config/nix/nix.conf (or to NIX_CONFIG)"
    )]
    FlakesDisabled {
        /// The feature nix named (`nix-command` or `flakes`).
        feature: String,
    },
    /// The flake is inside a git repository, and git does not track its files: nix only sees
    /// tracked files.
    #[error(
        "the flake in {} is inside the git repository {} but git does not track it, and nix only sees files git tracks; run `git add flake.nix` (and flake.lock, and the files it imports) there. nix said: {said}",
        dir.display(),
        repo.display()
    )]
    NotGitAdded {
        /// The flake's folder.
        dir: PathBuf,
        /// The repository's top folder.
        repo: PathBuf,
        /// nix's error line.
        said: String,
    },
    /// Evaluating or building the dev shell failed.
    #[error(
        "evaluating the dev shell of {} failed (`{command}` exited with {status}); fix the flake (try `nix develop {}` yourself). nix's last lines:\n{stderr}",
        dir.display(),
        dir.display()
    )]
    EvalFailed {
        /// The flake's folder.
        dir: PathBuf,
        /// The command that failed.
        command: String,
        /// Its exit status.
        status: String,
        /// The last lines of its stderr.
        stderr: String,
    },
    /// Another tend held the evaluation lock of this flake for too long.
    #[error(
        "another tend has been evaluating the dev shell of {} for over {}s (lock {}); wait for it, or stop it",
        dir.display(),
        waited.as_secs(),
        lock.display()
    )]
    LockTimeout {
        /// The flake's folder.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// How long this tend waited.
        waited: std::time::Duration,
    },
    /// A file or folder of the cache, or the flake, could not be read or written.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl NixError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        NixError::Io { action, path: path.to_path_buf(), source }
    }
}

/// What a failed nix command's stderr says, for the errors that are not the flake's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Diagnosis {
    /// An experimental feature (`nix-command` or `flakes`) is disabled.
    FlakesDisabled(String),
    /// A file of the flake is missing from the store copy of its git repository: the line.
    NotGitAdded(String),
    /// Something else.
    Other,
}

/// Reads a failed nix command's stderr. Pure.
///
/// - `experimental Nix feature 'flakes' is disabled` → [`Diagnosis::FlakesDisabled`];
/// - `getting status of '/nix/store/…-source/flake.nix': No such file or directory` (Nix 2.8)
///   or `… does not exist` (later Nix): a file of the flake is not in the copy nix made of a
///   git repository, i.e. git does not track it → [`Diagnosis::NotGitAdded`]. The caller
///   checks that the flake is inside a git repository.
pub(crate) fn classify(stderr: &str) -> Diagnosis {
    for line in stderr.lines() {
        if let Some(rest) = line.split("experimental Nix feature '").nth(1)
            && line.contains("is disabled")
        {
            let feature = rest.split('\'').next().unwrap_or("flakes");
            return Diagnosis::FlakesDisabled(feature.to_string());
        }
    }
    for line in stderr.lines() {
        let missing = line.contains("No such file or directory") || line.contains("does not exist");
        if missing && line.contains("/nix/store/") && line.contains("-source") {
            return Diagnosis::NotGitAdded(line.trim().to_string());
        }
    }
    Diagnosis::Other
}

/// The last `n` non-empty lines of `text`, without the progress lines nix prints.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with("building '"))
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The top folder of the git repository `dir` is in, if any (a `.git` folder or file in it or
/// one of its parents).
pub(crate) fn git_repo_of(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join(".git").exists()).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_features_are_named() {
        let nix = "error: experimental Nix feature 'nix-command' is disabled; use '--extra-experimental-features nix-command' to override";
        assert_eq!(classify(nix), Diagnosis::FlakesDisabled("nix-command".into()));
        let flakes = "warning: x\nerror: experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override";
        assert_eq!(classify(flakes), Diagnosis::FlakesDisabled("flakes".into()));
    }

    #[test]
    fn untracked_files_are_recognised() {
        let old = "warning: Git tree '/r' is dirty\nerror: getting status of '/nix/store/97caqzr6hihg9nzl98xagx7zg2pm0157-source/sub/flake.nix': No such file or directory";
        assert!(matches!(classify(old), Diagnosis::NotGitAdded(l) if l.contains("sub/flake.nix")));
        let new = "error: path '/nix/store/abc-source/flake.nix' does not exist";
        assert!(matches!(classify(new), Diagnosis::NotGitAdded(_)));
        assert_eq!(classify("error: attribute 'x' missing"), Diagnosis::Other);
        assert_eq!(classify("error: file '/home/me/x.nix' does not exist"), Diagnosis::Other);
    }

    #[test]
    fn tail_keeps_the_last_meaningful_lines() {
        let text = "building '/nix/store/x.drv'...\na\n\nb\nc\n";
        assert_eq!(tail(text, 2), "b\nc");
        assert_eq!(tail(text, 10), "a\nb\nc");
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = NixError::FlakesDisabled { feature: "flakes".into() };
        assert!(e.to_string().contains("`experimental-features = nix-command flakes`"));
        let e = NixError::NotInstalled { program: "nix".into(), path: "/bin".into() };
        assert!(e.to_string().contains("apt-get install nix-bin"), "{e}");
    }
}
