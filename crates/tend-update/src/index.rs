//! The crates.io sparse index entry of a package: one JSON object per line, one line per
//! published version (the file cargo itself reads).

use serde::Deserialize;

use crate::check::Channel;

/// One version in the index (other fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entry {
    /// The version.
    pub vers: String,
    /// Whether it was yanked.
    #[serde(default)]
    pub yanked: bool,
    /// The SHA-256 of its `.crate` file.
    #[serde(default)]
    pub cksum: String,
}

/// The URL of `package`'s entry under the index `base`: `<base>/te/nd/tend-cli` (cargo's layout:
/// 1, 2, 3 or `ab/cd/` by the name's length).
pub fn entry_url(base: &str, package: &str) -> String {
    let name = package.to_ascii_lowercase();
    let prefix = match name.len() {
        1 => "1".to_owned(),
        2 => "2".to_owned(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    };
    format!("{}/{prefix}/{name}", base.trim_end_matches('/'))
}

/// Parses an index entry: every non-empty line must be a JSON object with `vers`.
///
/// # Errors
/// The first line that is not, with its number.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// The newest version that is not yanked and is a valid semver; a pre-release only on the
/// `pre` channel.
pub fn newest(entries: &[Entry], channel: Channel) -> Option<(semver::Version, &Entry)> {
    entries
        .iter()
        .filter(|e| !e.yanked)
        .filter_map(|e| semver::Version::parse(&e.vers).ok().map(|v| (v, e)))
        .filter(|(v, _)| channel == Channel::Pre || v.pre.is_empty())
        .max_by(|(a, _), (b, _)| a.cmp(b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_follow_cargo() {
        assert_eq!(entry_url("https://x/", "tend-cli"), "https://x/te/nd/tend-cli");
        assert_eq!(entry_url("https://x", "abc"), "https://x/3/a/abc");
        assert_eq!(entry_url("https://x", "ab"), "https://x/2/ab");
    }

    #[test]
    fn newest_skips_yanked_and_pre() {
        let text = concat!(
            r#"{"name":"tend-cli","vers":"0.1.0","deps":[],"cksum":"a","features":{},"yanked":false}"#,
            "\n",
            r#"{"name":"tend-cli","vers":"0.3.0","cksum":"c","yanked":true}"#,
            "\n",
            r#"{"name":"tend-cli","vers":"0.2.0","cksum":"b","yanked":false}"#,
            "\n",
            r#"{"name":"tend-cli","vers":"0.4.0-rc.1","cksum":"d","yanked":false}"#,
            "\n\n",
        );
        let entries = parse(text).unwrap();
        let (stable, entry) = newest(&entries, Channel::Stable).unwrap();
        assert_eq!((stable.to_string().as_str(), entry.cksum.as_str()), ("0.2.0", "b"));
        let (pre, _) = newest(&entries, Channel::Pre).unwrap();
        assert_eq!(pre.to_string(), "0.4.0-rc.1");
        assert!(parse("{\"vers\": \"1.0.0\"}\nnot json").unwrap_err().starts_with("line 2"));
    }
}
