//! `runner = "auto"`: which environment a program gets, as a pure function of what the app
//! sees ([`choose_runner`]), and the two look-ups that feed it ([`has_flake`],
//! [`nix_installed`]).

use std::path::{Path, PathBuf};

use crate::RunnerKind;

/// What `runner = "auto"` decides from, as the app sees it. Plain data: the app fills it
/// ([`has_flake`] for the folders, [`nix_installed`], whether its config has a `[docker]`
/// table and whether the daemon answered a ping).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunnerInputs {
    /// The program's folder, when it has a `flake.nix`.
    pub program_flake: Option<PathBuf>,
    /// The app's folder, when it has a `flake.nix`.
    pub app_flake: Option<PathBuf>,
    /// Whether nix is installed.
    pub nix_installed: bool,
    /// Whether the app's config has a `[docker]` table.
    pub docker_configured: bool,
    /// Whether the Docker daemon answers.
    pub docker_answers: bool,
}

/// What `runner = "auto"` chose, and why (logged once, shown by `status` and `tend env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerChoice {
    /// The environment.
    pub kind: RunnerKind,
    /// The flake whose dev shell is used, for [`RunnerKind::Nix`].
    pub flake_dir: Option<PathBuf>,
    /// Why, in a sentence.
    pub reason: String,
}

/// Chooses a program's runner for `runner = "auto"`. Pure.
///
/// 1. **nix**, when the program's folder (first) or the app's has `flake.nix` and nix is
///    installed: a flake says how the program's tools are made;
/// 2. else **docker**, when the config has a `[docker]` table and the daemon answers;
/// 3. else **native**. The reason then says what was missing for the others, when something
///    hinted at them (a flake without nix, a `[docker]` table without a daemon).
///
/// ```
/// use tend_runner::{RunnerInputs, RunnerKind, choose_runner};
/// let inputs = RunnerInputs { app_flake: Some("/src/app".into()), nix_installed: true, ..Default::default() };
/// let choice = choose_runner(&inputs);
/// assert_eq!(choice.kind, RunnerKind::Nix);
/// assert!(choice.reason.contains("/src/app/flake.nix"));
/// ```
pub fn choose_runner(inputs: &RunnerInputs) -> RunnerChoice {
    let flake = inputs.program_flake.as_ref().or(inputs.app_flake.as_ref());
    if let Some(dir) = flake.filter(|_| inputs.nix_installed) {
        let whose = if inputs.program_flake.is_some() { "the program's" } else { "the app's" };
        return RunnerChoice {
            kind: RunnerKind::Nix,
            flake_dir: Some(dir.clone()),
            reason: format!(
                "nix: {whose} folder has {} and nix is installed",
                dir.join("flake.nix").display()
            ),
        };
    }
    let mut missed = Vec::new();
    if let Some(dir) = flake {
        missed
            .push(format!("{} is there but nix is not installed", dir.join("flake.nix").display()));
    }
    if inputs.docker_configured {
        if inputs.docker_answers {
            let mut reason =
                "docker: the config has a [docker] table and the daemon answers".to_string();
            if !missed.is_empty() {
                reason.push_str(&format!(" ({})", missed.join("; ")));
            }
            return RunnerChoice { kind: RunnerKind::Docker, flake_dir: None, reason };
        }
        missed.push("the config has a [docker] table but no Docker daemon answers".to_string());
    }
    let reason = if missed.is_empty() {
        "native: no flake.nix in the program's or the app's folder, and no [docker] table"
            .to_string()
    } else {
        format!("native: {}", missed.join("; "))
    };
    RunnerChoice { kind: RunnerKind::Native, flake_dir: None, reason }
}

/// Whether `dir` has a `flake.nix` (a file, or a link to one).
pub fn has_flake(dir: &Path) -> bool {
    dir.join("flake.nix").is_file()
}

/// Whether a `nix` binary is on tend's PATH.
pub fn nix_installed() -> bool {
    let path = std::env::var_os("PATH");
    crate::envvars::find_binary("nix", path.as_ref()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunnerKind::{Docker, Native, Nix};

    fn inputs(
        program: bool,
        app: bool,
        nix: bool,
        configured: bool,
        answers: bool,
    ) -> RunnerInputs {
        RunnerInputs {
            program_flake: program.then(|| PathBuf::from("/app/api")),
            app_flake: app.then(|| PathBuf::from("/app")),
            nix_installed: nix,
            docker_configured: configured,
            docker_answers: answers,
        }
    }

    /// (program flake, app flake, nix, `[docker]`, daemon) → kind, flake, words in the reason.
    type Row = (bool, bool, bool, bool, bool, RunnerKind, Option<&'static str>, &'static str);

    #[test]
    fn the_table() {
        let table: &[Row] = &[
            (true, false, true, false, false, Nix, Some("/app/api"), "the program's folder"),
            (false, true, true, false, false, Nix, Some("/app"), "the app's folder"),
            (true, true, true, true, true, Nix, Some("/app/api"), "/app/api/flake.nix"),
            (false, true, true, true, true, Nix, Some("/app"), "nix is installed"),
            (true, false, false, true, true, Docker, None, "but nix is not installed"),
            (false, false, false, true, true, Docker, None, "daemon answers"),
            (false, false, true, true, true, Docker, None, "[docker] table"),
            (false, false, true, true, false, Native, None, "no Docker daemon answers"),
            (true, false, false, true, false, Native, None, "nix is not installed; the config"),
            (false, true, false, false, false, Native, None, "/app/flake.nix is there"),
            (false, false, true, false, false, Native, None, "no flake.nix"),
            (false, false, false, false, true, Native, None, "no [docker] table"),
        ];
        for &(program, app, nix, configured, answers, kind, flake, words) in table {
            let input = inputs(program, app, nix, configured, answers);
            let choice = choose_runner(&input);
            assert_eq!(choice.kind, kind, "{input:?}: {}", choice.reason);
            assert_eq!(choice.flake_dir.as_deref(), flake.map(Path::new), "{input:?}");
            assert!(choice.reason.contains(words), "{input:?}: {}", choice.reason);
        }
    }

    #[test]
    fn has_flake_wants_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_flake(dir.path()));
        std::fs::create_dir(dir.path().join("flake.nix")).unwrap();
        assert!(!has_flake(dir.path()), "a folder named flake.nix is no flake");
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("flake.nix"), "{ }").unwrap();
        assert!(has_flake(other.path()));
    }
}
