//! The `[docker]` table: the image (`image` or `build`), `mounts`, `network`, `init`, `user`,
//! `env` and `fallback`; `mounts` and `[docker.extras.NAME]` are in their own files.

use super::*;
use crate::config::docker::{DockerConfig, DockerImage, DockerUser, Fallback};
use crate::docker::{DockerBuild, ExtrasError, Registry};

const DOCKER_KEYS: &[&str] =
    &["image", "build", "mounts", "network", "init", "user", "env", "fallback", "extras"];
const BUILD_KEYS: &[&str] = &["base", "extras", "steps"];

const IMAGE_EXPECTED: &str = r#"expected an image reference, like image = "debian:bookworm-slim""#;
const ONE_IMAGE: &str = r#"expected image = "name:tag" to run an image as it is, or build = { base = "..." } to build one"#;

/// Dockerfile instructions a `build.steps` entry may start with (`FROM` is the base's).
const INSTRUCTIONS: &[&str] = &[
    "RUN",
    "ENV",
    "ARG",
    "WORKDIR",
    "USER",
    "COPY",
    "ADD",
    "LABEL",
    "EXPOSE",
    "SHELL",
    "VOLUME",
    "ENTRYPOINT",
    "CMD",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "ONBUILD",
];

impl Ctx<'_> {
    pub(super) fn docker(&self, field: &Field<'_, '_>) -> Result<DockerConfig, ConfigError> {
        let table = self.table(
            field,
            Some(DOCKER_KEYS),
            r#"expected a table, like [docker] with image = "debian:bookworm-slim""#,
        )?;
        // The extras first: `build.extras` names them, wherever they are in the file.
        let extras = match table.get("extras") {
            Some(field) => self.extras(field)?,
            None => Registry::builtin(),
        };
        let image = match (table.get("image"), table.get("build")) {
            (Some(image), Some(build)) => {
                let later = if image.key_span.start > build.key_span.start { image } else { build };
                return Err(self.at_key(later, "both `image` and `build` are given", ONE_IMAGE));
            }
            (Some(image), None) => DockerImage::Named(self.image_name(image, IMAGE_EXPECTED)?),
            (None, Some(build)) => DockerImage::Build(self.build(build, &extras)?),
            (None, None) => {
                return Err(self.at_key(field, "missing key `image` or `build`", ONE_IMAGE));
            }
        };
        let mut docker = DockerConfig::new(image);
        docker.extras = extras;
        for field in &table.fields {
            match field.name {
                "mounts" => docker.mounts = self.mounts(field)?,
                "network" => {
                    let expected = r#"expected a Docker network: "host" (the default), "bridge", "none" or a network's name"#;
                    let network = self.nonempty_string(field, expected)?;
                    let valid = network
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
                    if !valid {
                        return Err(self.at_value(
                            field,
                            format!("invalid network {network:?}"),
                            expected,
                        ));
                    }
                    network.clone_into(&mut docker.network);
                }
                "init" => {
                    docker.init = match field.value.get_ref() {
                        DeValue::Boolean(init) => *init,
                        _ => {
                            return Err(self.wrong_type(
                                field,
                                "expected true (an init as PID 1, the default) or false",
                            ));
                        }
                    };
                }
                "user" => docker.user = self.user(field)?,
                "env" => docker.env = self.env(field)?,
                "fallback" => {
                    let expected = "expected one of: none, native";
                    docker.fallback = match self.string(field, expected)? {
                        "none" => Fallback::None,
                        "native" => Fallback::Native,
                        other => {
                            return Err(self.at_value(
                                field,
                                format!("unknown fallback {other:?}"),
                                expected,
                            ));
                        }
                    };
                }
                // `image`, `build` and `extras` are done.
                _ => {}
            }
        }
        Ok(docker)
    }

    /// An image reference: not empty, no whitespace.
    fn image_name(&self, field: &Field<'_, '_>, expected: &str) -> Result<String, ConfigError> {
        let name = self.nonempty_string(field, expected)?;
        if name.chars().any(char::is_whitespace) {
            return Err(self.at_value(field, format!("invalid image {name:?}"), expected));
        }
        Ok(name.to_owned())
    }

    fn build(&self, field: &Field<'_, '_>, extras: &Registry) -> Result<DockerBuild, ConfigError> {
        let table = self.table(
            field,
            Some(BUILD_KEYS),
            r#"expected a table, like build = { base = "debian:bookworm-slim", extras = ["python"] }"#,
        )?;
        let Some(base) = table.get("base") else {
            return Err(self.at_key(
                field,
                "missing key `base`",
                r#"expected the image to build from, like base = "debian:bookworm-slim""#,
            ));
        };
        let mut build = DockerBuild {
            base: self.image_name(
                base,
                r#"expected an image to build from, like "debian:bookworm-slim""#,
            )?,
            ..DockerBuild::default()
        };
        if let Some(field) = table.get("extras") {
            let expected =
                r#"expected an array of extra names, like extras = ["python", "ffmpeg"]"#;
            for item in &self.items(field, expected)? {
                let name = self.nonempty_string(item, expected)?;
                if extras.get(name).is_none() {
                    let error = ExtrasError::Unknown {
                        name: name.to_owned(),
                        needed_by: None,
                        known: extras.names(),
                    };
                    return Err(self.extras_error(item, &error));
                }
                build.extras.push(name.to_owned());
            }
        }
        if let Some(field) = table.get("steps") {
            let expected =
                r#"expected an array of Dockerfile instructions, like steps = ["RUN useradd bot"]"#;
            for item in &self.items(field, expected)? {
                let step = self.nonempty_string(item, expected)?;
                let word = step.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                if word == "FROM" {
                    return Err(self.at_value(
                        item,
                        "a FROM step would start another image",
                        "expected the image to build from in build.base",
                    ));
                }
                if !INSTRUCTIONS.contains(&word.as_str()) {
                    return Err(self.at_value(
                        item,
                        format!("unknown Dockerfile instruction `{word}`"),
                        format!(
                            "expected a step starting with one of: {}",
                            INSTRUCTIONS.join(", ")
                        ),
                    ));
                }
                build.steps.push(step.to_owned());
            }
        }
        Ok(build)
    }

    fn user(&self, field: &Field<'_, '_>) -> Result<DockerUser, ConfigError> {
        let expected = r#"expected "host" (the host's uid:gid on Linux, the default), "image" (the image's user), or a user: "name", "uid" or "uid:gid""#;
        let user = self.nonempty_string(field, expected)?;
        match user {
            "host" => return Ok(DockerUser::Host),
            "image" => return Ok(DockerUser::Image),
            _ => {}
        }
        let part = |p: &str| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        let valid = match user.split_once(':') {
            Some((name, group)) => part(name) && part(group),
            None => part(user),
        };
        if !valid {
            return Err(self.at_value(field, format!("invalid user {user:?}"), expected));
        }
        Ok(DockerUser::Named(user.to_owned()))
    }
}
