//! The build of this binary: version, commit, date, target.

use serde::{Deserialize, Serialize};

/// The bytes that start the version slot of the binary.
pub const VERSION_SLOT_PREFIX: &[u8] = b"@@TEND-VERSION-SLOT@@";

const SLOT_LEN: usize = 48;

/// A test hook: a binary whose slot is patched ([`patch_version`]) reports that version. Tests
/// build a "new" tend by copying the binary and patching its copy, without a second compile.
static VERSION_SLOT: [u8; SLOT_LEN] = {
    let mut slot = [0u8; SLOT_LEN];
    let mut i = 0;
    while i < VERSION_SLOT_PREFIX.len() {
        slot[i] = VERSION_SLOT_PREFIX[i];
        i += 1;
    }
    slot
};

/// What `tend version` reports about this build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// The version (`TEND_BUILD_VERSION` at compile time, else the package's; a patched slot
    /// wins — a test hook).
    pub version: String,
    /// The git commit it was built from, `unknown` when built without git (a crates.io
    /// tarball).
    pub commit: String,
    /// The build date, `YYYY-MM-DD` (`SOURCE_DATE_EPOCH` for reproducible builds).
    pub build_date: String,
    /// The target triple.
    pub target: String,
}

impl BuildInfo {
    /// This binary's build.
    pub fn current() -> BuildInfo {
        BuildInfo {
            version: slot_version()
                .or_else(|| option_env!("TEND_BUILD_VERSION").map(str::to_owned))
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
            commit: env!("TEND_BUILD_COMMIT_INFO").to_owned(),
            build_date: env!("TEND_BUILD_DATE_INFO").to_owned(),
            target: env!("TEND_BUILD_TARGET_INFO").to_owned(),
        }
    }

    /// The version as semver (`0.0.0` if it is not one).
    pub fn semver(&self) -> semver::Version {
        semver::Version::parse(&self.version).unwrap_or(semver::Version::new(0, 0, 0))
    }
}

fn slot_version() -> Option<String> {
    // Read through black_box: the compiler must not fold the slot to its initial value.
    let slot: &[u8; SLOT_LEN] = std::hint::black_box(&VERSION_SLOT);
    let rest = &slot[VERSION_SLOT_PREFIX.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let text = std::str::from_utf8(&rest[..end]).ok()?;
    (!text.is_empty()).then(|| text.to_owned())
}

/// Writes `version` into the version slot of a binary's bytes (a test hook). Returns false when
/// the binary holds no slot, or more than one, or the version is too long.
pub fn patch_version(binary: &mut [u8], version: &str) -> bool {
    let room = SLOT_LEN - VERSION_SLOT_PREFIX.len();
    if version.is_empty() || version.len() >= room {
        return false;
    }
    let found: Vec<usize> = binary
        .windows(SLOT_LEN)
        .enumerate()
        .filter(|(_, w)| {
            w.starts_with(VERSION_SLOT_PREFIX)
                && w[VERSION_SLOT_PREFIX.len()..].iter().all(|&b| b == 0)
        })
        .map(|(i, _)| i)
        .collect();
    let [at] = found.as_slice() else { return false };
    let start = at + VERSION_SLOT_PREFIX.len();
    binary[start..start + version.len()].copy_from_slice(version.as_bytes());
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn current_build() {
        let info = BuildInfo::current();
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.build_date.len(), 10);
        assert!(!info.commit.is_empty() && !info.target.is_empty());
    }

    #[test]
    fn patching_the_slot() {
        let mut bytes = b"xx".to_vec();
        bytes.extend_from_slice(&VERSION_SLOT);
        bytes.extend_from_slice(b"yy");
        assert!(patch_version(&mut bytes, "9.9.9"));
        let at = 2 + VERSION_SLOT_PREFIX.len();
        assert_eq!(&bytes[at..at + 6], b"9.9.9\0");
        // Patched once, it is no longer an empty slot.
        assert!(!patch_version(&mut bytes, "1.0.0"));
        assert!(!patch_version(&mut b"nothing here".to_vec(), "1.0.0"));
    }
}
