//! Secrets from dotenv files (`$TEND_HOME/.env`, `<app folder>/.env`, each program's
//! `env_files`).
//!
//! The parser is hand-written and *hermetic*: what a file yields depends on the file alone,
//! never on the process environment. (The `dotenvy` crate does not fit: it expands `$VAR` from
//! the process environment with no way to turn that off, and rejects unquoted values with
//! spaces such as `K=two words`.) `${NAME}` references are expanded only when asked for, with
//! [`parse_expanding`] and a lookup the caller supplies.
//!
//! # Syntax
//!
//! ```text
//! # a comment; blank lines are skipped
//! PLAIN=two words            # unquoted: trimmed, ` #` (space or tab, then #) starts a comment
//! URL=http://host/#frag      # a `#` with no space before it is part of the value
//! export TOKEN=abc=def       # `export ` is ignored; `=` may appear inside values
//! LITERAL='no \n escapes, $NOT expanded'
//! ESCAPED="line one\nline two, a \"quote\", a backslash \\ and a dollar \$"
//! PEM="-----BEGIN KEY-----
//! spans several lines
//! -----END KEY-----"
//! ```
//!
//! - Keys match `[A-Za-z_][A-Za-z0-9_.]*`; spaces around `=` are allowed.
//! - Single quotes are literal and may span lines.
//! - Double quotes may span lines and understand `\n`, `\r`, `\t`, `\"`, `\\` and `\$`; any
//!   other backslash is kept as it is (`"C:\Users"` stays `C:\Users`).
//! - After a closing quote only spaces and an optional `# comment` may follow.
//! - A UTF-8 byte order mark at the start and CRLF line ends are accepted.
//! - When a key is assigned twice, the later assignment wins.
//!
//! A malformed line is never fatal: it becomes a [`Problem`] naming its line, and the rest of
//! the file still loads. An entry with an unterminated or malformed quote is skipped and
//! reading resumes on the line after the one where it began, so one missing quote loses one
//! entry, not the rest of the file. Problem messages never contain values: values are
//! secrets. For the same reason [`Entry`]'s `Debug` prints `***` for the value.
//!
//! # Example
//!
//! ```
//! use tend_fs::dotenv;
//!
//! let parsed = dotenv::parse("export API_KEY='s3cr3t'\nURL=http://x/#frag\nbroken line\n");
//! assert_eq!(parsed.get("API_KEY"), Some("s3cr3t"));
//! assert_eq!(parsed.get("URL"), Some("http://x/#frag"));
//! assert_eq!(parsed.problems.len(), 1);
//! assert_eq!(
//!     parsed.problems[0].in_file(".env").to_string(),
//!     ".env:3: expected `KEY=value` but the line has no `=`; the line is skipped",
//! );
//! ```

mod cache;
mod entry;
mod parse;
mod render;

pub use cache::{DotenvCache, is_private, permission_warning};
pub use entry::{Entry, InFile, Parsed, Problem, ProblemKind};
pub use parse::{parse, parse_bytes, parse_expanding, parse_file};
pub use render::{RenderError, render};
