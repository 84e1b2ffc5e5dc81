//! Parsers for scalar values: names, durations, sizes, signals.

use std::time::Duration;

use tend_runner::Signal;

/// What a valid app or program name looks like, for messages.
pub(crate) const NAME_EXPECTED: &str =
    "expected letters, digits, '.', '_' or '-', starting with a letter or digit";

/// Stop signals accepted in `stop.signal`, by their name without `SIG`.
pub const SIGNALS: &[&str] = tend_runner::SIGNAL_NAMES;

/// The longest duration accepted anywhere in the config.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Whether `name` is a valid app or program name: `[A-Za-z0-9][A-Za-z0-9._-]*`.
///
/// Such names are safe as file names on every platform (no separators, never `.` or `..`).
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Makes a valid name out of any text (a folder name, a command's base name).
///
/// Runs of other characters become one `-`; leading `.`, `_`, `-` and trailing `-` are
/// dropped; an empty result becomes `"app"`. `"My Project"` gives `"My-Project"`.
pub fn sanitize_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            if out.is_empty() && !c.is_ascii_alphanumeric() {
                continue;
            }
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() { "app".to_owned() } else { trimmed.to_owned() }
}

/// Interpreters whose own name says nothing about the program they run.
const INTERPRETERS: [&str; 16] = [
    "python", "python2", "python3", "pypy", "pypy3", "node", "nodejs", "deno", "bun", "ruby",
    "perl", "php", "sh", "bash", "zsh", "dash",
];

/// The default app name of `tend run -- COMMAND…`: the command's base name, or, for a known
/// interpreter (`python3`, `node`, `bash`, …), its script's file stem or its `-m` module, so
/// that `tend run -- python3 a.py` and `tend run -- python3 b.py` do not collide.
///
/// # Errors
/// For an interpreter given its code inline (`-c`, `-e`, `--eval`): no name can be told; the
/// message says to pass `--name`.
///
/// ```
/// use tend_app::config::run_name;
/// let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert_eq!(run_name(&words("/usr/bin/python3 -u a.py --port 1")).unwrap(), "a");
/// assert_eq!(run_name(&words("python3 -m http.server 8000")).unwrap(), "http.server");
/// assert_eq!(run_name(&words("redis-server --port 7000")).unwrap(), "redis-server");
/// assert!(run_name(&words("sh -c true")).is_err());
/// ```
pub fn run_name(command: &[String]) -> Result<String, String> {
    let base = |word: &str| {
        std::path::Path::new(word)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let Some((binary, args)) = command.split_first() else {
        return Ok(sanitize_name(""));
    };
    let binary = base(binary);
    // `python3.12` is `python3`.
    let family = binary.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let known = INTERPRETERS.contains(&binary.as_str()) || INTERPRETERS.contains(&family);
    if !known {
        return Ok(sanitize_name(&binary));
    }
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-m" => {
                if let Some(module) = words.next() {
                    return Ok(sanitize_name(module));
                }
            }
            "-c" | "-e" | "--eval" | "-p" | "--print" => {
                return Err(format!(
                    "cannot tell a name for `{binary} {word} …` (inline code); pass --name NAME"
                ));
            }
            "-W" | "-X" | "-r" | "--require" | "-I" => {
                words.next();
            }
            "--" => {}
            option if option.starts_with('-') => {}
            script => {
                let stem = std::path::Path::new(script)
                    .file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Ok(sanitize_name(&stem));
            }
        }
    }
    Ok(sanitize_name(&binary))
}

/// Why a value was rejected: the problem and what was expected, for a diagnostic.
pub(crate) struct Rejection {
    pub(crate) problem: String,
    pub(crate) expected: String,
}

impl Rejection {
    fn new(problem: impl Into<String>, expected: impl Into<String>) -> Rejection {
        Rejection { problem: problem.into(), expected: expected.into() }
    }
}

/// Parses a humantime duration like `500ms`, `1.5s`, `1h 30m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, Rejection> {
    let duration = humantime::parse_duration(text.trim()).map_err(|_| {
        Rejection::new(
            format!("invalid duration {text:?}"),
            "expected a number and a unit, like 500ms, 10s or 2m",
        )
    })?;
    if duration > MAX_DURATION {
        return Err(Rejection::new(
            format!("duration {text:?} is too long"),
            "expected at most 365 days",
        ));
    }
    Ok(duration)
}

const SIZE_EXPECTED: &str =
    "expected a number of bytes, or a number and a unit, like 500KB, 10MiB or 1GB";

/// Parses a size: integer bytes, or a number and one of B, KB, MB, GB (powers of 1000),
/// KiB, MiB, GiB (powers of 1024), case-insensitive, with optional space between.
pub(crate) fn parse_size(text: &str) -> Result<u64, Rejection> {
    let invalid = || Rejection::new(format!("invalid size {text:?}"), SIZE_EXPECTED);
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let multiplier: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(invalid()),
    };
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(invalid());
    }
    let bytes = if number.contains('.') {
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let bytes = (value * multiplier as f64).floor();
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(too_large(text));
        }
        bytes as u64
    } else {
        let value: u64 = number.parse().map_err(|_| too_large(text))?;
        value.checked_mul(multiplier).ok_or_else(|| too_large(text))?
    };
    check_size(bytes)
}

fn too_large(text: &str) -> Rejection {
    Rejection::new(format!("size {text:?} is too large"), SIZE_EXPECTED)
}

/// Checks a size given as a number of bytes.
pub(crate) fn check_size(bytes: u64) -> Result<u64, Rejection> {
    if bytes == 0 {
        return Err(Rejection::new("zero size", "expected more than 0 bytes"));
    }
    Ok(bytes)
}

/// The signal given by name (`TERM`, `SIGTERM`, `term`) or number (`"15"`), if it is one of
/// [`SIGNALS`]. The names and numbers are the runner's ([`tend_runner::Signal`]), so the
/// config accepts exactly what tend can send.
pub fn normalize_signal(text: &str) -> Option<Signal> {
    match text.trim().parse::<Signal>().ok()? {
        Signal::Custom(number) => signal_of_number(number),
        signal => Some(signal),
    }
}

/// The named signal (one of [`SIGNALS`]) with this number on this platform.
pub fn signal_of_number(number: i32) -> Option<Signal> {
    Signal::name_of(number)?.parse::<Signal>().ok()
}

/// The number of a signal named as in [`SIGNALS`] (`"TERM"`) on this platform.
///
/// On Windows, which has no signals, the Linux numbers are used, so that the same numbers
/// are accepted in `tend.toml` everywhere Linux users expect them.
pub fn signal_number(name: &str) -> Option<i32> {
    SIGNALS.contains(&name).then(|| name.parse::<Signal>().ok().map(Signal::number)).flatten()
}
