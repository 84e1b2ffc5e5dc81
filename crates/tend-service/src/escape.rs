//! Quoting values for systemd unit files (systemd.syntax(7), systemd.service(5)).
//!
//! In a unit file `%` starts a specifier everywhere, so a literal `%` is written `%%`. In a
//! command line (`ExecStart=`) `$` starts a variable, so a literal `$` is written `$$`; in an
//! `Environment=` assignment `$` has no special meaning. Words that hold anything but plain
//! path characters are double-quoted, with C-style escapes for `\`, `"` and control characters.

/// How a value is used: the escaping differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A word of `ExecStart=`: `%` and `$` are special.
    Exec,
    /// The `KEY=value` of an `Environment=` line: `%` is special, `$` is not.
    Environment,
    /// Free text such as `Description=`: only `%` is special, no quoting.
    Text,
}

/// Characters that never need quoting.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | ',' | ':' | '+' | '=' | '@' | '-')
}

/// `text` as one systemd word (or free text under [`Context::Text`]).
pub fn quote(text: &str, context: Context) -> String {
    if context == Context::Text {
        // Free text cannot hold a line break: it would end the assignment.
        return text.replace('%', "%%").replace(['\n', '\r'], " ");
    }
    let needs_quotes = text.is_empty() || !text.chars().all(|c| plain(c) || c == '%' || c == '$');
    let mut out = String::with_capacity(text.len() + 2);
    if needs_quotes {
        out.push('"');
    }
    for c in text.chars() {
        match c {
            '%' => out.push_str("%%"),
            '$' if context == Context::Exec => out.push_str("$$"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let code = u32::from(c);
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    if needs_quotes {
        out.push('"');
    }
    out
}

/// A whole `ExecStart=` command line: the executable, then each argument quoted.
///
/// systemd treats the executable differently from the arguments: `$` is not expanded in it
/// (so it is written as is), and it refuses quotes, backslashes and control characters there
/// outright ("Executable name contains special characters").
///
/// # Errors
/// The executable's path holds a character systemd refuses; the message names it.
pub fn command_line<S: AsRef<str>>(executable: &str, args: &[S]) -> Result<String, String> {
    if let Some(c) = executable.chars().find(|c| matches!(c, '"' | '\'' | '\\') || c.is_control()) {
        return Err(format!(
            "systemd cannot start a program whose path holds {c:?}: {executable}; \
install tend at a path without quotes or backslashes"
        ));
    }
    let mut line = quote(executable, Context::Environment);
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg.as_ref(), Context::Exec));
    }
    Ok(line)
}

/// The value of an `Environment=` line for `key=value`.
pub fn environment(key: &str, value: &str) -> String {
    quote(&format!("{key}={value}"), Context::Environment)
}

/// Quotes one argument for a Windows command line the way the C runtime (and Rust's
/// `std::env::args`) splits it: quotes when needed, backslashes doubled before a quote.
pub fn windows_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '\n', '\u{b}', '"']) {
        return arg.to_string();
    }
    let mut out = String::from('"');
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            c => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// Quotes `text` for a POSIX shell when it needs it: for showing commands to a person.
pub fn shell(text: &str) -> String {
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(quote("/usr/bin/tend", Context::Exec), "/usr/bin/tend");
        assert_eq!(
            command_line("/bin/tend", &["up", "-f", "/a/tend.toml"]).unwrap(),
            "/bin/tend up -f /a/tend.toml"
        );
        assert_eq!(
            command_line("/a $b%/tend", &["$c"]).unwrap(),
            "\"/a $b%%/tend\" $$c",
            "no $ escaping in the executable"
        );
        assert!(command_line("/a'b/tend", &["up"]).unwrap_err().contains("'\\''"));
        assert!(command_line("/a\\b/tend", &["up"]).is_err());
    }

    #[test]
    fn specials_are_escaped() {
        assert_eq!(quote("a b", Context::Exec), "\"a b\"");
        assert_eq!(quote("100%", Context::Exec), "100%%");
        assert_eq!(quote("$HOME", Context::Exec), "$$HOME");
        assert_eq!(quote("$HOME", Context::Environment), "$HOME");
        assert_eq!(quote(r#"say "hi"\"#, Context::Exec), r#""say \"hi\"\\""#);
        assert_eq!(quote("a\nb\u{1}", Context::Exec), "\"a\\nb\\x01\"");
        assert_eq!(quote("", Context::Exec), "\"\"");
        assert_eq!(quote("50% off\n", Context::Text), "50%% off ");
    }

    #[test]
    fn environment_assignments() {
        assert_eq!(environment("TEND_SUPERVISOR", "1"), "TEND_SUPERVISOR=1");
        assert_eq!(environment("HOME", "/home/a b"), "\"HOME=/home/a b\"");
        assert_eq!(environment("X", "5%$y"), "X=5%%$y");
    }

    #[test]
    fn windows_arguments() {
        assert_eq!(windows_arg(r"C:\a\tend.toml"), r"C:\a\tend.toml");
        assert_eq!(windows_arg(r"C:\my app\tend.toml"), r#""C:\my app\tend.toml""#);
        assert_eq!(windows_arg(r"C:\dir with space\"), r#""C:\dir with space\\""#);
        assert_eq!(windows_arg(r#"a"b"#), r#""a\"b""#);
        assert_eq!(windows_arg(""), r#""""#);
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell("systemctl"), "systemctl");
        assert_eq!(shell("it's"), r"'it'\''s'");
    }
}
