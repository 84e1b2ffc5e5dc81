//! The `[docker]` table: the image (`image` or `build`), `mounts`, `network`, `init`, `user`,
//! `env`, `fallback` and the `[docker.extras.NAME]` tables.

use super::*;
use crate::config::docker::{DockerConfig, DockerImage, DockerUser, Fallback, Mount};
use crate::docker::{DockerBuild, Extra, ExtrasError, FIXED_TARGETS, Registry};

const DOCKER_KEYS: &[&str] =
    &["image", "build", "mounts", "network", "init", "user", "env", "fallback", "extras"];
const BUILD_KEYS: &[&str] = &["base", "extras", "steps"];
const MOUNT_KEYS: &[&str] = &["source", "target", "ro"];
const EXTRA_KEYS: &[&str] = &["apt", "pip", "pip_index", "needs"];

const IMAGE_EXPECTED: &str = r#"expected an image reference, like image = "debian:bookworm-slim""#;
const ONE_IMAGE: &str = r#"expected image = "name:tag" to run an image as it is, or build = { base = "..." } to build one"#;
const MOUNTS_EXPECTED: &str = r#"expected an array of absolute paths or tables, like mounts = ["/srv/data", { source = "/var/cache/app", target = "/cache", ro = true }]"#;
const MOUNT_SOURCE_EXPECTED: &str = "expected an absolute path on this machine";
const TARGET_EXPECTED: &str = r#"expected an absolute path in the container, like "/cache""#;
const NEEDS_EXPECTED: &str = r#"expected an array of extra names, like needs = ["python"]"#;

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

    fn mounts(&self, field: &Field<'_, '_>) -> Result<Vec<Mount>, ConfigError> {
        let mut mounts: Vec<Mount> = Vec::new();
        // The key of each mount, to name the first one of a clash.
        let mut keys: Vec<String> = Vec::new();
        for item in &self.items(field, MOUNTS_EXPECTED)? {
            let mount = match item.value.get_ref() {
                DeValue::String(_) => {
                    let source = self.mount_source(item)?;
                    let target = self.default_target(item, &source)?;
                    let mount = Mount { source, target, read_only: false };
                    self.check_target(&mount, item, true, &mounts, &keys)?;
                    mount
                }
                DeValue::Table(_) => {
                    let table = self.table(item, Some(MOUNT_KEYS), MOUNTS_EXPECTED)?;
                    let Some(source_field) = table.get("source") else {
                        return Err(self.at_value(
                            item,
                            "missing key `source`",
                            r#"expected the host path to mount, like { source = "/srv/data", target = "/data" }"#,
                        ));
                    };
                    let source = self.mount_source(source_field)?;
                    let target_field = table.get("target");
                    let target = match target_field {
                        Some(target) => self.mount_target(target)?,
                        None => self.default_target(source_field, &source)?,
                    };
                    let read_only = match table.get("ro") {
                        Some(ro) => match ro.value.get_ref() {
                            DeValue::Boolean(ro) => *ro,
                            _ => return Err(self.wrong_type(ro, "expected true or false")),
                        },
                        None => false,
                    };
                    let mount = Mount { source, target, read_only };
                    let at = target_field.unwrap_or(item);
                    self.check_target(&mount, at, target_field.is_none(), &mounts, &keys)?;
                    mount
                }
                _ => return Err(self.wrong_type(item, MOUNTS_EXPECTED)),
            };
            keys.push(item.path.clone());
            mounts.push(mount);
        }
        Ok(mounts)
    }

    /// A mount's target must be its own: not a fixed mount's, not an earlier one's (`keys`
    /// name the `earlier` ones). `default_target`: the target comes from the source's name.
    fn check_target(
        &self,
        mount: &Mount,
        at: &Field<'_, '_>,
        default_target: bool,
        earlier: &[Mount],
        keys: &[String],
    ) -> Result<(), ConfigError> {
        let how = if default_target { " (from the source's name)" } else { "" };
        let own_target = if default_target {
            r#"expected a target of its own: a table, like { source = "...", target = "/mnt/other" }"#
        } else {
            "expected a target of its own"
        };
        if FIXED_TARGETS.contains(&mount.target.as_str()) {
            let what = if mount.target == crate::docker::APP_TARGET {
                "the app's folder"
            } else {
                "the app's state folder"
            };
            return Err(self.at_value(
                at,
                format!("mount target {}{how} is where tend mounts {what}", mount.target),
                own_target,
            ));
        }
        if let Some(other) = earlier.iter().position(|m| m.target == mount.target) {
            return Err(self.at_value(
                at,
                format!("mount target {}{how} is also the target of {}", mount.target, keys[other]),
                own_target,
            ));
        }
        Ok(())
    }

    /// A mount's source: absolute (a relative one is refused: the app's folder is mounted
    /// already), and, with [`Disk::Checked`], existing.
    fn mount_source(&self, field: &Field<'_, '_>) -> Result<PathBuf, ConfigError> {
        let text = self.nonempty_string(field, MOUNT_SOURCE_EXPECTED)?;
        let path = Path::new(text);
        if !path.is_absolute() {
            let app = crate::docker::APP_TARGET;
            let upward = path.components().any(|c| matches!(c, Component::ParentDir));
            let hint = if upward {
                format!("{MOUNT_SOURCE_EXPECTED} (the app's folder is mounted at {app} already)")
            } else {
                let inside = without_cur_dirs(&Path::new(app).join(path));
                format!(
                    "{MOUNT_SOURCE_EXPECTED}; the app's folder is mounted at {app} already, so \
                     its {text} is {} inside",
                    inside.display()
                )
            };
            return Err(self.at_value(field, format!("relative mount source {text:?}"), hint));
        }
        let path = without_cur_dirs(path);
        if self.disk == Disk::Checked
            && let Err(e) = std::fs::metadata(&path)
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return Err(self.at_value(
                field,
                format!("{} does not exist", path.display()),
                "expected an existing folder or file to mount: create it, or fix the path",
            ));
        }
        Ok(path)
    }

    /// `/mnt/<the source's base name, sanitised>`.
    fn default_target(&self, field: &Field<'_, '_>, source: &Path) -> Result<String, ConfigError> {
        match source.file_name() {
            Some(name) => Ok(format!("/mnt/{}", sanitize_name(&name.to_string_lossy()))),
            None => Err(self.at_value(
                field,
                format!("{} has no name to mount it under /mnt", source.display()),
                r#"expected a table with a target, like { source = "/", target = "/host" }"#,
            )),
        }
    }

    fn mount_target(&self, field: &Field<'_, '_>) -> Result<String, ConfigError> {
        let text = self.nonempty_string(field, TARGET_EXPECTED)?;
        let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
        if !text.starts_with('/')
            || parts.is_empty()
            || parts.iter().any(|p| *p == "." || *p == "..")
        {
            return Err(self.at_value(
                field,
                format!("invalid mount target {text:?}"),
                TARGET_EXPECTED,
            ));
        }
        Ok(format!("/{}", parts.join("/")))
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

    /// The `[docker.extras]` tables, checked together with the built-in extras.
    fn extras(&self, field: &Field<'_, '_>) -> Result<Registry, ConfigError> {
        let table = self.table(
            field,
            None,
            r#"expected a table of extras, like [docker.extras.ocr] with apt = ["tesseract-ocr"]"#,
        )?;
        let mut own = Vec::with_capacity(table.fields.len());
        // The `needs` items of each extra, to point at the one an error is about.
        let mut needs_items = BTreeMap::new();
        for extra_field in &table.fields {
            if !is_valid_name(extra_field.name) {
                return Err(self.at_key(
                    extra_field,
                    format!("invalid extra name {:?}", extra_field.name),
                    NAME_EXPECTED,
                ));
            }
            let extra_table = self.table(
                extra_field,
                Some(EXTRA_KEYS),
                &format!(r#"expected a table, like [{}] with apt = ["..."]"#, extra_field.path),
            )?;
            let mut extra = Extra::default();
            for field in &extra_table.fields {
                match field.name {
                    "apt" => extra.apt = self.apt_packages(field)?,
                    "pip" => extra.pip = self.pip_packages(field)?,
                    "pip_index" => {
                        let expected = r#"expected the URL of a package index, like "https://download.pytorch.org/whl/cpu""#;
                        let url = self.nonempty_string(field, expected)?;
                        let web = url.starts_with("https://") || url.starts_with("http://");
                        if !web || url.chars().any(char::is_whitespace) {
                            return Err(self.at_value(
                                field,
                                format!("invalid index URL {url:?}"),
                                expected,
                            ));
                        }
                        extra.pip_index = Some(url.to_owned());
                    }
                    "needs" => {
                        let items = self.items(field, NEEDS_EXPECTED)?;
                        for item in &items {
                            extra
                                .needs
                                .push(self.nonempty_string(item, NEEDS_EXPECTED)?.to_owned());
                        }
                        needs_items.insert(extra_field.name.to_owned(), items);
                    }
                    _ => {}
                }
            }
            own.push((extra_field.name.to_owned(), extra));
        }
        Registry::with(own).map_err(|error| {
            // The `needs` item that names the unknown extra, or that closes the cycle (the
            // first step of it out of one of the app's own extras).
            let (from, to) = match &error {
                ExtrasError::Unknown { name, needed_by, .. } => {
                    (needed_by.clone().unwrap_or_default(), name.clone())
                }
                ExtrasError::Cycle { cycle } => cycle
                    .windows(2)
                    .find(|pair| needs_items.contains_key(&pair[0]))
                    .map(|pair| (pair[0].clone(), pair[1].clone()))
                    .unwrap_or_default(),
            };
            let item = needs_items
                .get(&from)
                .and_then(|items| items.iter().find(|item| item_is(item, &to)));
            match item {
                Some(item) => self.extras_error(item, &error),
                None => self.at_key(field, error.to_string(), "expected extras that resolve"),
            }
        })
    }

    fn extras_error(&self, field: &Field<'_, '_>, error: &ExtrasError) -> ConfigError {
        let (problem, expected) = match error {
            ExtrasError::Unknown { name, known, .. } => (
                format!("unknown extra {name:?}"),
                format!("expected one of: {}, or a [docker.extras.{name}] table", known.join(", ")),
            ),
            ExtrasError::Cycle { cycle } => (
                format!("extras need each other in a cycle: {}", cycle.join(" → ")),
                "expected needs without a cycle: remove one of them".to_owned(),
            ),
        };
        self.at_value(field, problem, expected)
    }

    fn apt_packages(&self, field: &Field<'_, '_>) -> Result<Vec<String>, ConfigError> {
        let expected = r#"expected an array of apt package names, like apt = ["ffmpeg"]"#;
        self.package_items(
            field,
            expected,
            |name| {
                name.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || "+.:=~_/-".contains(c))
            },
            "apt package name",
        )
    }

    fn pip_packages(&self, field: &Field<'_, '_>) -> Result<Vec<String>, ConfigError> {
        let expected = r#"expected an array of pip requirements, like pip = ["numpy>=1.26"]; for another index, pip_index = "https://...""#;
        self.package_items(
            field,
            expected,
            |name| !name.starts_with('-') && !name.contains(['\n', '\r']),
            "pip requirement",
        )
    }

    fn package_items(
        &self,
        field: &Field<'_, '_>,
        expected: &str,
        valid: impl Fn(&str) -> bool,
        what: &str,
    ) -> Result<Vec<String>, ConfigError> {
        let mut packages = Vec::new();
        for item in &self.items(field, expected)? {
            let name = self.nonempty_string(item, expected)?;
            if !valid(name) {
                return Err(self.at_value(item, format!("invalid {what} {name:?}"), expected));
            }
            packages.push(name.to_owned());
        }
        Ok(packages)
    }
}

/// Whether `field` is the string `text`.
fn item_is(field: &Field<'_, '_>, text: &str) -> bool {
    matches!(field.value.get_ref(), DeValue::String(s) if s.as_ref() == text)
}
