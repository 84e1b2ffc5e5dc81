//! `runner = "auto"`: what the app looks at once per start ([`Probe`]: is nix installed, does
//! the Docker daemon answer) and the runner each `auto` program is given ([`resolve`], through
//! the runner's pure [`tend_runner::choose_runner`]). Once chosen, a program is a program of
//! that runner: its [`ProgramConfig::runner`] says so, and [`ProgramConfig::auto`] says why.

use std::time::Duration;

use tend_runner::{RunnerChoice, RunnerInputs, RunnerKind, choose_runner, has_flake};

use crate::config::{Config, ProgramConfig, Runner};

/// The longest the Docker daemon is given to answer the probe.
pub const DOCKER_PROBE_LIMIT: Duration = Duration::from_secs(3);

/// What `runner = "auto"` looks at besides the files: taken once per start of the app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Probe {
    /// A `nix` binary is on tend's PATH.
    pub nix_installed: bool,
    /// The Docker daemon answered within [`DOCKER_PROBE_LIMIT`].
    pub docker_answers: bool,
}

impl Probe {
    /// Looks, for `config`: nothing when no program is `auto`; the daemon only when the config
    /// has a `[docker]` table (one bounded request).
    pub async fn take(config: &Config) -> Probe {
        if !config.programs.iter().any(|p| p.runner == Runner::Auto) {
            return Probe::default();
        }
        let nix_installed = tend_runner::nix_installed();
        let docker_answers = config.docker.is_some() && docker_answers().await;
        Probe { nix_installed, docker_answers }
    }
}

/// Whether the daemon answers: any answer about an image (present or not) is one.
async fn docker_answers() -> bool {
    let asked = tend_runner::docker_image_present("tend-probe.invalid/none:0");
    match tokio::time::timeout(DOCKER_PROBE_LIMIT, asked).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::debug!("runner = \"auto\": the Docker daemon does not answer: {e}");
            false
        }
        Err(_) => {
            tracing::debug!(
                "runner = \"auto\": the Docker daemon did not answer within {}",
                tend_api::human(DOCKER_PROBE_LIMIT)
            );
            false
        }
    }
}

/// What `runner = "auto"` sees for `program` of `config`.
pub fn inputs(config: &Config, program: &ProgramConfig, probe: &Probe) -> RunnerInputs {
    let program_flake =
        (config.nix.flake.is_none() && has_flake(&program.dir)).then(|| program.dir.clone());
    let app_dir = config.nix.flake.clone().unwrap_or_else(|| config.folder.clone());
    RunnerInputs {
        program_flake,
        app_flake: has_flake(&app_dir).then_some(app_dir),
        nix_installed: probe.nix_installed,
        docker_configured: config.docker.is_some(),
        docker_answers: probe.docker_answers,
    }
}

/// Gives every `runner = "auto"` program of `config` the runner chosen for it, with the
/// reason in [`ProgramConfig::auto`]; returns the choices made (program, choice), for the log.
/// Pure but for [`has_flake`].
pub fn resolve(config: &mut Config, probe: &Probe) -> Vec<(String, RunnerChoice)> {
    let mut made = Vec::new();
    for i in 0..config.programs.len() {
        if config.programs[i].runner != Runner::Auto {
            continue;
        }
        let choice = choose_runner(&inputs(config, &config.programs[i], probe));
        let program = &mut config.programs[i];
        program.runner = match choice.kind {
            RunnerKind::Native => Runner::Native,
            RunnerKind::Docker => Runner::Docker,
            RunnerKind::Nix => Runner::Nix,
        };
        program.auto = Some(choice.reason.clone());
        made.push((program.name.clone(), choice));
    }
    made
}

/// Logs `choices` (of [`resolve`]), one line each.
pub fn log_choices(choices: &[(String, RunnerChoice)]) {
    for (name, choice) in choices {
        tracing::info!("{name}: runner = \"auto\" chose {}", choice.reason);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(folder: &std::path::Path, extra: &str) -> Config {
        let text = format!(
            "{extra}\n[programs.api]\ncommand = \"x\"\ndir = \"api\"\nrunner = \"auto\"\n\
             [programs.web]\ncommand = \"x\"\nrunner = \"auto\"\n\
             [programs.fixed]\ncommand = \"x\"\n"
        );
        Config::parse(&text, &folder.join("tend.toml")).unwrap()
    }

    #[test]
    fn auto_programs_get_a_runner_and_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("api")).unwrap();
        std::fs::write(dir.path().join("api/flake.nix"), "{ }").unwrap();
        let nix = Probe { nix_installed: true, docker_answers: false };

        let mut plain = config(dir.path(), "");
        let made = resolve(&mut plain, &nix);
        assert_eq!(made.len(), 2);
        let [api, web, fixed] = &plain.programs[..] else { panic!() };
        assert_eq!(
            (api.runner, web.runner, fixed.runner),
            (Runner::Nix, Runner::Native, Runner::Native)
        );
        assert!(api.auto.as_deref().unwrap().contains("the program's folder"), "{:?}", api.auto);
        assert!(web.auto.as_deref().unwrap().starts_with("native: "), "{:?}", web.auto);
        assert_eq!(fixed.auto, None);
        assert_eq!(plain.flake_dir(api), dir.path().join("api"));

        let mut docker = config(dir.path(), "[docker]\nimage = \"img:1\"\n");
        let answers = Probe { nix_installed: false, docker_answers: true };
        resolve(&mut docker, &answers);
        assert_eq!(docker.programs[0].runner, Runner::Docker);
        assert!(docker.programs[0].auto.as_deref().unwrap().contains("nix is not installed"));
        assert_eq!(docker.programs[1].runner, Runner::Docker);

        // An app flake, named by [nix], is every program's.
        std::fs::write(dir.path().join("flake.nix"), "{ }").unwrap();
        let mut app = config(dir.path(), "[nix]\nflake = \".\"\n");
        resolve(&mut app, &nix);
        assert!(app.programs[..2].iter().all(|p| p.runner == Runner::Nix));
        assert!(app.programs[0].auto.as_deref().unwrap().contains("the app's folder"));
        assert_eq!(app.flake_dir(&app.programs[0]), dir.path());
    }
}
