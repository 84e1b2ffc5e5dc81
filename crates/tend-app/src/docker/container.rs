//! From the `[docker]` table to what the runner takes: the app's container
//! ([`container_spec`]) and its image, with how to build it when it is tend's to build
//! ([`image_of`]). Pure: nothing here asks the daemon.

use std::path::Path;

use sha2::{Digest as _, Sha256};
use tend_runner::{DockerImageBuild, DockerSpec};

use super::{ExtrasError, build_timeout, dockerfile};
use crate::config::{DockerConfig, DockerImage};

/// The app's container as the runner takes it: the image, every mount (the app's folder at
/// [`super::APP_TARGET`], its state folder at [`super::STATE_TARGET`], then `mounts`), the
/// network, the init and the user. Its variables stay empty: the `[docker]` table's `env`
/// reaches each program through [`crate::programs::launch::program_environment`].
pub fn container_spec(
    docker: &DockerConfig,
    app: &str,
    folder: &Path,
    state_dir: &Path,
    image: &str,
) -> DockerSpec {
    let mut spec = DockerSpec::new(app, image);
    spec.mounts = docker.all_mounts(folder, state_dir);
    spec.network.clone_from(&docker.network);
    spec.init = docker.init;
    spec.user = docker.user.for_this_host();
    spec
}

/// The image the app's container runs, and the build that makes it when it is tend's to
/// make: `image = "…"` as it is (no build); a `build` table, the tag
/// `tend-<app>:<12 hex digits of the Dockerfile's SHA-256>` — a changed Dockerfile is a new
/// tag, so a new container — built within [`build_timeout`] of its extras.
///
/// # Errors
/// The extras cannot be resolved (a loaded config has been checked: it never fails).
pub fn image_of(
    docker: &DockerConfig,
    app: &str,
) -> Result<(String, Option<DockerImageBuild>), ExtrasError> {
    match &docker.image {
        DockerImage::Named(image) => Ok((image.clone(), None)),
        DockerImage::Build(build) => {
            let text = dockerfile(build, &docker.extras)?;
            let digest = Sha256::digest(text.as_bytes());
            let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            let tag = format!("tend-{}:{hex}", app.to_ascii_lowercase());
            let extras = docker.extras.resolve(&build.extras)?;
            let timeout = build_timeout(&extras);
            Ok((
                tag.clone(),
                Some(DockerImageBuild { tag, dockerfile: text, files: Vec::new(), timeout }),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::DockerBuild;

    #[test]
    fn a_built_image_is_tagged_by_its_dockerfile() {
        let build = |steps: &[&str]| {
            let mut config = DockerConfig::new(DockerImage::Build(DockerBuild {
                base: "debian:bookworm-slim".into(),
                extras: vec!["git".into()],
                steps: steps.iter().map(|s| (*s).to_owned()).collect(),
            }));
            config.network = "host".into();
            image_of(&config, "Bot").unwrap()
        };
        let (tag, made) = build(&["RUN true"]);
        let made = made.unwrap();
        assert!(tag.starts_with("tend-bot:"), "{tag}");
        assert_eq!(tag.len(), "tend-bot:".len() + 12);
        assert_eq!(made.tag, tag);
        assert!(made.dockerfile.contains("RUN true"));
        assert_eq!(build(&["RUN true"]).0, tag, "the same Dockerfile, the same tag");
        assert_ne!(build(&["RUN false"]).0, tag, "another Dockerfile, another tag");
        let named = DockerConfig::new(DockerImage::Named("me/bot:1".into()));
        assert_eq!(image_of(&named, "bot").unwrap(), ("me/bot:1".to_owned(), None));
    }

    #[test]
    fn the_container_has_the_fixed_mounts_first() {
        let config = DockerConfig::new(DockerImage::Named("img:1".into()));
        let spec = container_spec(
            &config,
            "bot",
            Path::new("/srv/bot"),
            Path::new("/h/apps/bot"),
            "img:1",
        );
        let targets: Vec<&str> = spec.mounts.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(targets, [super::super::APP_TARGET, super::super::STATE_TARGET]);
        assert_eq!(spec.image, "img:1");
        assert!(spec.init);
        assert_eq!(spec.network, "host");
        assert!(spec.env.is_empty());
    }
}
