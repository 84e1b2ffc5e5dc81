//! The environments an app's programs run in ([`Environments`]): one per runner kind in use
//! (for nix, one per flake), through which a program is spawned, what a tend that is gone left
//! is reaped at start, and what is left at the end is ended.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend_api::AppHome;
use tend_runner::{
    DockerBuildProgress, DockerImageBuild, Environment, NativeEnvironment, NixEnvironment, NixSpec,
    RunRegistry, RunnerKind,
};

use crate::config::{Config, ConfigError, Fallback, NixConfig, ProgramConfig, Runner};

/// The environments an app's programs run in: one per runner kind in use (a Nix one per flake
/// folder), made when the first program of that kind is set up and prepared once, before its
/// first spawn.
#[derive(Debug, Default)]
pub struct Environments {
    made: Mutex<Vec<Arc<AppEnvironment>>>,
    /// How the Docker environment is made, when the app has a `[docker]` table.
    docker: Option<DockerSetup>,
    /// How Nix environments are made.
    nix: NixSetup,
    /// What `runner = "auto"` saw when the app started (a reload chooses with it too).
    probe: crate::programs::choice::Probe,
}

/// Which flake a nix program gets, and where dev shells are cached.
#[derive(Debug, Clone, Default)]
struct NixSetup {
    /// The `[nix]` table.
    config: NixConfig,
    /// The app's folder.
    folder: PathBuf,
    /// `$TEND_HOME/cache/nix`.
    cache_dir: PathBuf,
    /// Evaluate every flake again (`tend prepare --refresh`).
    refresh: bool,
}

/// How [`Environments::for_config`] makes an app's environments.
#[derive(Debug, Clone, Default)]
pub struct EnvOptions {
    /// The tend home (`$TEND_HOME`): Nix dev shells are cached in its [`nix_cache_dir`].
    pub tend_home: PathBuf,
    /// Evaluate every flake again, cache or not (`tend prepare --refresh`).
    pub refresh: bool,
    /// What `runner = "auto"` saw when the app started.
    pub probe: crate::programs::choice::Probe,
}

impl EnvOptions {
    /// The options of an app of the tend home `tend_home` that saw `probe`.
    pub fn new(tend_home: &Path, probe: crate::programs::choice::Probe) -> EnvOptions {
        EnvOptions { tend_home: tend_home.to_path_buf(), refresh: false, probe }
    }
}

/// The cache of evaluated dev shells of the tend home `tend_home`: `$TEND_HOME/cache/nix`.
pub fn nix_cache_dir(tend_home: &Path) -> PathBuf {
    tend_home.join("cache").join("nix")
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
    env: Arc<dyn Environment>,
    /// The image to build before the first spawn, if it is missing.
    build: Option<DockerImageBuild>,
    /// The same environment as `env`, when it is a Nix one.
    nix: Option<Arc<NixEnvironment>>,
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

    /// The Nix environment, when it is one (its flake, its mode, [`NixEnvironment::invalidate`]).
    pub fn nix(&self) -> Option<&Arc<NixEnvironment>> {
        self.nix.as_ref()
    }

    /// The image tend builds for it, when it is the Docker one of a `build` table.
    pub fn image_build(&self) -> Option<&DockerImageBuild> {
        self.build.as_ref()
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
        let flake = (kind == RunnerKind::Nix)
            .then(|| self.nix.config.flake_dir(&self.nix.folder, program))
            .map(|dir| std::path::absolute(&dir).unwrap_or(dir));
        let mut made = self.lock();
        let same = |env: &&Arc<AppEnvironment>| {
            env.env.kind() == kind
                && env.nix.as_ref().map(|nix| nix.flake_dir()) == flake.as_deref()
        };
        if let Some(env) = made.iter().find(same) {
            return Ok(Arc::clone(env));
        }
        if let Some(dir) = flake {
            let mut spec = NixSpec::new(dir, self.nix.cache_dir.clone());
            spec.refresh = self.nix.refresh;
            let nix = Arc::new(NixEnvironment::new(spec));
            let env = Arc::new(AppEnvironment {
                env: Arc::clone(&nix) as Arc<dyn Environment>,
                build: None,
                nix: Some(nix),
                prepared: tokio::sync::OnceCell::new(),
            });
            made.push(Arc::clone(&env));
            return Ok(env);
        }
        let (env, build) =
            new_environment(kind, self.docker.as_ref()).ok_or_else(|| unavailable(program))?;
        Ok(Self::add(&mut made, env, build))
    }

    /// What `runner = "auto"` saw when the app started.
    pub fn probe(&self) -> crate::programs::choice::Probe {
        self.probe
    }

    /// Every environment made so far (the native one first).
    pub fn all(&self) -> Vec<Arc<AppEnvironment>> {
        self.lock().clone()
    }

    /// The Nix environments made so far, one per flake.
    pub fn nix_environments(&self) -> Vec<Arc<NixEnvironment>> {
        self.lock().iter().filter_map(|env| env.nix.clone()).collect()
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
    /// and one per runner kind its programs use (per flake for nix, their dev shells cached in
    /// [`nix_cache_dir`] of `options.tend_home`). `runner = "auto"` programs are to be
    /// resolved first ([`crate::programs::choice::resolve`] with `options.probe`). None is
    /// prepared yet.
    pub fn for_config(config: &Config, home: &AppHome, options: &EnvOptions) -> Environments {
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
        let nix = NixSetup {
            config: config.nix.clone(),
            folder: config.folder.clone(),
            cache_dir: nix_cache_dir(&options.tend_home),
            refresh: options.refresh,
        };
        let probe = options.probe;
        let envs = Environments { made: Mutex::default(), docker, nix, probe };
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
        let env = Arc::new(AppEnvironment {
            env: Arc::from(env),
            build,
            nix: None,
            prepared: tokio::sync::OnceCell::new(),
        });
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
/// table or not. `auto` is chosen when the app starts ([`crate::programs::choice::resolve`]);
/// one not resolved (never, in a running app) runs natively.
///
/// # Errors
/// The runner is not available (the message `tend up` gives): a docker program without a
/// `[docker]` table.
pub fn environment_kind(program: &ProgramConfig, has_docker: bool) -> Result<RunnerKind, String> {
    match program.runner {
        Runner::Native | Runner::Auto => Ok(RunnerKind::Native),
        Runner::Docker if has_docker => Ok(RunnerKind::Docker),
        Runner::Docker => {
            Err(ConfigError::NoDockerTable { program: program.name.clone() }.to_string())
        }
        Runner::Nix => Ok(RunnerKind::Nix),
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
        // Made per flake by `for_program`.
        RunnerKind::Nix => None,
    }
}

/// A docker program whose `[docker]` table could not be made into a container (logged when
/// the app started).
fn unavailable(program: &ProgramConfig) -> String {
    format!(
        "program `{}`: the [docker] table cannot be used (tend.log says why); fix it, or use \
         runner = \"native\"",
        program.name
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
        let envs = Environments::for_config(&config(&["docker"]), &home(), &EnvOptions::default());
        let kinds: Vec<_> = envs.lock().iter().map(|env| env.env.kind()).collect();
        assert_eq!(kinds, [RunnerKind::Native]);
        let envs = Environments::for_config(
            &config(&["native", "native"]),
            &home(),
            &EnvOptions::default(),
        );
        assert_eq!(envs.lock().len(), 1);
    }

    #[test]
    fn a_docker_program_gets_the_apps_container_and_may_fall_back() {
        let text = "name = \"demo\"\n[docker]\nimage = \"img:1\"\nfallback = \"native\"\n\
                    [programs.web]\ncommand = \"x\"\nrunner = \"docker\"\n";
        let config =
            crate::config::Config::parse(text, std::path::Path::new("/srv/demo/tend.toml"))
                .unwrap();
        let envs = Environments::for_config(&config, &home(), &EnvOptions::default());
        let kinds: Vec<_> = envs.lock().iter().map(|env| env.env.kind()).collect();
        assert_eq!(kinds, [RunnerKind::Native, RunnerKind::Docker]);
        let web = &config.programs[0];
        assert_eq!(envs.for_program(web).unwrap().kind(), RunnerKind::Docker);
        assert_eq!(envs.fallback_for(web).unwrap().kind(), RunnerKind::Native);
    }

    #[test]
    fn a_docker_program_without_a_table_gets_no_environment() {
        let config = config(&["docker"]);
        let envs = Environments::default();
        let no_table = "program `p0` has runner = \"docker\", but there is no [docker] table; add \
                        one, like [docker] with image = \"debian:bookworm-slim\" (or build = { \
                        base = \"…\" }), or use runner = \"native\"";
        assert_eq!(envs.for_program(&config.programs[0]).unwrap_err(), no_table);
        assert!(envs.fallback_for(&config.programs[0]).is_none());
        assert!(envs.made.lock().unwrap().is_empty());
    }

    #[test]
    fn nix_programs_share_one_environment_per_flake() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("api")).unwrap();
        std::fs::write(dir.path().join("api/flake.nix"), "{ }").unwrap();
        let text = "[programs.a]\ncommand = \"x\"\nrunner = \"nix\"\n\
                    [programs.b]\ncommand = \"x\"\nrunner = \"nix\"\n\
                    [programs.api]\ncommand = \"x\"\ndir = \"api\"\nrunner = \"nix\"\n";
        let config = Config::parse(text, &dir.path().join("tend.toml")).unwrap();
        let tend_home = dir.path().join("home");
        let envs = Environments::for_config(
            &config,
            &home(),
            &EnvOptions::new(&tend_home, Default::default()),
        );
        let flakes: Vec<PathBuf> =
            envs.nix_environments().iter().map(|n| n.flake_dir().to_path_buf()).collect();
        assert_eq!(flakes, [dir.path().to_path_buf(), dir.path().join("api")]);
        let a = envs.for_program(&config.programs[0]).unwrap();
        let b = envs.for_program(&config.programs[1]).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.kind(), RunnerKind::Nix);
        let nix = a.nix().unwrap();
        assert_eq!(nix.spec().cache_dir, tend_home.join("cache/nix"));
        assert!(envs.fallback_for(&config.programs[0]).is_none());
    }
}
