//! What defines an app's container: [`DockerSpec`] (plain data), its name and its
//! [`fingerprint`].

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::owner::ContainerOwner;
use crate::EnvVars;

/// The uid and gid a container runs as by default: the host user's on Linux (so that files
/// written to mounts stay the user's), `None` elsewhere (the image's user; Docker Desktop maps
/// owners itself).
pub fn host_user_ids() -> Option<(u32, u32)> {
    crate::os::current_user_ids()
}

/// One bind mount of a [`DockerSpec`]: a host folder at a path inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct DockerMount {
    /// The folder on this machine (absolute).
    pub source: PathBuf,
    /// Where it appears inside the container (absolute).
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// Everything the Docker environment needs to know about an app's container. Plain data: the
/// app layer builds it from the `[docker]` table; nothing here reads a file.
///
/// - `image` must be on this machine (`prepare` says so when it is not; building it is the
///   app layer's job).
/// - `network`: `"host"` by default, so programs bind to 127.0.0.1 inside as they would
///   natively.
/// - `init`: an init as PID 1 (Docker's `--init`), so signals and orphaned zombies behave.
/// - `user`: `uid:gid`; by default the host user's on Linux (so files written to mounts stay
///   the user's), the image's user elsewhere.
/// - `env`: variables every run gets, under the run's own [`crate::CommandSpec::env`]. They
///   are given to each run through the exec API (never baked into the container), so they
///   never show in `docker inspect` and changing them recreates nothing.
/// - `owner`: the tend process that owns the container (labels and owner file).
///
/// [`fingerprint`] covers everything that defines the container (image, mounts, network,
/// init, user); a different fingerprint means a new container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerSpec {
    /// The app's name (the container is `tend-<app>`).
    pub app: String,
    /// The image, `name:tag` or an id.
    pub image: String,
    /// Bind mounts, in order.
    pub mounts: Vec<DockerMount>,
    /// The network mode (`host`, `none`, `bridge` or a network's name).
    pub network: String,
    /// Whether Docker's init runs as PID 1.
    pub init: bool,
    /// The user programs run as (`uid:gid`, or a name the image knows); `None`: the image's.
    pub user: Option<String>,
    /// Variables for every run, under each run's own.
    pub env: EnvVars,
    /// Who owns the container.
    pub owner: ContainerOwner,
}

impl DockerSpec {
    /// The spec of `app` running `image` with the defaults: no mounts, host network, an init,
    /// the host user on Linux, no variables, owned by this process.
    pub fn new(app: impl Into<String>, image: impl Into<String>) -> Self {
        DockerSpec {
            app: app.into(),
            image: image.into(),
            mounts: Vec::new(),
            network: "host".into(),
            init: true,
            user: host_user_ids().map(|(uid, gid)| format!("{uid}:{gid}")),
            env: EnvVars::default(),
            owner: ContainerOwner::current(),
        }
    }

    /// Adds a bind mount of `source` at `target`.
    pub fn mount(
        &mut self,
        source: impl Into<PathBuf>,
        target: impl Into<String>,
        read_only: bool,
    ) -> &mut Self {
        self.mounts.push(DockerMount { source: source.into(), target: target.into(), read_only });
        self
    }

    /// The container's name: `tend-<app>`, with every character Docker does not allow in a
    /// name replaced by `-`.
    ///
    /// ```
    /// use tend_runner::DockerSpec;
    /// assert_eq!(DockerSpec::new("web", "img").container_name(), "tend-web");
    /// assert_eq!(DockerSpec::new("my app/1", "img").container_name(), "tend-my-app-1");
    /// ```
    pub fn container_name(&self) -> String {
        container_name(&self.app)
    }
}

/// The name of app `app`'s container: `tend-<app>`, any character Docker does not take in a
/// name turned into `-` (see [`DockerSpec::container_name`]).
pub fn container_name(app: &str) -> String {
    let app: String = app
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' })
        .collect();
    format!("tend-{app}")
}

/// The parts of a [`DockerSpec`] that define the container, in a fixed order.
#[derive(serde::Serialize)]
struct Defining<'a> {
    version: u32,
    app: &'a str,
    image: &'a str,
    mounts: &'a [DockerMount],
    network: &'a str,
    init: bool,
    user: Option<&'a str>,
}

/// A stable digest (SHA-256, hex) of everything that defines the container: app, image name,
/// mounts (in order), network, init and user. Not the variables (given per run) nor the owner.
/// Pure: the same spec gives the same fingerprint on every machine and in every version that
/// keeps this format.
///
/// ```
/// use tend_runner::{DockerSpec, docker_fingerprint};
/// let mut spec = DockerSpec::new("web", "img:1");
/// let before = docker_fingerprint(&spec);
/// spec.env.set("TOKEN", "secret");
/// assert_eq!(docker_fingerprint(&spec), before);
/// spec.mount("/srv", "/mnt/srv", true);
/// assert_ne!(docker_fingerprint(&spec), before);
/// ```
pub fn fingerprint(spec: &DockerSpec) -> String {
    let defining = Defining {
        version: 1,
        app: &spec.app,
        image: &spec.image,
        mounts: &spec.mounts,
        network: &spec.network,
        init: spec.init,
        user: spec.user.as_deref(),
    };
    // Serialising plain strings, bools and paths cannot fail; an empty input would still hash.
    let bytes = serde_json::to_vec(&defining).unwrap_or_default();
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_what_defines_the_container() {
        let base = DockerSpec::new("a", "img:1");
        let fp = fingerprint(&base);
        assert_eq!(fp.len(), 64);
        assert_eq!(fingerprint(&base.clone()), fp);
        let mut other = base.clone();
        other.owner.pid += 1;
        assert_eq!(fingerprint(&other), fp, "the owner is not part of it");
        for change in [
            |s: &mut DockerSpec| s.image = "img:2".into(),
            |s: &mut DockerSpec| s.network = "none".into(),
            |s: &mut DockerSpec| s.init = false,
            |s: &mut DockerSpec| s.user = Some("1:1".into()),
            |s: &mut DockerSpec| {
                s.mount("/x", "/mnt/x", false);
            },
        ] {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(fingerprint(&changed), fp, "{changed:?}");
        }
        let mut ro = base.clone();
        ro.mount("/x", "/mnt/x", false);
        let mut rw = base;
        rw.mount("/x", "/mnt/x", true);
        assert_ne!(fingerprint(&ro), fingerprint(&rw));
    }
}
