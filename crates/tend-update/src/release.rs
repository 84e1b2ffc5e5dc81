//! Upgrading a `binary` install: download the release for this target, verify it, and swap it
//! in beside the old one (kept as `tend.previous`); and the command of a `cargo` install.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::Digest;

use crate::UpdateError;

/// The default release base URL (`[update] releases`, `TEND_UPDATE_RELEASES`): a release of
/// version V for target T is `<base>/vV/tend-T`, with `tend-T.sha256` beside it and, where
/// published, `tend-T.minisig`.
pub const DEFAULT_RELEASES: &str = "https://example.invalid/tend/releases/download";

/// The largest binary downloaded.
const MAX_BINARY: u64 = 256 << 20;

/// The minisign public key release signatures are checked with, compiled in
/// (`TEND_MINISIGN_PUBLIC_KEY` at build time); none in builds made without it.
pub const PUBLIC_KEY: Option<&str> = option_env!("TEND_MINISIGN_PUBLIC_KEY");

/// The URL of the release binary of `version` for `target` under `base`.
pub fn binary_url(base: &str, version: &semver::Version, target: &str) -> String {
    format!("{}/v{version}/tend-{target}", base.trim_end_matches('/'))
}

/// Where the old binary is kept: `tend.previous` beside `exe`.
pub fn previous_path(exe: &Path) -> PathBuf {
    let name = exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    exe.with_file_name(format!("{name}.previous"))
}

/// How a downloaded binary was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The new binary, beside the old one, not yet in place.
    pub path: PathBuf,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Whether a minisign signature was checked (`false`: none published, or no key compiled
    /// in).
    pub signed: bool,
}

/// Downloads the release of `version` for `target` from `base` into a file beside `exe`, and
/// verifies its SHA-256 (required) and its minisign signature (where one is published and a
/// key is compiled in). Nothing is replaced yet.
///
/// # Errors
/// A download that fails, a missing checksum, a checksum or signature that does not match.
pub fn download(
    base: &str,
    version: &semver::Version,
    target: &str,
    exe: &Path,
    timeout: Duration,
) -> Result<Verified, UpdateError> {
    let agent = crate::http::agent(timeout);
    let url = binary_url(base, version, target);
    let sums = crate::http::text(&agent, &format!("{url}.sha256"), 4096)?;
    let expected = sums.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
    if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(UpdateError::Verification {
            url: format!("{url}.sha256"),
            message: "is not a SHA-256 checksum".into(),
        });
    }
    let path = exe.with_file_name(format!(".tend.new-{}", std::process::id()));
    let result = fetch_into(&agent, &url, &path).and_then(|bytes| {
        let sha256 = hex(&sha2::Sha256::digest(&bytes));
        if sha256 != expected {
            return Err(UpdateError::Verification {
                url: url.clone(),
                message: format!("its SHA-256 is {sha256}, the published one {expected}"),
            });
        }
        let signed = check_signature(&agent, &url, &bytes)?;
        Ok(Verified { path: path.clone(), sha256, signed })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&path);
    }
    result
}

fn fetch_into(agent: &ureq::Agent, url: &str, path: &Path) -> Result<Vec<u8>, UpdateError> {
    let mut bytes = Vec::new();
    crate::http::download(agent, url, &mut bytes, MAX_BINARY)?;
    let mut file = std::fs::File::create(path).map_err(|e| UpdateError::io("creating", path, e))?;
    file.write_all(&bytes).map_err(|e| UpdateError::io("writing", path, e))?;
    file.sync_all().map_err(|e| UpdateError::io("syncing", path, e))?;
    Ok(bytes)
}

fn check_signature(agent: &ureq::Agent, url: &str, bytes: &[u8]) -> Result<bool, UpdateError> {
    let Some(key) = PUBLIC_KEY else {
        tracing::debug!("no minisign key compiled in: the signature of {url} is not checked");
        return Ok(false);
    };
    let sig_url = format!("{url}.minisig");
    let Some(signature) = crate::http::optional_text(agent, &sig_url, 4096)? else {
        return Ok(false);
    };
    let bad = |message: String| UpdateError::Verification { url: sig_url.clone(), message };
    let key = minisign_verify::PublicKey::from_base64(key).map_err(|e| bad(e.to_string()))?;
    let signature =
        minisign_verify::Signature::decode(&signature).map_err(|e| bad(e.to_string()))?;
    key.verify(bytes, &signature, false).map_err(|e| bad(format!("bad signature: {e}")))?;
    Ok(true)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Puts `new` in place of `exe` atomically (a rename over it), keeping the old binary as
/// `tend.previous` (a hard link, else a copy, made first). The new file gets the old one's
/// permissions. Returns where the old one is.
///
/// # Errors
/// When a step fails; `exe` is then unchanged.
pub fn swap(exe: &Path, new: &Path) -> Result<PathBuf, UpdateError> {
    let previous = previous_path(exe);
    let permissions =
        std::fs::metadata(exe).map_err(|e| UpdateError::io("reading", exe, e))?.permissions();
    std::fs::set_permissions(new, permissions)
        .map_err(|e| UpdateError::io("setting permissions of", new, e))?;
    match std::fs::remove_file(&previous) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(UpdateError::io("removing", &previous, e)),
    }
    if std::fs::hard_link(exe, &previous).is_err() {
        std::fs::copy(exe, &previous).map_err(|e| UpdateError::io("copying to", &previous, e))?;
    }
    tend_fs::rename_into_place(new, exe)?;
    Ok(previous)
}

/// Puts `tend.previous` back in place of `exe` (atomically).
///
/// # Errors
/// When there is no `tend.previous` or it cannot be renamed.
pub fn roll_back(exe: &Path) -> Result<(), UpdateError> {
    Ok(tend_fs::rename_into_place(&previous_path(exe), exe)?)
}

/// The command that upgrades a `cargo` install to `version`.
pub fn cargo_install(version: &semver::Version) -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.args(["install", "--locked", &format!("{}@{version}", crate::PACKAGE)]);
    command
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn swap_keeps_the_previous_and_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("tend");
        std::fs::write(&exe, "old").unwrap();
        let new = dir.path().join(".tend.new");
        std::fs::write(&new, "new").unwrap();
        let previous = swap(&exe, &new).unwrap();
        assert_eq!(previous, dir.path().join("tend.previous"));
        assert_eq!(std::fs::read_to_string(&exe).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&previous).unwrap(), "old");
        roll_back(&exe).unwrap();
        assert_eq!(std::fs::read_to_string(&exe).unwrap(), "old");
        assert!(!previous.exists());
    }

    #[test]
    fn urls() {
        let v = semver::Version::new(1, 2, 3);
        assert_eq!(binary_url("http://h/r/", &v, "x86_64"), "http://h/r/v1.2.3/tend-x86_64");
        let args: Vec<_> = cargo_install(&v).get_args().map(|a| a.to_owned()).collect();
        assert_eq!(args, ["install", "--locked", "tend-cli@1.2.3"]);
    }
}
