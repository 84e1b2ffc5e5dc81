//! What an app's Docker container is made of, computed without a daemon: the image a
//! `[docker] build` table describes ([`DockerBuild`], [`dockerfile()`]), the extras registry
//! ([`extras`]), the mounts every container has ([`APP_TARGET`], [`STATE_TARGET`]) and where a
//! host path of the app is inside ([`container_path`]).
//!
//! The `[docker]` table itself is [`crate::config::DockerConfig`]; running programs in the
//! container is `tend-runner`'s.

pub mod container;
pub mod dockerfile;
pub mod extras;

use std::path::Path;

pub use container::{container_spec, image_of};
pub use dockerfile::dockerfile;
pub use extras::{Extra, ExtrasError, Registry, build_timeout};

/// Where the app's folder (the folder of its `tend.toml`) is mounted in its container,
/// read-write. A program's `dir` is the same place under it: `dir = "web"` runs in `/app/web`.
pub const APP_TARGET: &str = "/app";

/// Where the app's state folder (`$TEND_HOME/apps/<app>`: logs, run records, the in-flight
/// and restart files) is mounted in its container, read-write; `TEND_STATE_DIR` points here.
pub const STATE_TARGET: &str = "/tend/state";

/// The mount targets no `[docker] mounts` entry may use.
pub const FIXED_TARGETS: [&str; 2] = [APP_TARGET, STATE_TARGET];

/// An image built by tend: the `build = { … }` of `[docker]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerBuild {
    /// The image it starts `FROM`, like `debian:bookworm-slim`.
    pub base: String,
    /// The extras it installs, as named (see [`Registry::resolve`] for the order they install
    /// in).
    pub extras: Vec<String>,
    /// Dockerfile instructions added last, as written, like `RUN useradd bot`.
    pub steps: Vec<String>,
}

/// Where `path`, a host path inside the app's folder or its state folder, is in the app's
/// container; `None` for a path under neither (which the container cannot see, unless a
/// `[docker] mounts` entry brings it in). The state folder wins when it is inside the app's
/// folder. Lexical: nothing is looked up on disk.
///
/// ```
/// use std::path::Path;
/// use tend_app::docker::container_path;
/// let (app, state) = (Path::new("/srv/bot"), Path::new("/home/me/.tend/apps/bot"));
/// assert_eq!(container_path(Path::new("/srv/bot/web"), app, state).as_deref(), Some("/app/web"));
/// assert_eq!(container_path(state, app, state).as_deref(), Some("/tend/state"));
/// assert_eq!(container_path(Path::new("/etc"), app, state), None);
/// ```
pub fn container_path(path: &Path, app_folder: &Path, state_dir: &Path) -> Option<String> {
    [(state_dir, STATE_TARGET), (app_folder, APP_TARGET)].into_iter().find_map(|(host, target)| {
        let rest = path.strip_prefix(host).ok()?;
        let mut inside = target.to_owned();
        for part in rest.components() {
            inside.push('/');
            inside.push_str(&part.as_os_str().to_string_lossy());
        }
        Some(inside)
    })
}
