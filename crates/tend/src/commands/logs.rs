//! `tend logs`: the tail of programs' log files, read directly (works whether the app runs or
//! not), and following them as they grow. The control API's `GET /v1/logs` reads them the same
//! way.

use std::path::Path;

use crate::cli::LogsArgs;
use crate::commands::target::Target;
use crate::exit::{self, CliError};
use crate::global::Global;
use crate::output::Printer;
use tend_app::tail::Tail;

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
                return Err(CliError::error(tend_app::control::api::no_such_program(name, list)));
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
    let mut tail = Tail::new();
    for name in &programs {
        let path = target.home.program_log(name);
        let lines = tail
            .add(prefix(name), path.clone(), args.lines)
            .map_err(|e| CliError::error(format!("reading {}: {e}", path.display())))?;
        let prefix = prefix(name);
        for line in lines {
            if !out.line(&prefix, &strip_controls(&line)) {
                return Ok(exit::SUCCESS);
            }
        }
    }
    if !out.flush() || !args.follow {
        return Ok(exit::SUCCESS);
    }
    loop {
        for (prefix, line) in tail.next().await {
            if !out.line(prefix, &strip_controls(&line)) {
                return Ok(exit::SUCCESS);
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
/// use tend::commands::logs::strip_controls;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
}
