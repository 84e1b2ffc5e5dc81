//! `[docker] mounts`: absolute, existing sources, and targets of their own.

use super::*;
use crate::config::docker::Mount;
use crate::docker::FIXED_TARGETS;

const MOUNT_KEYS: &[&str] = &["source", "target", "ro"];
const MOUNTS_EXPECTED: &str = r#"expected an array of absolute paths or tables, like mounts = ["/srv/data", { source = "/var/cache/app", target = "/cache", ro = true }]"#;
const MOUNT_SOURCE_EXPECTED: &str = "expected an absolute path on this machine";
const TARGET_EXPECTED: &str = r#"expected an absolute path in the container, like "/cache""#;

impl Ctx<'_> {
    pub(super) fn mounts(&self, field: &Field<'_, '_>) -> Result<Vec<Mount>, ConfigError> {
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
}
