//! From TOML text to a validated [`Config`].
//!
//! The text is parsed into `toml`'s spanned document tree ([`DeTable`]), which keeps the byte
//! span of every key and value, and that tree is walked by hand. Walking by hand (rather than
//! deriving `Deserialize`) is what lets every error name its dotted key path, point at the
//! exact line and column, and say what was expected in words a user can act on.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Diagnostic};
use super::types::{
    Backoff, Config, InflightConfig, LogConfig, MaxRestarts, ProgramConfig, RestartPolicy, Runner,
    StopPolicy, Watch,
};
use super::values::{self, NAME_EXPECTED, Rejection, is_valid_name, sanitize_name};

const ROOT_KEYS: &[&str] = &["name", "inflight", "log", "programs"];
const INFLIGHT_KEYS: &[&str] = &["max_age"];
const PROGRAM_KEYS: &[&str] = &[
    "command",
    "dir",
    "env",
    "env_files",
    "runner",
    "restart",
    "restart_exit_code",
    "backoff",
    "max_restarts",
    "stop",
    "watch",
    "log",
];
const BACKOFF_KEYS: &[&str] = &["initial", "max", "factor", "reset_after"];
const MAX_RESTARTS_KEYS: &[&str] = &["count", "within"];
const STOP_KEYS: &[&str] = &["signal", "timeout"];
const WATCH_KEYS: &[&str] = &["paths", "ignore", "debounce"];
const LOG_KEYS: &[&str] = &["max_size", "max_files"];

/// Most log files a program may keep.
const MAX_LOG_FILES: i64 = 1000;

/// Words that are shell syntax when they stand alone in a command string.
const SHELL_OPERATORS: &[&str] =
    &["|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "2>", "2>&1", "&>", "|&"];

const COMMAND_EXPECTED: &str =
    r#"expected a string like "python3 app.py" or an array like ["python3", "app.py"]"#;
const DURATION_EXPECTED: &str = r#"expected a duration string, like "10s""#;

type Value<'i> = Spanned<DeValue<'i>>;

/// Parses a file's bytes, reporting invalid UTF-8 at its place.
pub(super) fn parse_bytes(bytes: &[u8], path: &Path, disk: Disk) -> Result<Config, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_with(text, path, disk),
        Err(error) => {
            let valid = String::from_utf8_lossy(&bytes[..error.valid_up_to()]);
            let (line, column) = position(&valid, valid.len());
            Err(ConfigError::Invalid(Box::new(Diagnostic {
                file: path.display().to_string(),
                line,
                column,
                key: None,
                problem: "invalid TOML: the file is not valid UTF-8".to_owned(),
                expected: Some("expected UTF-8 text".to_owned()),
            })))
        }
    }
}

/// Parses `text` as the content of the file at `path`.
pub(super) fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    parse_with(text, path, Disk::Untouched)
}

/// Whether parsing looks at the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disk {
    /// Pure: nothing is checked on disk.
    Untouched,
    /// Files the config names (`env_files`) must exist; a missing one is an error at its
    /// position, as in docker compose, so that a program never runs without its secrets.
    Checked,
}

fn parse_with(text: &str, path: &Path, disk: Disk) -> Result<Config, ConfigError> {
    let folder = folder_of(path)?;
    let ctx = Ctx { file: path.display().to_string(), text, folder, disk };
    let root = DeTable::parse(text).map_err(|error| ctx.syntax(&error))?;
    ctx.config(root.get_ref())
}

/// The absolute folder of the config file, without `.` components; not touched on disk.
fn folder_of(path: &Path) -> Result<PathBuf, ConfigError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let absolute = std::path::absolute(parent)
        .map_err(|error| ConfigError::Folder { path: path.to_path_buf(), error })?;
    Ok(without_cur_dirs(&absolute))
}

fn without_cur_dirs(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, Component::CurDir)).collect()
}

/// The app name of a file that may not parse: the top-level `name = "…"` found by a plain scan
/// of the lines before the first table header, else the default (the folder's name). `None`
/// when neither is a valid name.
pub(super) fn partial_name(text: &str, path: &Path) -> Option<String> {
    let declared =
        text.lines().map(str::trim).take_while(|line| !line.starts_with('[')).find_map(|line| {
            let rest = line.strip_prefix("name")?.trim_start().strip_prefix('=')?.trim();
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = &rest[1..];
            Some(inner[..inner.find(quote)?].to_owned())
        });
    match declared {
        Some(name) => is_valid_name(&name).then_some(name),
        None => folder_of(path).ok().map(|folder| default_name(&folder)),
    }
}

/// The default app name: the folder's name (after resolving `..` lexically), sanitised.
fn default_name(folder: &Path) -> String {
    let mut lexical = PathBuf::new();
    for component in folder.components() {
        match component {
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    sanitize_name(&lexical.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
}

/// 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    // A byte order mark is not a column.
    let line_text = before[line_start..].strip_prefix('\u{feff}').unwrap_or(&before[line_start..]);
    (line, line_text.chars().count() + 1)
}

/// A dotted key path with `key` appended, quoting `key` when it is not a bare TOML key.
fn join_key(parent: &str, key: &str) -> String {
    let bare =
        !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare { key.to_owned() } else { format!("{key:?}") };
    if parent.is_empty() { key } else { format!("{parent}.{key}") }
}

/// How a value's type is called in messages.
fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A key and its value, with the dotted path that names it.
struct Field<'a, 'i> {
    /// The key as written (unquoted); for array items, the path's last part.
    name: &'a str,
    /// Dotted path, like `programs.web.backoff.initial` or `programs.web.command[1]`.
    path: String,
    key_span: Range<usize>,
    value: &'a Value<'i>,
}

/// The entries of a table, in file order.
struct Table<'a, 'i> {
    fields: Vec<Field<'a, 'i>>,
}

impl<'a, 'i> Table<'a, 'i> {
    fn get(&self, key: &str) -> Option<&Field<'a, 'i>> {
        self.fields.iter().find(|f| f.name == key)
    }
}

/// What the walk knows about the file.
struct Ctx<'t> {
    file: String,
    text: &'t str,
    folder: PathBuf,
    disk: Disk,
}

impl Ctx<'_> {
    // ----- errors -------------------------------------------------------------------------

    fn error(
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
    fn at_value(
        &self,
        field: &Field<'_, '_>,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> ConfigError {
        self.error(field.value.span().start, Some(&field.path), problem, Some(expected.into()))
    }

    /// An error about `field`'s key, pointing at the key.
    fn at_key(
        &self,
        field: &Field<'_, '_>,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> ConfigError {
        self.error(field.key_span.start, Some(&field.path), problem, Some(expected.into()))
    }

    fn wrong_type(&self, field: &Field<'_, '_>, expected: impl Into<String>) -> ConfigError {
        let found = describe(field.value.get_ref());
        self.at_value(field, format!("wrong type: found {found}"), expected)
    }

    fn rejected(&self, field: &Field<'_, '_>, rejection: Rejection) -> ConfigError {
        self.at_value(field, rejection.problem, rejection.expected)
    }

    /// A TOML syntax error, reshaped into the common form.
    fn syntax(&self, error: &toml::de::Error) -> ConfigError {
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
    fn entries<'a, 'i>(
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

    fn table<'a, 'i>(
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
    fn items<'a, 'i>(
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
    fn string<'a>(&self, field: &Field<'a, '_>, expected: &str) -> Result<&'a str, ConfigError> {
        match field.value.get_ref() {
            DeValue::String(text) if text.contains('\0') => {
                Err(self.at_value(field, "the string contains a NUL character", expected))
            }
            DeValue::String(text) => Ok(text.as_ref()),
            _ => Err(self.wrong_type(field, expected)),
        }
    }

    /// A string that is not empty or only whitespace.
    fn nonempty_string<'a>(
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
    fn string_list<'a>(
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

    fn integer(&self, field: &Field<'_, '_>, expected: &str) -> Result<i64, ConfigError> {
        match field.value.get_ref() {
            DeValue::Integer(integer) => i64::from_str_radix(integer.as_str(), integer.radix())
                .map_err(|_| self.at_value(field, format!("{integer} is too large"), expected)),
            _ => Err(self.wrong_type(field, expected)),
        }
    }

    fn duration(&self, field: &Field<'_, '_>) -> Result<Duration, ConfigError> {
        let text = self.string(field, DURATION_EXPECTED)?;
        values::parse_duration(text).map_err(|rejection| self.rejected(field, rejection))
    }

    /// The files of `env_files`, absolute; with [`Disk::Checked`], each must exist.
    fn env_files(&self, field: &Field<'_, '_>) -> Result<Vec<PathBuf>, ConfigError> {
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
    fn resolve(&self, relative: &str) -> PathBuf {
        without_cur_dirs(&self.folder.join(relative))
    }

    // ----- the config ---------------------------------------------------------------------

    fn config(&self, root: &DeTable<'_>) -> Result<Config, ConfigError> {
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
        Ok(Config { name, folder: self.folder.clone(), log, inflight, programs })
    }

    fn program(&self, field: &Field<'_, '_>, log: LogConfig) -> Result<ProgramConfig, ConfigError> {
        if !is_valid_name(field.name) {
            return Err(self.at_key(
                field,
                format!("invalid program name {:?}", field.name),
                NAME_EXPECTED,
            ));
        }
        let table = self.table(
            field,
            Some(PROGRAM_KEYS),
            &format!(r#"expected a table, like [{}] with command = "...""#, field.path),
        )?;
        let Some(command) = table.get("command") else {
            return Err(self.at_key(
                field,
                "missing key `command`",
                r#"expected the program to run, like command = "python3 app.py""#,
            ));
        };
        let mut program =
            ProgramConfig::new(field.name, self.command(command)?, self.folder.clone());
        program.log = log;
        for field in &table.fields {
            match field.name {
                "dir" => {
                    let dir = self.nonempty_string(
                        field,
                        r#"expected a folder relative to tend.toml, like "web""#,
                    )?;
                    program.dir = self.resolve(dir);
                }
                "env" => program.env = self.env(field)?,
                "env_files" => program.env_files = self.env_files(field)?,
                "runner" => {
                    let expected = "expected one of: native, docker, nix, auto";
                    let name = self.string(field, expected)?;
                    program.runner = Runner::from_name(name).ok_or_else(|| {
                        self.at_value(field, format!("unknown runner {name:?}"), expected)
                    })?;
                }
                "restart" => {
                    let expected = "expected one of: always, on-failure, never";
                    let name = self.string(field, expected)?;
                    program.restart = name.parse::<RestartPolicy>().map_err(|_| {
                        self.at_value(field, format!("unknown restart policy {name:?}"), expected)
                    })?;
                }
                "restart_exit_code" => program.restart_exit_code = self.restart_exit_code(field)?,
                "log" => program.log = self.log(field, log)?,
                // `command` is done; `backoff`, `max_restarts`, `stop` and `watch` come after
                // the loop, as `watch` depends on `dir`.
                _ => {}
            }
        }
        if let Some(field) = table.get("backoff") {
            program.backoff = self.backoff(field)?;
        }
        if let Some(field) = table.get("max_restarts") {
            program.max_restarts = self.max_restarts(field)?;
        }
        if let Some(field) = table.get("stop") {
            program.stop = self.stop(field)?;
        }
        if let Some(field) = table.get("watch") {
            program.watch = self.watch(field, &program.dir)?;
        }
        Ok(program)
    }

    fn command(&self, field: &Field<'_, '_>) -> Result<Vec<String>, ConfigError> {
        let empty_program = r#"expected the program to run first, like "python3""#;
        match field.value.get_ref() {
            DeValue::String(_) => {
                let text = self.string(field, COMMAND_EXPECTED)?;
                let Some(words) = shlex::split(text) else {
                    return Err(self.at_value(
                        field,
                        format!("cannot split command {text:?}: unterminated quote or trailing backslash"),
                        "expected balanced quotes, or an array of arguments",
                    ));
                };
                match words.first() {
                    None => return Err(self.at_value(field, "empty command", COMMAND_EXPECTED)),
                    Some(first) if first.trim().is_empty() => {
                        return Err(self.at_value(field, "empty program name", empty_program));
                    }
                    Some(_) => {}
                }
                if let Some(operator) = text
                    .split_whitespace()
                    .find(|word| SHELL_OPERATORS.contains(word))
                    .filter(|operator| words.iter().any(|word| word == operator))
                {
                    return Err(self.at_value(
                        field,
                        format!("`{operator}` is shell syntax, but commands run without a shell"),
                        format!("expected plain arguments; for a shell use command = [\"sh\", \"-c\", {text:?}]"),
                    ));
                }
                Ok(words)
            }
            DeValue::Array(_) => {
                let items = self.items(field, COMMAND_EXPECTED)?;
                if items.is_empty() {
                    return Err(self.at_value(field, "empty command", COMMAND_EXPECTED));
                }
                let mut words = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let word = self.string(item, "expected a string")?;
                    if i == 0 && word.trim().is_empty() {
                        return Err(self.at_value(item, "empty program name", empty_program));
                    }
                    words.push(word.to_owned());
                }
                Ok(words)
            }
            _ => Err(self.wrong_type(field, COMMAND_EXPECTED)),
        }
    }

    fn env(&self, field: &Field<'_, '_>) -> Result<BTreeMap<String, String>, ConfigError> {
        let expected = r#"expected a table of strings, like env = { PORT = "8000" }"#;
        let value_expected = r#"expected a string, like PORT = "8000""#;
        let table = self.table(field, None, expected)?;
        let mut env = BTreeMap::new();
        for var in &table.fields {
            if var.name.is_empty() || var.name.contains(['=', '\0']) {
                return Err(self.at_key(
                    var,
                    format!("invalid variable name {:?}", var.name),
                    "expected a name without '=', like PORT",
                ));
            }
            let value = match var.value.get_ref() {
                DeValue::String(_) => self.string(var, value_expected)?.to_owned(),
                DeValue::Integer(_) => self.integer(var, value_expected)?.to_string(),
                DeValue::Float(float) => float.as_str().to_owned(),
                DeValue::Boolean(boolean) => boolean.to_string(),
                _ => return Err(self.wrong_type(var, value_expected)),
            };
            env.insert(var.name.to_owned(), value);
        }
        Ok(env)
    }

    fn restart_exit_code(&self, field: &Field<'_, '_>) -> Result<Option<i32>, ConfigError> {
        let expected = "expected an exit code from 1 to 255, like 42, or false to turn it off";
        match field.value.get_ref() {
            DeValue::Boolean(false) => Ok(None),
            DeValue::Boolean(true) => {
                Err(self.at_value(field, "true is not an exit code", expected))
            }
            _ => {
                let code = self.integer(field, expected)?;
                match i32::try_from(code) {
                    Ok(code @ 1..=255) => Ok(Some(code)),
                    _ => Err(self.at_value(
                        field,
                        format!("exit code {code} is out of range"),
                        expected,
                    )),
                }
            }
        }
    }

    fn backoff(&self, field: &Field<'_, '_>) -> Result<Backoff, ConfigError> {
        let table = self.table(
            field,
            Some(BACKOFF_KEYS),
            r#"expected a table, like backoff = { initial = "1s", max = "1m" }"#,
        )?;
        let mut backoff = Backoff::default();
        for field in &table.fields {
            match field.name {
                "initial" => backoff.initial = self.duration(field)?,
                "max" => backoff.max = self.duration(field)?,
                "reset_after" => backoff.reset_after = self.duration(field)?,
                "factor" => {
                    let expected = "expected a number of at least 1, like 2.0";
                    let factor = match field.value.get_ref() {
                        DeValue::Float(float) => float.as_str().parse::<f64>().ok(),
                        DeValue::Integer(_) => Some(self.integer(field, expected)? as f64),
                        _ => return Err(self.wrong_type(field, expected)),
                    };
                    match factor {
                        Some(factor) if factor.is_finite() && factor >= 1.0 => {
                            backoff.factor = factor;
                        }
                        Some(factor) if factor < 1.0 => {
                            return Err(self.at_value(
                                field,
                                format!("{factor} is less than 1"),
                                expected,
                            ));
                        }
                        _ => return Err(self.at_value(field, "not a finite number", expected)),
                    }
                }
                _ => {}
            }
        }
        if backoff.max < backoff.initial {
            let (initial, max) = (
                humantime::format_duration(backoff.initial),
                humantime::format_duration(backoff.max),
            );
            return Err(match (table.get("max"), table.get("initial")) {
                (Some(max_field), _) => self.at_value(
                    max_field,
                    format!("{max} is less than backoff.initial ({initial})"),
                    "expected at least backoff.initial",
                ),
                (None, Some(initial_field)) => self.at_value(
                    initial_field,
                    format!("{initial} is more than backoff.max ({max}, the default)"),
                    "expected at most backoff.max; set backoff.max too",
                ),
                (None, None) => {
                    self.at_value(field, "max is less than initial", "expected max ≥ initial")
                }
            });
        }
        Ok(backoff)
    }

    fn max_restarts(&self, field: &Field<'_, '_>) -> Result<MaxRestarts, ConfigError> {
        let table = self.table(
            field,
            Some(MAX_RESTARTS_KEYS),
            r#"expected a table, like max_restarts = { count = 10, within = "1m" }"#,
        )?;
        let mut max_restarts = MaxRestarts::default();
        for field in &table.fields {
            match field.name {
                "count" => {
                    let expected = "expected a number of restarts, like 10";
                    let count = self.integer(field, expected)?;
                    max_restarts.count = u32::try_from(count).map_err(|_| {
                        self.at_value(field, format!("{count} is out of range"), expected)
                    })?;
                }
                "within" => {
                    let within = self.duration(field)?;
                    if within.is_zero() {
                        return Err(self.at_value(
                            field,
                            "zero duration",
                            r#"expected a time window, like "1m""#,
                        ));
                    }
                    max_restarts.within = within;
                }
                _ => {}
            }
        }
        Ok(max_restarts)
    }

    fn stop(&self, field: &Field<'_, '_>) -> Result<StopPolicy, ConfigError> {
        let table = self.table(
            field,
            Some(STOP_KEYS),
            r#"expected a table, like stop = { signal = "TERM", timeout = "10s" }"#,
        )?;
        let mut stop = StopPolicy::default();
        for field in &table.fields {
            match field.name {
                "signal" => {
                    let expected = format!(
                        "expected one of: {}; by name (TERM, SIGTERM) or number",
                        values::SIGNALS.join(", ")
                    );
                    let signal = match field.value.get_ref() {
                        DeValue::String(_) => {
                            let text = self.string(field, &expected)?;
                            values::normalize_signal(text).ok_or_else(|| {
                                self.at_value(field, format!("unknown signal {text:?}"), &expected)
                            })?
                        }
                        DeValue::Integer(_) => {
                            let number = self.integer(field, &expected)?;
                            i32::try_from(number)
                                .ok()
                                .and_then(values::signal_of_number)
                                .ok_or_else(|| {
                                    self.at_value(
                                        field,
                                        format!("unknown signal {number}"),
                                        &expected,
                                    )
                                })?
                        }
                        _ => return Err(self.wrong_type(field, expected)),
                    };
                    stop.signal = signal;
                }
                "timeout" => stop.grace = self.duration(field)?,
                _ => {}
            }
        }
        Ok(stop)
    }

    fn watch(&self, field: &Field<'_, '_>, dir: &Path) -> Result<Option<Watch>, ConfigError> {
        let expected = r#"expected a table, like watch = { paths = ["src"] }, or true"#;
        let table = match field.value.get_ref() {
            DeValue::Boolean(true) => return Ok(Some(Watch::new(vec![dir.to_path_buf()]))),
            DeValue::Boolean(false) => return Ok(None),
            _ => self.table(field, Some(WATCH_KEYS), expected)?,
        };
        let mut watch = Watch::new(vec![dir.to_path_buf()]);
        for field in &table.fields {
            match field.name {
                "paths" => {
                    let expected = r#"expected an array of files or folders relative to the program's dir, like ["src"]"#;
                    let paths = self.string_list(field, expected)?;
                    if paths.is_empty() {
                        return Err(self.at_value(field, "no paths", expected));
                    }
                    watch.paths =
                        paths.into_iter().map(|p| without_cur_dirs(&dir.join(p))).collect();
                }
                "ignore" => {
                    let expected =
                        r#"expected an array of glob patterns, like ["**/__pycache__/**"]"#;
                    let patterns = self.string_list(field, expected)?;
                    let items = match field.value.get_ref() {
                        DeValue::Array(_) => self.items(field, expected)?,
                        _ => Vec::new(),
                    };
                    for (i, pattern) in patterns.iter().enumerate() {
                        if let Err(error) = globset::Glob::new(pattern) {
                            let at = items.get(i).unwrap_or(field);
                            return Err(self.at_value(
                                at,
                                format!("invalid glob {pattern:?}: {}", error.kind()),
                                expected,
                            ));
                        }
                    }
                    watch.ignore = patterns.into_iter().map(str::to_owned).collect();
                }
                "debounce" => watch.debounce = self.duration(field)?,
                _ => {}
            }
        }
        Ok(Some(watch))
    }

    fn inflight(&self, field: &Field<'_, '_>) -> Result<InflightConfig, ConfigError> {
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

    fn log(&self, field: &Field<'_, '_>, base: LogConfig) -> Result<LogConfig, ConfigError> {
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
