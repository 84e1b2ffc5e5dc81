//! From TOML text to a validated [`Config`].
//!
//! The text is parsed into `toml`'s spanned document tree ([`DeTable`]), which keeps the byte
//! span of every key and value, and that tree is walked by hand. Walking by hand (rather than
//! deriving `Deserialize`) is what lets every error name its dotted key path, point at the
//! exact line and column, and say what was expected in words a user can act on.
//!
//! This module holds the entry points and the walk's shared state; `fields` reads generic
//! values (strings, durations, tables) and builds diagnostics, `root` the top-level tables,
//! `program` one `[programs.NAME]` table, `docker` the `[docker]` table (`mounts` its mounts,
//! `extras` its extras).

mod docker;
mod extras;
mod fields;
mod mounts;
mod program;
mod root;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Diagnostic};
use super::types::{
    Backoff, Config, InflightConfig, LogConfig, MaxRestarts, NixConfig, ProgramConfig,
    RestartPolicy, Runner, StopPolicy, UpdateConfig, Watch,
};
use super::values::{self, NAME_EXPECTED, Rejection, is_valid_name, sanitize_name};

const ROOT_KEYS: &[&str] = &["name", "inflight", "log", "programs", "docker", "nix", "update"];
const NIX_KEYS: &[&str] = &["flake"];
const UPDATE_KEYS: &[&str] = &["check", "channel", "index", "releases"];
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
