//! The `[docker]` table: the app's container, as configured.

use std::collections::BTreeMap;
use std::path::Path;

use crate::docker::{DockerBuild, Registry};

/// The `[docker]` table: the one container every `runner = "docker"` program of the app runs
/// in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// The image: one to use as it is, or one tend builds.
    pub image: DockerImage,
    /// The `mounts`, in file order, resolved; the app's folder and state folder are mounted
    /// besides (see [`DockerConfig::all_mounts`]).
    pub mounts: Vec<Mount>,
    /// The container's network (`network`): `host` by default, so that programs bind to
    /// 127.0.0.1 inside as they would natively.
    pub network: String,
    /// Whether an init runs as PID 1 (`init`, default true), so that signals and zombies
    /// behave.
    pub init: bool,
    /// Whom the programs run as.
    pub user: DockerUser,
    /// Variables every docker program gets (`env`), below the program's own `env`.
    pub env: BTreeMap<String, String>,
    /// What a docker program does when Docker cannot run it.
    pub fallback: Fallback,
    /// The extras a `build` can name: the built-in ones and the app's `[docker.extras.NAME]`,
    /// checked (every `needs` is known, no cycle).
    pub extras: Registry,
}

impl DockerConfig {
    /// A table with `image` and every other key at its default.
    pub fn new(image: DockerImage) -> DockerConfig {
        DockerConfig {
            image,
            mounts: Vec::new(),
            network: DockerConfig::DEFAULT_NETWORK.to_owned(),
            init: true,
            user: DockerUser::default(),
            env: BTreeMap::new(),
            fallback: Fallback::default(),
            extras: Registry::builtin(),
        }
    }

    /// The default `network`.
    pub const DEFAULT_NETWORK: &'static str = "host";

    /// Every mount of the container: the app's folder at [`crate::docker::APP_TARGET`] and
    /// its state folder at [`crate::docker::STATE_TARGET`] (both read-write), then `mounts`.
    pub fn all_mounts(&self, app_folder: &Path, state_dir: &Path) -> Vec<Mount> {
        let fixed =
            [(app_folder, crate::docker::APP_TARGET), (state_dir, crate::docker::STATE_TARGET)]
                .into_iter()
                .map(|(source, target)| Mount {
                    source: source.to_path_buf(),
                    target: target.to_owned(),
                    read_only: false,
                });
        fixed.chain(self.mounts.iter().cloned()).collect()
    }
}

/// The image of `[docker]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerImage {
    /// `image = "name:tag"`: an image that exists (or can be pulled), used as it is.
    Named(String),
    /// `build = { base = "…", extras = […], steps = […] }`: an image tend builds
    /// ([`crate::docker::dockerfile()`]).
    Build(DockerBuild),
}

/// One bind mount of the container: the runner's type, filled from `mounts` (sources
/// absolute, targets normalised: no `.`, `..`, `//` or trailing `/`).
pub use tend_runner::DockerMount as Mount;

/// Whom docker programs run as (`user`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DockerUser {
    /// No `user`, or `user = "host"`: the host user's uid:gid on Linux, so that files written
    /// to mounts stay the user's; elsewhere (Docker Desktop maps owners itself) the image's
    /// user.
    #[default]
    Host,
    /// `user = "image"`: the image's own `USER`.
    Image,
    /// Any other value, passed to Docker as it is: `name`, `uid`, `uid:gid` or `name:group`.
    Named(String),
}

impl DockerUser {
    /// The `--user` value, given the host's uid:gid where it applies (`None` off Linux):
    /// `None` means the image's own user.
    ///
    /// ```
    /// use tend_app::config::DockerUser;
    /// assert_eq!(DockerUser::Host.resolve(Some((1000, 100))).as_deref(), Some("1000:100"));
    /// assert_eq!(DockerUser::Host.resolve(None), None);
    /// assert_eq!(DockerUser::Image.resolve(Some((1000, 100))), None);
    /// assert_eq!(DockerUser::Named("bot".into()).resolve(None).as_deref(), Some("bot"));
    /// ```
    pub fn resolve(&self, host: Option<(u32, u32)>) -> Option<String> {
        match self {
            DockerUser::Host => host.map(|(uid, gid)| format!("{uid}:{gid}")),
            DockerUser::Image => None,
            DockerUser::Named(name) => Some(name.clone()),
        }
    }

    /// The `--user` value on this machine: [`DockerUser::resolve`] with the current user's
    /// uid:gid on Linux.
    pub fn for_this_host(&self) -> Option<String> {
        self.resolve(tend_runner::docker_host_user())
    }
}

/// What a `runner = "docker"` program does when Docker cannot run it (`fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fallback {
    /// `"none"` (the default): the program fails, saying why and what to do.
    #[default]
    None,
    /// `"native"`: it runs natively instead; its log and `tend status` say so, and why.
    Native,
}

impl Fallback {
    /// The name used in `tend.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::None => "none",
            Fallback::Native => "native",
        }
    }
}
