//! `tend logs`: the tail of programs' log files, read directly (works whether the app runs or
//! not), and following them as they grow. The control API's `GET /v1/logs` reads them the same
//! way.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::app::Global;
use crate::control::commands::{Printer, Target};
use crate::exit::{self, CliError};

/// How often `--follow` looks at the files.
pub const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// Options of `tend logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The program (default: every program, each line prefixed `name | `)
    pub program: Option<String>,

    /// Keep printing lines as they are appended, across rotations (like `tail -F`; `-f` is
    /// tend's `--file`)
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// How many lines to print from the end of each program's log
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    pub lines: usize,

    /// The app by name (an app of `tend run` has no tend.toml), instead of -f FILE
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `tend logs [PROGRAM] [-F] [-n N]`.
///
/// # Errors
/// An unknown app or program (exit 1).
pub async fn logs(global: &Global, file: &Path, args: LogsArgs) -> Result<u8, CliError> {
    let target = Target::resolve(global, file, args.name.as_deref())
        .map_err(|e| with_follow_hint(e, file, &args))?;
    if !target.ever_ran() {
        return Err(CliError::error(format!(
            "no logs: app `{}` {}",
            target.home.app,
            target.never_ran()
        )));
    }
    let programs = match &args.program {
        Some(name) => {
            let known = target.programs.as_ref().is_none_or(|p| p.contains(name));
            if !known {
                let list = target.programs.as_deref().unwrap_or_default();
                return Err(CliError::error(crate::control::api::no_such_program(name, list)));
            }
            let path = target.home.program_log(name);
            if target.programs.is_none() && !path.exists() && !args.follow {
                return Err(CliError::error(format!(
                    "no log for `{name}` in {}; logs there: {}",
                    target.home.logs().display(),
                    logged_programs(&target.home.logs()).join(", ")
                )));
            }
            vec![name.clone()]
        }
        None => target.programs.clone().unwrap_or_else(|| logged_programs(&target.home.logs())),
    };
    let width = programs.iter().map(String::len).max().unwrap_or(0);
    let prefix = |name: &str| {
        if args.program.is_some() || programs.len() == 1 {
            String::new()
        } else {
            format!("{name:<width$} | ")
        }
    };
    let mut out = Printer::stdout();
    let mut followers = Vec::new();
    for name in &programs {
        let path = target.home.program_log(name);
        let lines = match tail_lines(&path, args.lines) {
            Ok(lines) => lines,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(CliError::error(format!("reading {}: {e}", path.display()))),
        };
        let prefix = prefix(name);
        for line in lines {
            if !out.line(&prefix, &strip_controls(&line)) {
                return Ok(exit::SUCCESS);
            }
        }
        followers.push((prefix, Follower::at_end(path)));
    }
    if !out.flush() || !args.follow {
        return Ok(exit::SUCCESS);
    }
    loop {
        tokio::time::sleep(FOLLOW_POLL).await;
        for (prefix, follower) in &mut followers {
            for line in follower.poll() {
                if !out.line(prefix, &strip_controls(&line)) {
                    return Ok(exit::SUCCESS);
                }
            }
        }
        if !out.flush() {
            return Ok(exit::SUCCESS);
        }
    }
}

/// `line` without what could take over a terminal: escape sequences other than colours (SGR,
/// `ESC [ … m`: cursor moves, screen clears, titles, hyperlinks, …) and control characters
/// other than tab (carriage return, backspace, bell, C1 controls). `tend logs` prints lines
/// this way, so that a log cannot repaint the reader's terminal; the files keep every byte.
///
/// ```
/// use tend::logs_cmd::strip_controls;
/// assert_eq!(strip_controls("\x1b[31mred\x1b[0m"), "\x1b[31mred\x1b[0m");
/// assert_eq!(strip_controls("a\x1b[2Jb\x1b]0;title\x07c\rd"), "abcd");
/// ```
pub fn strip_controls(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => csi(&mut chars, &mut out, "\x1b["),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // Other escapes: intermediates, then one final character.
                Some(' '..='/') => {
                    while chars.next_if(|c| matches!(c, ' '..='/')).is_some() {}
                    chars.next();
                }
                _ => {}
            },
            '\u{9b}' => csi(&mut chars, &mut out, "\x1b["),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_control(c) => {}
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A control character that `tend logs` does not print as is (tab is kept).
fn is_control(c: char) -> bool {
    c != '\t' && (c.is_ascii_control() || ('\u{80}'..='\u{9f}').contains(&c))
}

/// A control sequence after its `ESC [`: kept (as `ESC [ … m`) when it only sets colours.
fn csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String, start: &str) {
    let mut body = String::new();
    for c in chars.by_ref() {
        match c {
            '@'..='~' => {
                if c == 'm' && body.chars().all(|c| c.is_ascii_digit() || c == ';' || c == ':') {
                    out.push_str(start);
                    out.push_str(&body);
                    out.push('m');
                }
                return;
            }
            ' '..='?' => body.push(c),
            // Not a well-formed sequence: dropped up to here.
            _ => return,
        }
    }
}

/// A string sequence (OSC, DCS, …) after its introducer, up to BEL or ST (`ESC \\`).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\x07' | '\u{9c}' => return,
            '\x1b' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

/// `tend logs -f web` (the `tail -f` habit) reads `web` as the config file: say that following
/// is `-F`.
fn with_follow_hint(mut error: CliError, file: &Path, args: &LogsArgs) -> CliError {
    let bare = file.extension().is_none() && file.components().count() == 1 && !file.exists();
    if bare && args.program.is_none() {
        let name = file.display();
        error.message.push_str(&format!(
            "\n  to follow the log of program `{name}`, use -F: `tend logs {name} -F` (-f is --file)"
        ));
    }
    error
}

/// The programs that have a log in `logs` (`<name>.log`, not tend's own `tend.log`), sorted.
pub fn logged_programs(logs: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(logs) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".log").map(str::to_owned))
        .filter(|name| name != "tend" && !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// The last `n` lines of the file at `path` (only the current file, not its rotated ones),
/// read from its end. Invalid UTF-8 is replaced.
///
/// # Errors
/// When the file cannot be read.
pub fn tail_lines(path: &Path, n: usize) -> io::Result<Vec<String>> {
    const CHUNK: u64 = 64 * 1024;
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut pos = len;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if pos == 0 || body.iter().filter(|&&b| b == b'\n').count() >= n {
            break;
        }
        let start = pos.saturating_sub(CHUNK);
        let mut chunk = vec![0; usize::try_from(pos - start).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        pos = start;
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n)..].iter().map(|l| (*l).to_owned()).collect())
}

/// Follows one log file: each [`poll`](Follower::poll) returns the complete lines appended
/// since the last one. A file that shrinks or is replaced (rotation) is read again from its
/// start.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    offset: u64,
    id: Option<u64>,
    partial: Vec<u8>,
}

impl Follower {
    /// Follows `path` from its current end (from its start once it appears, if it is missing).
    pub fn at_end(path: PathBuf) -> Follower {
        let meta = std::fs::metadata(&path).ok();
        Follower {
            offset: meta.as_ref().map_or(0, std::fs::Metadata::len),
            id: meta.as_ref().and_then(file_id),
            path,
            partial: Vec::new(),
        }
    }

    /// The lines appended since the last poll; none if the file is missing or unreadable.
    pub fn poll(&mut self) -> Vec<String> {
        let Ok(meta) = std::fs::metadata(&self.path) else { return Vec::new() };
        let id = file_id(&meta);
        if meta.len() < self.offset || id != self.id {
            self.offset = 0;
            self.partial.clear();
            self.id = id;
        }
        if meta.len() == self.offset {
            return Vec::new();
        }
        let Ok(mut file) = File::open(&self.path) else { return Vec::new() };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut new = Vec::new();
        let Ok(read) = file.read_to_end(&mut new) else { return Vec::new() };
        self.offset += read as u64;
        self.partial.extend_from_slice(&new);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else { return Vec::new() };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        String::from_utf8_lossy(&complete).lines().map(str::to_owned).collect()
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt as _;
    Some(meta.ino())
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write as _;

    #[test]
    fn tail_reads_the_last_lines_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("line {i}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        assert_eq!(tail_lines(&path, 2).unwrap(), vec!["line 19998", "line 19999"]);
        assert_eq!(tail_lines(&path, 20_000).unwrap().len(), 20_000);
        assert_eq!(tail_lines(&path, 30_000).unwrap().len(), 20_000);
        assert!(tail_lines(&path, 0).unwrap().is_empty());
        std::fs::write(&path, "a\nb").unwrap();
        assert_eq!(tail_lines(&path, 1).unwrap(), vec!["b"]);
    }

    #[test]
    fn only_colours_survive_stripping() {
        let cases = [
            ("plain text\tand tab", "plain text\tand tab"),
            (
                "\x1b[1;31mbold red\x1b[0m \x1b[38;5;208mx\x1b[m",
                "\x1b[1;31mbold red\x1b[0m \x1b[38;5;208mx\x1b[m",
            ),
            ("\x1b[2J\x1b[Hhome\x1b[?25l", "home"),
            ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("\x1b]0;title\x07after", "after"),
            ("\x1bPdcs\x1b\\d\x1b(Bx\x1bcy", "dxy"),
            ("over\rwrite\x08\x07", "overwrite"),
            ("c1 \u{9b}2Jcsi \u{85}nel", "c1 csi nel"),
            ("cut \x1b[31", "cut "),
            ("é ü \u{fffd}", "é ü \u{fffd}"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_controls(input), want, "{input:?}");
        }
    }

    #[test]
    fn follower_returns_complete_new_lines_and_survives_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, "old\n").unwrap();
        let mut follower = Follower::at_end(path.clone());
        assert!(follower.poll().is_empty());
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"one\ntw").unwrap();
        assert_eq!(follower.poll(), vec!["one"]);
        file.write_all(b"o\n").unwrap();
        assert_eq!(follower.poll(), vec!["two"]);
        std::fs::rename(&path, dir.path().join("x.log.1")).unwrap();
        std::fs::write(&path, "fresh\n").unwrap();
        assert_eq!(follower.poll(), vec!["fresh"]);
    }
}
