//! Writing dotenv text that parses back to the same pairs.

use super::parse::is_valid_key;

/// Why [`render`] could not write a pair. Names the key, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The key does not match `[A-Za-z_][A-Za-z0-9_.]*`.
    #[error(
        "invalid dotenv key {key:?}: a key is letters, digits, `_` and `.`, not starting with a digit"
    )]
    InvalidKey {
        /// The offending key.
        key: String,
    },
    /// The value holds a NUL character, which no environment variable can hold.
    #[error(
        "the value of {key} contains a NUL character, which an environment variable cannot hold"
    )]
    NulInValue {
        /// The key whose value it is.
        key: String,
    },
}

/// Writes `pairs` as dotenv text, one `KEY=value` line each, that [`parse`](super::parse)
/// (and [`parse_expanding`](super::parse_expanding)) read back as the same pairs.
///
/// Plain values (letters, digits and `_-./:@%+,=~^`) stay unquoted; others are single-quoted
/// when they hold no `'` and no line break, else double-quoted with `\n`, `\r`, `\"`, `\\`
/// and `\$` escapes.
///
/// # Errors
/// [`RenderError`] for an invalid key or a value with a NUL character.
///
/// ```
/// use tend_fs::dotenv::{parse, render};
///
/// let text = render([("A", "plain"), ("B", "two words # not a comment"), ("C", "it's\n$x")])?;
/// assert_eq!(text, "A=plain\nB='two words # not a comment'\nC=\"it's\\n\\$x\"\n");
/// let back: Vec<_> = parse(&text).iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
/// assert_eq!(back[2], ("C".to_owned(), "it's\n$x".to_owned()));
/// # Ok::<(), tend_fs::dotenv::RenderError>(())
/// ```
pub fn render<I, K, V>(pairs: I) -> Result<String, RenderError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut out = String::new();
    for (key, value) in pairs {
        let (key, value) = (key.as_ref(), value.as_ref());
        if !is_valid_key(key) {
            return Err(RenderError::InvalidKey { key: key.to_owned() });
        }
        if value.contains('\0') {
            return Err(RenderError::NulInValue { key: key.to_owned() });
        }
        out.push_str(key);
        out.push('=');
        push_value(&mut out, value);
        out.push('\n');
    }
    Ok(out)
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_-./:@%+,=~^".contains(&b)
}

fn push_value(out: &mut String, value: &str) {
    if value.bytes().all(is_plain) {
        out.push_str(value);
    } else if !value.contains(['\'', '\n', '\r']) {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
    } else {
        out.push('"');
        for c in value.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '$' => out.push_str("\\$"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
}
