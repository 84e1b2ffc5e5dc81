//! The `PATH` a service gets. Service managers start programs with a minimal `PATH`, so a
//! program that runs from a terminal (`node`, `python3`, `cargo`) may not be found under the
//! service. The service's `PATH` is: the folder of the tend binary, the installing shell's
//! `PATH`, the bin folders of common per-user toolchains (nvm, cargo, ~/.local, Homebrew), then
//! the system folders; each folder once, in that order.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// System folders every service `PATH` ends with.
pub const SYSTEM: [&str; 6] =
    ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"];

/// The per-user toolchain bin folders under `home` that exist, newest Node first.
pub fn discover(home: &Path) -> Vec<PathBuf> {
    let mut found = nvm_bins(home);
    let candidates = [
        home.join(".cargo").join("bin"),
        home.join(".local").join("bin"),
        home.join(".npm-global").join("bin"),
        PathBuf::from("/opt/homebrew/bin"),
        PathBuf::from("/home/linuxbrew/.linuxbrew/bin"),
    ];
    found.extend(candidates.into_iter().filter(|p| p.is_dir()));
    found
}

/// `~/.nvm/versions/node/*/bin`, highest version first (compared as numbers: v22 before v9).
fn nvm_bins(home: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(home.join(".nvm").join("versions").join("node")) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u64>, PathBuf)> = entries
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.is_dir())
        .filter_map(|bin| {
            let name = bin.parent()?.file_name()?.to_string_lossy().into_owned();
            Some((version_key(&name), bin))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    versions.into_iter().map(|(_, bin)| bin).collect()
}

/// `v22.1.0` → `[22, 1, 0]`; parts that are not numbers count as 0.
pub fn version_key(name: &str) -> Vec<u64> {
    name.trim_start_matches('v').split('.').map(|part| part.parse().unwrap_or(0)).collect()
}

/// The service's `PATH`: `bin_dir`, then the absolute entries of `current`, then `found`, then
/// [`SYSTEM`]; duplicates keep their first place.
pub fn service_path(
    bin_dir: Option<&Path>,
    current: Option<&OsStr>,
    found: &[PathBuf],
) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = Vec::new();
    all.extend(bin_dir.map(Path::to_path_buf));
    if let Some(current) = current {
        all.extend(std::env::split_paths(current).filter(|p| p.is_absolute()));
    }
    all.extend(found.iter().cloned());
    all.extend(SYSTEM.iter().map(PathBuf::from));
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in all {
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

/// `dirs` joined with `:` (the services that take a `PATH` are all Unix).
pub fn join(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.to_string_lossy()).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_order_and_dedup() {
        let path = service_path(
            Some(Path::new("/opt/tend/bin")),
            Some(OsStr::new("/usr/bin:relative:/home/a/.cargo/bin:/usr/bin")),
            &[
                PathBuf::from("/home/a/.cargo/bin"),
                PathBuf::from("/home/a/.nvm/versions/node/v22.0.0/bin"),
            ],
        );
        assert_eq!(
            join(&path),
            "/opt/tend/bin:/usr/bin:/home/a/.cargo/bin:/home/a/.nvm/versions/node/v22.0.0/bin:\
/usr/local/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
        );
    }

    #[test]
    fn nvm_versions_sort_as_numbers() {
        let home = tempfile::tempdir().unwrap();
        for v in ["v9.11.2", "v22.3.0", "v18.20.1", "v22.10.0"] {
            std::fs::create_dir_all(home.path().join(".nvm/versions/node").join(v).join("bin"))
                .unwrap();
        }
        let names: Vec<String> = nvm_bins(home.path())
            .iter()
            .map(|p| p.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["v22.10.0", "v22.3.0", "v18.20.1", "v9.11.2"]);
        assert!(discover(home.path()).starts_with(&nvm_bins(home.path())));
    }
}
