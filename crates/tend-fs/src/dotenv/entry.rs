//! What a dotenv file yields: its entries, and the problems found on the way (which never
//! contain a value).

use std::fmt;
use std::path::Path;

/// One `KEY=value` assignment of a dotenv file.
///
/// `Debug` masks the value as `***`: values are secrets and must not reach logs.
///
/// ```
/// let parsed = tend_fs::dotenv::parse("TOKEN=abc\n");
/// let entry = &parsed.entries[0];
/// assert_eq!((entry.key.as_str(), entry.value.as_str(), entry.line), ("TOKEN", "abc", 1));
/// assert_eq!(format!("{entry:?}"), r#"Entry { key: "TOKEN", value: "***", line: 1 }"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The variable's name.
    pub key: String,
    /// The value, with quotes removed and escapes resolved.
    pub value: String,
    /// The 1-based line where the assignment begins.
    pub line: usize,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("key", &self.key)
            .field("value", &"***")
            .field("line", &self.line)
            .finish()
    }
}

/// What a dotenv file yields: its entries and the problems found on the way.
///
/// ```
/// let parsed = tend_fs::dotenv::parse("A=1\nA=2\nB=3\n");
/// assert_eq!(parsed.get("A"), Some("2")); // the later assignment wins
/// let pairs: Vec<_> = parsed.iter().collect();
/// assert_eq!(pairs, [("A", "2"), ("B", "3")]);
/// assert!(parsed.problems.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// One entry per key, in the order keys first appear; a key assigned again keeps its place
    /// and takes the later value and line.
    pub entries: Vec<Entry>,
    /// Malformed lines and other warnings, in line order. Never fatal.
    pub problems: Vec<Problem>,
}

impl Parsed {
    /// The value of `key`, if the file assigns it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.key == key).map(|e| e.value.as_str())
    }

    /// `(key, value)` pairs in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|e| (e.key.as_str(), e.value.as_str()))
    }
}

/// A warning about one line of a dotenv file. It never contains a value.
///
/// `Display` gives `line N: message`; [`Problem::in_file`] gives `FILE:N: message`.
///
/// ```
/// use tend_fs::dotenv::{ProblemKind, parse};
///
/// let parsed = parse("OK=1\nPASSWORD=\"hunter2\nNEXT=2\n");
/// let problem = &parsed.problems[0];
/// assert_eq!(problem.line, 2);
/// assert_eq!(problem.kind, ProblemKind::UnterminatedQuote { double: true });
/// assert!(!problem.to_string().contains("hunter2"));
/// assert_eq!(parsed.get("NEXT"), Some("2")); // the rest still loads
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line where the offending entry begins.
    pub line: usize,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// Displays the problem as `FILE:LINE: message`, the form to log.
    pub fn in_file<'a, P: AsRef<Path> + ?Sized>(&'a self, path: &'a P) -> InFile<'a> {
        InFile { problem: self, path: path.as_ref() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

/// A [`Problem`] displayed with its file, as `FILE:LINE: message`; see [`Problem::in_file`].
pub struct InFile<'a> {
    problem: &'a Problem,
    path: &'a Path,
}

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.problem.line, self.problem.kind)
    }
}

impl fmt::Debug for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The kinds of [`Problem`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A line that is neither blank, a comment nor an assignment.
    #[error("expected `KEY=value` but the line has no `=`; the line is skipped")]
    MissingEquals,
    /// The text before `=` is not a valid key.
    #[error(
        "invalid key (a key is letters, digits, `_` and `.`, not starting with a digit); \
         the line is skipped"
    )]
    InvalidKey,
    /// A quoted value whose closing quote never comes.
    #[error(
        "unterminated {} quote; the entry is skipped and reading resumes on the next line",
        if *double { "double" } else { "single" }
    )]
    UnterminatedQuote {
        /// Whether it was a double quote (else a single quote).
        double: bool,
    },
    /// Something other than spaces or a `# comment` after a closing quote.
    #[error(
        "unexpected text after the closing quote (a comment needs `#`); the entry is skipped \
         and reading resumes on the next line"
    )]
    TextAfterQuote,
    /// A value containing a NUL character, which no environment variable can hold.
    #[error(
        "the value contains a NUL character, which an environment variable cannot hold; the entry is skipped"
    )]
    NulInValue,
    /// Bytes that are not UTF-8; they were replaced by U+FFFD.
    #[error("invalid UTF-8; the bad bytes were replaced by U+FFFD")]
    InvalidUtf8,
    /// `${NAME}` referred to a variable that is not set (only with [`parse_expanding`]).
    #[error("`${{{name}}}` is not set; it expands to an empty string")]
    UnsetVariable {
        /// The name referred to (a valid key, never a value).
        name: String,
    },
}
