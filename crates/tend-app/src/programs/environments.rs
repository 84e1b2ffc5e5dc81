//! The environments an app's programs run in ([`Environments`]): one per runner kind in use,
//! through which a program is spawned, what a tend that is gone left is reaped at start, and
//! what is left at the end is ended.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{Environment, NativeEnvironment, RunRegistry, RunnerKind};

use crate::config::{Config, ProgramConfig, Runner};

/// The environments an app's programs run in: one per runner kind in use, made when the first
/// program of that kind is set up and prepared once, before its first spawn.
#[derive(Debug, Default)]
pub struct Environments {
    made: Mutex<Vec<Arc<AppEnvironment>>>,
}

/// One environment of an app.
#[derive(Debug)]
pub struct AppEnvironment {
    env: Box<dyn Environment>,
    prepared: tokio::sync::OnceCell<()>,
}

impl AppEnvironment {
    /// The environment, prepared (once; a failed preparation is tried again next time).
    pub(crate) async fn prepared(&self) -> Result<&dyn Environment, tend_runner::RunnerError> {
        self.prepared.get_or_try_init(|| self.env.prepare()).await?;
        Ok(self.env.as_ref())
    }
}

impl Environments {
    /// The app's environment for `program`'s runner, made on first use.
    ///
    /// # Errors
    /// The runner is not available yet (the message `tend up` gives).
    pub fn for_program(&self, program: &ProgramConfig) -> Result<Arc<AppEnvironment>, String> {
        let kind = environment_kind(program)?;
        let mut made = self.made.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(env) = made.iter().find(|env| env.env.kind() == kind) {
            return Ok(Arc::clone(env));
        }
        let env = new_environment(kind).ok_or_else(|| unavailable(program))?;
        Ok(Self::add(&mut made, env))
    }

    /// The environments of `config`: the native one always (what an earlier run left natively
    /// is reaped even when no program is native any more), and one per runner kind its
    /// programs use. None is prepared yet.
    pub fn for_config(config: &Config) -> Environments {
        let envs = Environments::default();
        {
            let mut made = envs.lock();
            Self::add(&mut made, Box::new(NativeEnvironment::new()));
        }
        for program in &config.programs {
            // A kind that does not exist yet is refused before this (`unavailable_runner`),
            // and its programs say so when they start.
            let _ = envs.for_program(program);
        }
        envs
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<AppEnvironment>>> {
        self.made.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(made: &mut Vec<Arc<AppEnvironment>>, env: Box<dyn Environment>) -> Arc<AppEnvironment> {
        let env = Arc::new(AppEnvironment { env, prepared: tokio::sync::OnceCell::new() });
        made.push(Arc::clone(&env));
        env
    }

    /// Ends what a tend of `home`'s app that is gone left running, in every environment, and
    /// logs what was done (see [`crate::reap::log_report`]).
    pub async fn reap_leftovers(&self, home: &AppHome) {
        let made = self.lock().clone();
        let registry = RunRegistry::new(home.runs());
        for env in made {
            let report = env.env.reap_leftovers(&registry, crate::reap::REAP_GRACE).await;
            crate::reap::log_report(home, &report);
        }
    }

    /// Ends what is left once every program of `app` has stopped (as politely as `grace`
    /// allows: the most patient program's stop timeout), and frees what every environment
    /// holds, logging what was done.
    pub async fn shutdown(&self, app: &str, grace: Duration) {
        let made = self.lock().clone();
        for env in made {
            let report = match env.env.shutdown(grace).await {
                Ok(report) => report,
                Err(e) => {
                    tracing::warn!(
                        "{app}: {:?} environment: {}",
                        env.env.kind(),
                        crate::error::chain(&e)
                    );
                    continue;
                }
            };
            if report.ended > 0 {
                tracing::info!(
                    "{app}: ended {} orphaned process(es) whose program could not be told ({} after SIGKILL)",
                    report.ended,
                    report.killed
                );
            }
            if !report.survivors.is_empty() {
                tracing::error!("{app}: processes {:?} survived SIGKILL", report.survivors);
            }
        }
    }
}

/// The kind of environment `program`'s runner key selects.
///
/// # Errors
/// The runner is not available yet (the message `tend up` gives): Docker and Nix are not
/// there yet, and `auto` picks between them.
pub fn environment_kind(program: &ProgramConfig) -> Result<RunnerKind, String> {
    let kind = match program.runner {
        Runner::Native => Some(RunnerKind::Native),
        Runner::Docker => Some(RunnerKind::Docker),
        Runner::Nix => Some(RunnerKind::Nix),
        Runner::Auto => None,
    };
    match kind {
        Some(kind) if new_environment(kind).is_some() => Ok(kind),
        _ => Err(unavailable(program)),
    }
}

/// A new environment of `kind`, if that kind exists yet (making one does no work: that is
/// [`Environment::prepare`]).
fn new_environment(kind: RunnerKind) -> Option<Box<dyn Environment>> {
    match kind {
        RunnerKind::Native => Some(Box::new(NativeEnvironment::new())),
        RunnerKind::Docker | RunnerKind::Nix => None,
    }
}

fn unavailable(program: &ProgramConfig) -> String {
    format!(
        "program `{}`: runner `{}` is not available yet; use runner = \"native\"",
        program.name, program.runner
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(runners: &[&str]) -> crate::config::Config {
        let mut text = String::from("name = \"demo\"\n");
        for (i, runner) in runners.iter().enumerate() {
            text.push_str(&format!("[programs.p{i}]\ncommand = \"x\"\nrunner = \"{runner}\"\n"));
        }
        crate::config::Config::parse(&text, std::path::Path::new("tend.toml")).unwrap()
    }

    #[test]
    fn programs_of_one_runner_share_one_environment() {
        let config = config(&["native", "native"]);
        let envs = Environments::default();
        let a = envs.for_program(&config.programs[0]).unwrap();
        let b = envs.for_program(&config.programs[1]).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.env.kind(), RunnerKind::Native);
    }

    #[test]
    fn an_app_always_has_the_native_environment() {
        let envs = Environments::for_config(&config(&["docker"]));
        let kinds: Vec<_> = envs.lock().iter().map(|env| env.env.kind()).collect();
        assert_eq!(kinds, [RunnerKind::Native]);
        let envs = Environments::for_config(&config(&["native", "native"]));
        assert_eq!(envs.lock().len(), 1);
    }

    #[test]
    fn runners_not_there_yet_get_no_environment() {
        let config = config(&["docker", "nix", "auto"]);
        let envs = Environments::default();
        for (program, name) in config.programs.iter().zip(["docker", "nix", "auto"]) {
            let wanted = format!(
                "program `{}`: runner `{name}` is not available yet; use runner = \"native\"",
                program.name
            );
            assert_eq!(envs.for_program(program).unwrap_err(), wanted);
            assert_eq!(environment_kind(program).unwrap_err(), wanted);
        }
        assert!(envs.made.lock().unwrap().is_empty());
    }
}
