//! Reading generic values of the walk (strings, lists, durations, tables) and the diagnostics
//! that point at them.

use super::*;

impl Ctx<'_> {
    // ----- errors -------------------------------------------------------------------------

    pub(super) fn error(
        &self,
        offset: usize,
        key: Option<&str>,
        problem: impl Into<String>,
        expected: Option<String>,
    ) -> ConfigError {
        let (line, column) = position(self.text, offset);
        ConfigError::Invalid(Box::new(Diagnostic {
            file: self.file.clone(),
            line,
            column,
            key: key.map(str::to_owned),
            problem: problem.into(),
            expected,
        }))
    }

    /// An error about `field`'s value, pointing at the value.
    pub(super) fn at_value(
        &self,
        field: &Field<'_, '_>,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> ConfigError {
        self.error(field.value.span().start, Some(&field.path), problem, Some(expected.into()))
    }

    /// An error about `field`'s key, pointing at the key.
    pub(super) fn at_key(
        &self,
        field: &Field<'_, '_>,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> ConfigError {
        self.error(field.key_span.start, Some(&field.path), problem, Some(expected.into()))
    }

    pub(super) fn wrong_type(
        &self,
        field: &Field<'_, '_>,
        expected: impl Into<String>,
    ) -> ConfigError {
        let found = describe(field.value.get_ref());
        self.at_value(field, format!("wrong type: found {found}"), expected)
    }

    pub(super) fn rejected(&self, field: &Field<'_, '_>, rejection: Rejection) -> ConfigError {
        self.at_value(field, rejection.problem, rejection.expected)
    }

    /// A TOML syntax error, reshaped into the common form.
    pub(super) fn syntax(&self, error: &toml::de::Error) -> ConfigError {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim().replace('\n', "; ");
        let (problem, expected) = match message.split_once(", expected ") {
            Some((problem, expected)) => (problem.to_owned(), Some(format!("expected {expected}"))),
            None => (message.clone(), None),
        };
        let (problem, expected) = if problem == "duplicate key" {
            let key = self.text.get(span.clone()).unwrap_or_default();
            (format!("duplicate key `{key}`"), Some("expected each key once per table".to_owned()))
        } else {
            (problem, expected)
        };
        self.error(span.start, None, format!("invalid TOML: {problem}"), expected)
    }

    // ----- generic values -----------------------------------------------------------------

    /// The entries of `table`, checked against `allowed` keys (any key if `None`).
    pub(super) fn entries<'a, 'i>(
        &self,
        table: &'a DeTable<'i>,
        path: &str,
        allowed: Option<&[&str]>,
    ) -> Result<Table<'a, 'i>, ConfigError> {
        let mut fields: Vec<Field<'a, 'i>> = table
            .iter()
            .map(|(key, value)| Field {
                name: key.get_ref().as_ref(),
                path: join_key(path, key.get_ref()),
                key_span: key.span(),
                value,
            })
            .collect();
        fields.sort_by_key(|f| f.key_span.start);
        if let Some(allowed) = allowed
            && let Some(unknown) = fields.iter().find(|f| !allowed.contains(&f.name))
        {
            let place = if path.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("in [{path}]")
            };
            return Err(self.error(
                unknown.key_span.start,
                None,
                format!("unknown key `{}` {place}", unknown.name),
                Some(format!("expected one of: {}", allowed.join(", "))),
            ));
        }
        Ok(Table { fields })
    }

    pub(super) fn table<'a, 'i>(
        &self,
        field: &Field<'a, 'i>,
        allowed: Option<&[&str]>,
        expected: &str,
    ) -> Result<Table<'a, 'i>, ConfigError> {
        match field.value.get_ref() {
            DeValue::Table(table) => self.entries(table, &field.path, allowed),
            _ => Err(self.wrong_type(field, expected)),
        }
    }

    /// The items of an array, as fields named `path[i]`.
    pub(super) fn items<'a, 'i>(
        &self,
        field: &Field<'a, 'i>,
        expected: &str,
    ) -> Result<Vec<Field<'a, 'i>>, ConfigError> {
        match field.value.get_ref() {
            DeValue::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, value)| Field {
                    name: field.name,
                    path: format!("{}[{i}]", field.path),
                    key_span: value.span(),
                    value,
                })
                .collect()),
            _ => Err(self.wrong_type(field, expected)),
        }
    }

    /// A string without NUL characters (which no OS accepts in names, arguments or paths).
    pub(super) fn string<'a>(
        &self,
        field: &Field<'a, '_>,
        expected: &str,
    ) -> Result<&'a str, ConfigError> {
        match field.value.get_ref() {
            DeValue::String(text) if text.contains('\0') => {
                Err(self.at_value(field, "the string contains a NUL character", expected))
            }
            DeValue::String(text) => Ok(text.as_ref()),
            _ => Err(self.wrong_type(field, expected)),
        }
    }

    /// A string that is not empty or only whitespace.
    pub(super) fn nonempty_string<'a>(
        &self,
        field: &Field<'a, '_>,
        expected: &str,
    ) -> Result<&'a str, ConfigError> {
        let text = self.string(field, expected)?;
        if text.trim().is_empty() {
            return Err(self.at_value(field, "empty string", expected));
        }
        Ok(text)
    }

    /// One non-empty string, or an array of them.
    pub(super) fn string_list<'a>(
        &self,
        field: &Field<'a, '_>,
        expected: &str,
    ) -> Result<Vec<&'a str>, ConfigError> {
        if let DeValue::String(_) = field.value.get_ref() {
            return Ok(vec![self.nonempty_string(field, expected)?]);
        }
        self.items(field, expected)?
            .iter()
            .map(|item| self.nonempty_string(item, expected))
            .collect()
    }

    pub(super) fn integer(
        &self,
        field: &Field<'_, '_>,
        expected: &str,
    ) -> Result<i64, ConfigError> {
        match field.value.get_ref() {
            DeValue::Integer(integer) => i64::from_str_radix(integer.as_str(), integer.radix())
                .map_err(|_| self.at_value(field, format!("{integer} is too large"), expected)),
            _ => Err(self.wrong_type(field, expected)),
        }
    }

    pub(super) fn duration(&self, field: &Field<'_, '_>) -> Result<Duration, ConfigError> {
        let text = self.string(field, DURATION_EXPECTED)?;
        values::parse_duration(text).map_err(|rejection| self.rejected(field, rejection))
    }

    /// The files of `env_files`, absolute; with [`Disk::Checked`], each must exist.
    pub(super) fn env_files(&self, field: &Field<'_, '_>) -> Result<Vec<PathBuf>, ConfigError> {
        let expected = r#"expected an array of files relative to tend.toml, like [".env"]"#;
        let items = match field.value.get_ref() {
            DeValue::String(_) => vec![Field {
                name: field.name,
                path: field.path.clone(),
                key_span: field.key_span.clone(),
                value: field.value,
            }],
            _ => self.items(field, expected)?,
        };
        let mut files = Vec::with_capacity(items.len());
        for item in &items {
            let file = self.resolve(self.nonempty_string(item, expected)?);
            if self.disk == Disk::Checked {
                match std::fs::metadata(&file) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(self.at_value(
                            item,
                            format!("{} does not exist", file.display()),
                            "expected an existing file: create it, or remove it from env_files \
                             (only the implicit .env files are optional)",
                        ));
                    }
                    // Unreadable files are told when the program starts, with what to do.
                    Err(_) => {}
                }
            }
            files.push(file);
        }
        Ok(files)
    }

    /// An absolute path from a path relative to the folder.
    pub(super) fn resolve(&self, relative: &str) -> PathBuf {
        without_cur_dirs(&self.folder.join(relative))
    }
}
