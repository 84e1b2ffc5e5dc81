//! The top level of `tend.toml`: `name`, `[log]`, `[inflight]`, the `[programs]` table and
//! `[docker]`, `[nix]` and `[update]`.

use super::*;

impl Ctx<'_> {
    // ----- the config ---------------------------------------------------------------------

    pub(super) fn config(&self, root: &DeTable<'_>) -> Result<Config, ConfigError> {
        let root = self.entries(root, "", Some(ROOT_KEYS))?;
        let name = match root.get("name") {
            Some(field) => {
                let name = self.string(field, r#"expected a string, like name = "demo""#)?;
                if !is_valid_name(name) {
                    return Err(self.at_value(
                        field,
                        format!("invalid app name {name:?}"),
                        NAME_EXPECTED,
                    ));
                }
                name.to_owned()
            }
            None => default_name(&self.folder),
        };
        let log = match root.get("log") {
            Some(field) => self.log(field, LogConfig::default())?,
            None => LogConfig::default(),
        };
        let inflight = match root.get("inflight") {
            Some(field) => self.inflight(field)?,
            None => InflightConfig::default(),
        };
        const NO_PROGRAMS: &str = r#"expected at least one [programs.NAME] table, like [programs.web] with command = "...""#;
        let Some(programs) = root.get("programs") else {
            return Err(self.error(0, None, "no programs defined", Some(NO_PROGRAMS.to_owned())));
        };
        let table = self.table(
            programs,
            None,
            "expected a table of programs, like [programs.web] (not [[programs]])",
        )?;
        if table.fields.is_empty() {
            return Err(self.at_key(programs, "no programs defined", NO_PROGRAMS));
        }
        let programs = table
            .fields
            .iter()
            .map(|field| self.program(field, log))
            .collect::<Result<Vec<_>, _>>()?;
        let docker =
            root.get("docker").map(|field| self.docker(field).map(Box::new)).transpose()?;
        let nix = match root.get("nix") {
            Some(field) => self.nix(field)?,
            None => NixConfig::default(),
        };
        let update = match root.get("update") {
            Some(field) => self.update(field)?,
            None => UpdateConfig::default(),
        };
        Ok(Config {
            name,
            folder: self.folder.clone(),
            log,
            inflight,
            programs,
            docker,
            nix,
            update,
        })
    }

    /// `[nix]`: `flake`, the folder of the flake (relative to tend.toml); with
    /// [`Disk::Checked`] it must be a folder holding `flake.nix`.
    pub(super) fn nix(&self, field: &Field<'_, '_>) -> Result<NixConfig, ConfigError> {
        let table = self.table(
            field,
            Some(NIX_KEYS),
            r#"expected a table, like [nix] with flake = "nix" (the folder holding flake.nix)"#,
        )?;
        let mut nix = NixConfig::default();
        if let Some(field) = table.get("flake") {
            let expected = r#"expected the folder holding flake.nix, relative to tend.toml, like flake = "." or flake = "nix""#;
            let dir = self.resolve(self.nonempty_string(field, expected)?);
            if self.disk == Disk::Checked && !tend_runner::has_flake(&dir) {
                let found = if dir.is_file() {
                    format!("{} is a file, not a folder", dir.display())
                } else if dir.is_dir() {
                    format!("{} has no flake.nix", dir.display())
                } else {
                    format!("{} does not exist", dir.display())
                };
                return Err(self.at_value(field, found, expected));
            }
            nix.flake = Some(dir);
        }
        Ok(nix)
    }

    pub(super) fn update(&self, field: &Field<'_, '_>) -> Result<UpdateConfig, ConfigError> {
        let table = self.table(
            field,
            Some(UPDATE_KEYS),
            r#"expected a table, like [update] with check = false"#,
        )?;
        let mut update = UpdateConfig::default();
        for field in &table.fields {
            match field.name {
                "check" => {
                    let DeValue::Boolean(check) = field.value.get_ref() else {
                        return Err(self.wrong_type(field, "expected true or false"));
                    };
                    update.check = *check;
                }
                "channel" => {
                    const EXPECTED: &str = r#"expected "stable" or "pre""#;
                    update.channel = match self.string(field, EXPECTED)? {
                        "stable" => tend_update::Channel::Stable,
                        "pre" => tend_update::Channel::Pre,
                        other => {
                            return Err(self.at_value(
                                field,
                                format!("unknown channel {other:?}"),
                                EXPECTED,
                            ));
                        }
                    };
                }
                "index" | "releases" => {
                    const EXPECTED: &str =
                        r#"expected an http(s) URL, like "https://index.crates.io""#;
                    let url = self.string(field, EXPECTED)?;
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        return Err(self.at_value(
                            field,
                            format!("{url:?} is not a URL"),
                            EXPECTED,
                        ));
                    }
                    let url = Some(url.trim_end_matches('/').to_owned());
                    if field.name == "index" { update.index = url } else { update.releases = url }
                }
                _ => {}
            }
        }
        Ok(update)
    }

    pub(super) fn inflight(&self, field: &Field<'_, '_>) -> Result<InflightConfig, ConfigError> {
        let table = self.table(
            field,
            Some(INFLIGHT_KEYS),
            r#"expected a table, like [inflight] with max_age = "1h""#,
        )?;
        let mut inflight = InflightConfig::default();
        if let Some(field) = table.get("max_age") {
            inflight.max_age = self.duration(field)?;
        }
        Ok(inflight)
    }

    pub(super) fn log(
        &self,
        field: &Field<'_, '_>,
        base: LogConfig,
    ) -> Result<LogConfig, ConfigError> {
        let table = self.table(
            field,
            Some(LOG_KEYS),
            r#"expected a table, like log = { max_size = "10MiB", max_files = 5 }"#,
        )?;
        let mut log = base;
        for field in &table.fields {
            match field.name {
                "max_size" => {
                    let expected = r#"expected a size, like "10MiB", "500KB" or a number of bytes"#;
                    let size = match field.value.get_ref() {
                        DeValue::String(_) => values::parse_size(self.string(field, expected)?),
                        DeValue::Integer(_) => {
                            let bytes = self.integer(field, expected)?;
                            match u64::try_from(bytes) {
                                Ok(bytes) => values::check_size(bytes),
                                Err(_) => {
                                    return Err(self.at_value(field, "negative size", expected));
                                }
                            }
                        }
                        _ => return Err(self.wrong_type(field, expected)),
                    };
                    log.max_size = size.map_err(|rejection| self.rejected(field, rejection))?;
                }
                "max_files" => {
                    let expected = format!(
                        "expected a number of files from 1 to {MAX_LOG_FILES}, counting the current one"
                    );
                    let count = self.integer(field, &expected)?;
                    match u32::try_from(count) {
                        Ok(count) if (1..=MAX_LOG_FILES).contains(&i64::from(count)) => {
                            log.max_files = count;
                        }
                        _ => {
                            return Err(self.at_value(
                                field,
                                format!("{count} is out of range"),
                                expected,
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(log)
    }
}
