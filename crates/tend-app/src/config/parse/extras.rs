//! `[docker.extras.NAME]`: the app's own extras, checked with the built-in ones.

use super::*;
use crate::docker::{Extra, ExtrasError, Registry};

const EXTRA_KEYS: &[&str] = &["apt", "pip", "pip_index", "needs"];
const NEEDS_EXPECTED: &str = r#"expected an array of extra names, like needs = ["python"]"#;

impl Ctx<'_> {
    /// The `[docker.extras]` tables, checked together with the built-in extras.
    pub(super) fn extras(&self, field: &Field<'_, '_>) -> Result<Registry, ConfigError> {
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

    pub(super) fn extras_error(&self, field: &Field<'_, '_>, error: &ExtrasError) -> ConfigError {
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
