//! The environments an app's programs run in ([`Environments`]): one per runner kind in use,
//! through which a program is spawned, what a tend that is gone left is reaped at start, and
//! what is left at the end is ended.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{
    DockerBuildProgress, DockerImageBuild, Environment, NativeEnvironment, RunRegistry, RunnerKind,
};

use crate::config::{Config, ConfigError, Fallback, ProgramConfig, Runner};

/// The environments an app's programs run in: one per runner kind in use, made when the first
/// program of that kind is set up and prepared once, before its first spawn.
#[derive(Debug, Default)]
pub struct Environments {
    made: Mutex<Vec<Arc<AppEnvironment>>>,
    /// How the Docker environment is made, when the app has a `[docker]` table.
    docker: Option<DockerSetup>,
}

/// The app's container and, when tend builds its image, the build.
#[derive(Debug, Clone)]
struct DockerSetup {
    spec: tend_runner::DockerSpec,
    build: Option<DockerImageBuild>,
    fallback: Fallback,
}

/// One environment of an app.
#[derive(Debug)]
pub struct AppEnvironment {
    env: Box<dyn Environment>,
    /// The image to build before the first spawn, if it is missing.
    build: Option<DockerImageBuild>,
    prepared: tokio::sync::OnceCell<()>,
}

impl AppEnvironment {
    /// The environment, prepared (once; a failed preparation is tried again next time): its
    /// image built if tend builds it and it is missing, then [`Environment::prepare`].
    pub(crate) async fn prepared(&self) -> Result<&dyn Environment, tend_runner::RunnerError> {
        self.prepared
            .get_or_try_init(|| async {
                if let Some(build) = &self.build {
                    ensure_image(build).await?;
                }
                self.env.prepare().await
            })
            .await?;
        Ok(self.env.as_ref())
    }

    /// Which kind it is.
    pub fn kind(&self) -> RunnerKind {
        self.env.kind()
    }
}

/// Builds `build`'s image unless it is there, its steps and output in tend's log as they come.
async fn ensure_image(build: &DockerImageBuild) -> Result<(), tend_runner::RunnerError> {
    if tend_runner::docker_image_present(&build.tag).await? {
        return Ok(());
    }
    let tag = &build.tag;
    tracing::info!("image {tag}: building (at most {})", tend_api::human(build.timeout));
    tend_runner::docker_build_image(build, &mut |progress| match progress {
        DockerBuildProgress::Step { number, total, instruction } => {
            tracing::info!("image {tag}: step {number}/{total}: {instruction}");
        }
        DockerBuildProgress::Line(line) => tracing::info!("image {tag}: {line}"),
    })
    .await?;
    tracing::info!("image {tag}: built");
    Ok(())
}

impl Environments {
    /// The app's environment for `program`'s runner, made on first use.
    ///
    /// # Errors
    /// The runner is not available (the message `tend up` gives).
    pub fn for_program(&self, program: &ProgramConfig) -> Result<Arc<AppEnvironment>, String> {
        let kind = environment_kind(program, self.docker.is_some())?;
        let mut made = self.lock();
        if let Some(env) = made.iter().find(|env| env.env.kind() == kind) {
            return Ok(Arc::clone(env));
        }
        let (env, build) =
            new_environment(kind, self.docker.as_ref()).ok_or_else(|| unavailable(program))?;
        Ok(Self::add(&mut made, env, build))
    }

    /// Where `program` runs when its own environment cannot be prepared: natively, for a
    /// docker program of an app whose `[docker]` says `fallback = "native"`; else nowhere.
    pub fn fallback_for(&self, program: &ProgramConfig) -> Option<Arc<AppEnvironment>> {
        let falls_back = program.runner == Runner::Docker
            && self.docker.as_ref().is_some_and(|d| d.fallback == Fallback::Native);
        if !falls_back {
            return None;
        }
        let mut native = program.clone();
        native.runner = Runner::Native;
        self.for_program(&native).ok()
    }

    /// The environments of `config`, whose state folder is `home`: the native one always
    /// (what an earlier run left natively is reaped even when no program is native any more),
    /// and one per runner kind its programs use. None is prepared yet.
    pub fn for_config(config: &Config, home: &AppHome) -> Environments {
        let docker = config.docker.as_deref().and_then(|docker| {
            match crate::docker::image_of(docker, &config.name) {
                Ok((image, build)) => Some(DockerSetup {
                    spec: crate::docker::container_spec(
                        docker,
                        &config.name,
                        &config.folder,
                        &home.dir,
                        &image,
                    ),
                    build,
                    fallback: docker.fallback,
                }),
                Err(e) => {
                    // A loaded config's extras are checked: this does not happen.
                    tracing::error!("{}: [docker]: {e}", config.name);
                    None
                }
            }
        });
        let envs = Environments { made: Mutex::default(), docker };
        {
            let mut made = envs.lock();
            Self::add(&mut made, Box::new(NativeEnvironment::new()), None);
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

    fn add(
        made: &mut Vec<Arc<AppEnvironment>>,
        env: Box<dyn Environment>,
        build: Option<DockerImageBuild>,
    ) -> Arc<AppEnvironment> {
        let env = Arc::new(AppEnvironment { env, build, prepared: tokio::sync::OnceCell::new() });
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
            crate::reap::log_report(home, env.env.kind(), &report);
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

/// The kind of environment `program`'s runner key selects, in an app that has a `[docker]`
/// table or not.
///
/// # Errors
/// The runner is not available (the message `tend up` gives): a docker program without a
/// `[docker]` table; Nix is not there yet, and `auto` picks between them.
pub fn environment_kind(program: &ProgramConfig, has_docker: bool) -> Result<RunnerKind, String> {
    match program.runner {
        Runner::Native => Ok(RunnerKind::Native),
        Runner::Docker if has_docker => Ok(RunnerKind::Docker),
        Runner::Docker => {
            Err(ConfigError::NoDockerTable { program: program.name.clone() }.to_string())
        }
        Runner::Nix | Runner::Auto => Err(unavailable(program)),
    }
}

/// A new environment of `kind`, with the image it builds first, if that kind exists yet
/// (making one does no work: that is [`AppEnvironment::prepared`]).
fn new_environment(
    kind: RunnerKind,
    docker: Option<&DockerSetup>,
) -> Option<(Box<dyn Environment>, Option<DockerImageBuild>)> {
    match kind {
        RunnerKind::Native => Some((Box::new(NativeEnvironment::new()), None)),
        RunnerKind::Docker => docker.map(|setup| {
            let env: Box<dyn Environment> =
                Box::new(tend_runner::DockerEnvironment::new(setup.spec.clone()));
            (env, setup.build.clone())
        }),
        RunnerKind::Nix => None,
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

    fn home() -> AppHome {
        AppHome::new(std::path::Path::new("/tmp/tend-home"), "demo")
    }

    #[test]
    fn an_app_always_has_the_native_environment() {
        let envs = Environments::for_config(&config(&["nix"]), &home());
        let kinds: Vec<_> = envs.lock().iter().map(|env| env.env.kind()).collect();
        assert_eq!(kinds, [RunnerKind::Native]);
        let envs = Environments::for_config(&config(&["native", "native"]), &home());
        assert_eq!(envs.lock().len(), 1);
    }

    #[test]
    fn a_docker_program_gets_the_apps_container_and_may_fall_back() {
        let text = "name = \"demo\"\n[docker]\nimage = \"img:1\"\nfallback = \"native\"\n\
                    [programs.web]\ncommand = \"x\"\nrunner = \"docker\"\n";
        let config =
            crate::config::Config::parse(text, std::path::Path::new("/srv/demo/tend.toml"))
                .unwrap();
        let envs = Environments::for_config(&config, &home());
        let kinds: Vec<_> = envs.lock().iter().map(|env| env.env.kind()).collect();
        assert_eq!(kinds, [RunnerKind::Native, RunnerKind::Docker]);
        let web = &config.programs[0];
        assert_eq!(envs.for_program(web).unwrap().kind(), RunnerKind::Docker);
        assert_eq!(envs.fallback_for(web).unwrap().kind(), RunnerKind::Native);
    }

    #[test]
    fn runners_not_there_yet_get_no_environment() {
        let config = config(&["docker", "nix", "auto"]);
        let envs = Environments::default();
        let no_table = "program `p0` has runner = \"docker\", but there is no [docker] table; add \
                        one, like [docker] with image = \"debian:bookworm-slim\" (or build = { \
                        base = \"…\" }), or use runner = \"native\"";
        assert_eq!(envs.for_program(&config.programs[0]).unwrap_err(), no_table);
        assert!(envs.fallback_for(&config.programs[0]).is_none());
        for (program, name) in config.programs.iter().zip(["docker", "nix", "auto"]).skip(1) {
            let wanted = format!(
                "program `{}`: runner `{name}` is not available yet; use runner = \"native\"",
                program.name
            );
            assert_eq!(envs.for_program(program).unwrap_err(), wanted);
            assert_eq!(environment_kind(program, true).unwrap_err(), wanted);
        }
        assert!(envs.made.lock().unwrap().is_empty());
    }
}
