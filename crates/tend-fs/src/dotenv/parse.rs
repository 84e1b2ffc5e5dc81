//! The dotenv parser: text in, entries and problems out. Pure except for [`parse_file`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use crate::FsError;

use super::entry::{Entry, Parsed, Problem, ProblemKind};

/// Parses dotenv text. Pure: nothing is expanded, nothing is read from the environment.
///
/// ```
/// let parsed = tend_fs::dotenv::parse("\u{feff}A=\"x\\ny\"\r\nB=${A}\r\n");
/// assert_eq!(parsed.get("A"), Some("x\ny"));
/// assert_eq!(parsed.get("B"), Some("${A}")); // no expansion unless asked for
/// ```
pub fn parse(text: &str) -> Parsed {
    Parser::new(None).run(text)
}

/// Parses dotenv text, expanding `${NAME}` in unquoted and double-quoted values (never in
/// single-quoted ones; `\$` in double quotes is a literal `$`). `NAME` is looked up among the
/// file's earlier entries first, then with `lookup`; an unset name expands to an empty string
/// and adds a [`ProblemKind::UnsetVariable`]. `$NAME` without braces is not expanded.
///
/// ```
/// let env = |name: &str| (name == "HOME").then(|| "/home/me".to_string());
/// let parsed = tend_fs::dotenv::parse_expanding(
///     "DIR=${HOME}/app\nLOG=\"${DIR}/log\"\nRAW='${DIR}'\nPRICE=\"\\${DIR}\"\n",
///     &env,
/// );
/// assert_eq!(parsed.get("LOG"), Some("/home/me/app/log"));
/// assert_eq!(parsed.get("RAW"), Some("${DIR}"));
/// assert_eq!(parsed.get("PRICE"), Some("${DIR}"));
/// ```
pub fn parse_expanding(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Parsed {
    Parser::new(Some(lookup)).run(text)
}

/// Parses dotenv bytes with [`parse`]. Bytes that are not UTF-8 are replaced by U+FFFD, with a
/// [`ProblemKind::InvalidUtf8`] for each line where that happened.
///
/// ```
/// use tend_fs::dotenv::{ProblemKind, parse_bytes};
///
/// let parsed = parse_bytes(b"A=1\nB=\xff\n");
/// assert_eq!(parsed.get("B"), Some("\u{fffd}"));
/// assert_eq!(parsed.problems[0].line, 2);
/// assert_eq!(parsed.problems[0].kind, ProblemKind::InvalidUtf8);
/// ```
pub fn parse_bytes(bytes: &[u8]) -> Parsed {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return parse(text);
    }
    let mut text = String::with_capacity(bytes.len() + 8);
    let mut bad_lines: Vec<usize> = Vec::new();
    let mut line = 1;
    for chunk in bytes.utf8_chunks() {
        line += chunk.valid().bytes().filter(|&b| b == b'\n').count();
        text.push_str(chunk.valid());
        // Invalid sequences never contain a newline: '\n' is always valid UTF-8.
        if !chunk.invalid().is_empty() {
            text.push(char::REPLACEMENT_CHARACTER);
            if bad_lines.last() != Some(&line) {
                bad_lines.push(line);
            }
        }
    }
    let mut parsed = parse(&text);
    parsed
        .problems
        .extend(bad_lines.into_iter().map(|line| Problem { line, kind: ProblemKind::InvalidUtf8 }));
    parsed.problems.sort_by_key(|p| p.line);
    parsed
}

/// Reads and parses a dotenv file; see [`parse_bytes`].
///
/// # Errors
/// [`FsError::Io`] naming `path` when it cannot be read (a missing file included: callers
/// that treat a missing file as empty use [`DotenvCache`](super::DotenvCache) or check first).
///
/// ```
/// # fn main() -> Result<(), tend_fs::FsError> {
/// let dir = std::env::temp_dir().join(format!("tend-fs-doc-parse-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).map_err(|e| tend_fs::FsError::io("creating", &dir, e))?;
/// let path = dir.join(".env");
/// tend_fs::write_text(&path, "KEY=value # comment\n")?;
/// assert_eq!(tend_fs::dotenv::parse_file(&path)?.get("KEY"), Some("value"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
pub fn parse_file(path: &Path) -> Result<Parsed, FsError> {
    let bytes = std::fs::read(path).map_err(|e| FsError::io("reading", path, e))?;
    Ok(parse_bytes(&bytes))
}

/// Whether `key` is a valid dotenv key: `[A-Za-z_][A-Za-z0-9_.]*`.
pub(super) fn is_valid_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') && bytes.all(is_key_byte)
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

const BLANKS: [char; 2] = [' ', '\t'];
const TRAILING_BLANKS: [char; 3] = [' ', '\t', '\r'];

/// The text of an entry's value and the index of the line after it.
type Value = (String, usize);

/// Where `${NAME}` is looked up after the file's own earlier entries.
type Lookup<'l> = &'l dyn Fn(&str) -> Option<String>;

struct Parser<'l> {
    lookup: Option<Lookup<'l>>,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    problems: Vec<Problem>,
    /// Warnings raised while reading the current entry, attached to its line afterwards.
    pending: Vec<ProblemKind>,
}

impl<'l> Parser<'l> {
    fn new(lookup: Option<Lookup<'l>>) -> Self {
        Parser {
            lookup,
            entries: Vec::new(),
            index: HashMap::new(),
            problems: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn run(mut self, text: &str) -> Parsed {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let text: Cow<'_, str> = if text.contains("\r\n") {
            Cow::Owned(text.replace("\r\n", "\n"))
        } else {
            text.into()
        };
        let lines: Vec<&str> = text.split('\n').collect();
        let mut i = 0;
        while let Some(line) = lines.get(i) {
            let number = i + 1;
            let next = match self.entry(line, &lines, i) {
                Ok(Some((key, value, next))) => {
                    self.insert(key, value, number);
                    next
                }
                Ok(None) => i + 1,
                Err(kind) => {
                    self.pending.clear();
                    self.problems.push(Problem { line: number, kind });
                    i + 1
                }
            };
            for kind in self.pending.drain(..) {
                self.problems.push(Problem { line: number, kind });
            }
            i = next;
        }
        Parsed { entries: self.entries, problems: self.problems }
    }

    fn insert(&mut self, key: String, value: String, line: usize) {
        if let Some(entry) = self.index.get(&key).and_then(|&i| self.entries.get_mut(i)) {
            entry.value = value;
            entry.line = line;
        } else {
            self.index.insert(key.clone(), self.entries.len());
            self.entries.push(Entry { key, value, line });
        }
    }

    /// Reads the entry beginning on `lines[i]` (which is `line`): `Ok(None)` for a blank or
    /// comment line, else the key, the value and the index of the line after the entry.
    fn entry(
        &mut self,
        line: &str,
        lines: &[&str],
        i: usize,
    ) -> Result<Option<(String, String, usize)>, ProblemKind> {
        let rest = line.trim_start_matches(BLANKS);
        if rest.starts_with('#') || rest.trim_end_matches(TRAILING_BLANKS).is_empty() {
            return Ok(None);
        }
        let rest = strip_export(rest);
        let key_len = rest.bytes().take_while(|&b| is_key_byte(b)).count();
        let (key, after_key) = rest.split_at(key_len);
        let Some(after_eq) = after_key.trim_start_matches(BLANKS).strip_prefix('=') else {
            return Err(if rest.contains('=') {
                ProblemKind::InvalidKey
            } else {
                ProblemKind::MissingEquals
            });
        };
        if !is_valid_key(key) {
            return Err(ProblemKind::InvalidKey);
        }
        let value_text = after_eq.trim_start_matches(BLANKS);
        let after_blank = value_text.len() != after_eq.len();
        let (value, next) = match value_text.as_bytes().first() {
            None => (String::new(), i + 1),
            Some(b'#') if after_blank => (String::new(), i + 1),
            Some(b'\'') => self.quoted(&value_text[1..], lines, i, false)?,
            Some(b'"') => self.quoted(&value_text[1..], lines, i, true)?,
            Some(_) => (self.expand_and_unescape(unquoted(value_text), false), i + 1),
        };
        if value.contains('\0') {
            return Err(ProblemKind::NulInValue);
        }
        Ok(Some((key.to_owned(), value, next)))
    }

    /// Reads a quoted value whose text after the opening quote on line `i` is `first`.
    fn quoted(
        &mut self,
        first: &str,
        lines: &[&str],
        i: usize,
        double: bool,
    ) -> Result<Value, ProblemKind> {
        let mut raw = String::new();
        let mut segment = first;
        let mut j = i;
        loop {
            let close = if double { find_double_close(segment) } else { segment.find('\'') };
            if let Some(close) = close {
                raw.push_str(&segment[..close]);
                let tail = segment[close + 1..].trim_start_matches(TRAILING_BLANKS);
                if !(tail.is_empty() || tail.starts_with('#')) {
                    return Err(ProblemKind::TextAfterQuote);
                }
                break;
            }
            raw.push_str(segment);
            raw.push('\n');
            j += 1;
            segment = lines.get(j).ok_or(ProblemKind::UnterminatedQuote { double })?;
        }
        let value = if double { self.expand_and_unescape(&raw, true) } else { raw };
        Ok((value, j + 1))
    }

    /// Resolves backslash escapes (when `escapes`, i.e. inside double quotes) and, when
    /// expanding, `${NAME}` references.
    fn expand_and_unescape(&mut self, raw: &str, escapes: bool) -> String {
        let special: &[char] = match (escapes, self.lookup.is_some()) {
            (false, false) => return raw.to_owned(),
            (true, false) => &['\\'],
            (false, true) => &['$'],
            (true, true) => &['\\', '$'],
        };
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(at) = rest.find(special) {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix('\\') {
                let resolved = match after.as_bytes().first() {
                    Some(b'n') => Some('\n'),
                    Some(b'r') => Some('\r'),
                    Some(b't') => Some('\t'),
                    Some(b'"') => Some('"'),
                    Some(b'\\') => Some('\\'),
                    Some(b'$') => Some('$'),
                    _ => None,
                };
                match resolved {
                    Some(c) => {
                        out.push(c);
                        rest = &after[1..];
                    }
                    None => {
                        out.push('\\');
                        rest = after;
                    }
                }
            } else if let Some((name, len)) = variable_reference(rest) {
                self.push_variable(name, &mut out);
                rest = &rest[len..];
            } else {
                out.push('$');
                rest = &rest[1..];
            }
        }
        out.push_str(rest);
        out
    }

    fn push_variable(&mut self, name: &str, out: &mut String) {
        let earlier = self.index.get(name).and_then(|&i| self.entries.get(i));
        if let Some(entry) = earlier {
            out.push_str(&entry.value);
        } else if let Some(value) = self.lookup.and_then(|lookup| lookup(name)) {
            out.push_str(&value);
        } else {
            self.pending.push(ProblemKind::UnsetVariable { name: name.to_owned() });
        }
    }
}

/// Removes a leading `export ` (with any blanks after it) unless `export` is the key itself.
fn strip_export(rest: &str) -> &str {
    let Some(after) = rest.strip_prefix("export") else { return rest };
    let trimmed = after.trim_start_matches(BLANKS);
    if trimmed.len() == after.len() || trimmed.is_empty() || trimmed.starts_with('=') {
        rest
    } else {
        trimmed
    }
}

/// The value of an unquoted `text`: up to a `#` that follows a blank, with trailing blanks
/// removed. `text` starts with a non-blank.
fn unquoted(text: &str) -> &str {
    let bytes = text.as_bytes();
    let end =
        bytes.windows(2).position(|w| matches!(w, [b' ' | b'\t', b'#'])).unwrap_or(bytes.len());
    text[..end].trim_end_matches(TRAILING_BLANKS)
}

/// The byte index of the first `"` in `segment` that no backslash escapes.
fn find_double_close(segment: &str) -> Option<usize> {
    let bytes = segment.as_bytes();
    let mut k = 0;
    while let Some(&b) = bytes.get(k) {
        match b {
            b'\\' => k += 2,
            b'"' => return Some(k),
            _ => k += 1,
        }
    }
    None
}

/// If `text` starts with `${NAME}` where NAME is a valid key: NAME and the reference's length.
fn variable_reference(text: &str) -> Option<(&str, usize)> {
    let inner = text.strip_prefix("${")?;
    let len = inner.bytes().take_while(|&b| is_key_byte(b)).count();
    let name = &inner[..len];
    (inner[len..].starts_with('}') && is_valid_key(name)).then_some((name, len + 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(is_valid_key("A"));
        assert!(is_valid_key("_a.b9"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("9A"));
        assert!(!is_valid_key(".A"));
        assert!(!is_valid_key("A-B"));
    }

    #[test]
    fn unquoted_comments() {
        assert_eq!(unquoted("a #b"), "a");
        assert_eq!(unquoted("a\t#b"), "a");
        assert_eq!(unquoted("a#b #c"), "a#b");
        assert_eq!(unquoted("two words  "), "two words");
    }

    #[test]
    fn double_close_skips_escapes() {
        assert_eq!(find_double_close(r#"a\"b"c"#), Some(4));
        assert_eq!(find_double_close(r#"a\\"b"#), Some(3));
        assert_eq!(find_double_close(r"a\"), None);
    }

    #[test]
    fn variable_references() {
        assert_eq!(variable_reference("${A}x"), Some(("A", 4)));
        assert_eq!(variable_reference("${A"), None);
        assert_eq!(variable_reference("${9}"), None);
        assert_eq!(variable_reference("$A"), None);
    }
}
