//! How this binary was installed, and so how it is upgraded.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// How tend was installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum InstallMode {
    /// `cargo install tend-cli`: under `CARGO_HOME/bin`, and cargo's install record
    /// (`.crates2.json`) names the package. Upgraded by `cargo install --locked`.
    Cargo,
    /// A standalone file that tend can replace.
    Binary,
    /// A system package manager owns the file: tend never replaces it.
    Package {
        /// Which manager (`dpkg`, `rpm`, `brew`, `nix`, or `system` when unknown).
        manager: String,
        /// The command that upgrades it.
        command: String,
    },
    /// Running from a cargo build tree: tend refuses to upgrade.
    Dev,
}

impl InstallMode {
    /// Its name: `cargo`, `binary`, `package`, `dev`.
    pub fn name(&self) -> &'static str {
        match self {
            InstallMode::Cargo => "cargo",
            InstallMode::Binary => "binary",
            InstallMode::Package { .. } => "package",
            InstallMode::Dev => "dev",
        }
    }

    /// The mode of the running binary.
    pub fn detect_current() -> InstallMode {
        match std::env::current_exe() {
            Ok(exe) => Probe::from_env().detect(&exe),
            Err(_) => InstallMode::Dev,
        }
    }
}

/// Where [`Probe::detect`] looks: the cargo home and the dpkg database (tests point them at
/// temp dirs).
#[derive(Debug, Clone)]
pub struct Probe {
    /// `CARGO_HOME`, else `~/.cargo`.
    pub cargo_home: Option<PathBuf>,
    /// `/var/lib/dpkg/info`: its `*.list` files name every file a Debian package owns.
    pub dpkg_info: PathBuf,
    /// `/var/lib/rpm`: present where rpm manages the system.
    pub rpm_db: PathBuf,
}

impl Probe {
    /// The probe of this machine.
    pub fn from_env() -> Probe {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::home_dir().map(|h| h.join(".cargo")));
        Probe {
            cargo_home,
            dpkg_info: PathBuf::from("/var/lib/dpkg/info"),
            rpm_db: PathBuf::from("/var/lib/rpm"),
        }
    }

    /// The install mode of the binary at `exe` (symlinks resolved), first match wins: in a
    /// cargo target dir → `dev`; in `CARGO_HOME/bin` and recorded by cargo → `cargo`; owned
    /// by a package manager → `package`; else `binary`.
    pub fn detect(&self, exe: &Path) -> InstallMode {
        let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
        if in_target_dir(&exe) {
            return InstallMode::Dev;
        }
        if let Some(home) = &self.cargo_home
            && let Ok(home) = std::fs::canonicalize(home)
            && exe.parent() == Some(home.join("bin").as_path())
            && cargo_recorded(&home, &exe)
        {
            return InstallMode::Cargo;
        }
        if let Some((manager, command)) = self.package_owner(&exe) {
            return InstallMode::Package { manager, command };
        }
        InstallMode::Binary
    }

    fn package_owner(&self, exe: &Path) -> Option<(String, String)> {
        let text = exe.to_string_lossy();
        let under = |prefix: &str| exe.starts_with(prefix);
        if under("/opt/homebrew") || under("/usr/local/Cellar") || under("/home/linuxbrew") {
            return Some(("brew".into(), "brew upgrade tend".into()));
        }
        if under("/nix/store") {
            return Some(("nix".into(), "update the flake or profile that provides tend".into()));
        }
        if let Some(package) = dpkg_owner(&self.dpkg_info, &text) {
            return Some(("dpkg".into(), format!("sudo apt-get install --only-upgrade {package}")));
        }
        let system = ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/lib", "/usr/libexec"];
        if system.iter().any(|p| under(p)) {
            if self.rpm_db.is_dir() {
                return Some((
                    "rpm".into(),
                    format!("sudo dnf upgrade \"$(rpm -qf --qf '%{{NAME}}' {text})\""),
                ));
            }
            return Some(("system".into(), "your system's package manager".into()));
        }
        None
    }
}

/// Whether `exe` is inside a cargo target dir (which holds `CACHEDIR.TAG` and
/// `.rustc_info.json`).
fn in_target_dir(exe: &Path) -> bool {
    exe.ancestors()
        .skip(1)
        .take(5)
        .any(|dir| dir.join("CACHEDIR.TAG").is_file() && dir.join(".rustc_info.json").is_file())
}

/// Whether cargo's install record (`.crates2.json`) says `tend-cli` installed `exe`'s name.
fn cargo_recorded(cargo_home: &Path, exe: &Path) -> bool {
    let Ok(bytes) = std::fs::read(cargo_home.join(".crates2.json")) else { return false };
    let Ok(record) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    let Some(name) = exe.file_name().and_then(|n| n.to_str()) else { return false };
    let Some(installs) = record.get("installs").and_then(|i| i.as_object()) else { return false };
    installs.iter().any(|(key, install)| {
        key.split_whitespace().next() == Some(crate::PACKAGE)
            && install.get("bins").and_then(|b| b.as_array()).is_some_and(|bins| {
                bins.iter().any(|b| {
                    b.as_str().is_some_and(|b| b == name || b.strip_suffix(".exe") == Some(name))
                })
            })
    })
}

/// The Debian package whose file list (`<info>/<package>.list`) holds `path`, without running
/// `dpkg -S`.
fn dpkg_owner(info: &Path, path: &str) -> Option<String> {
    let entries = std::fs::read_dir(info).ok()?;
    entries.flatten().find_map(|entry| {
        let file = entry.path();
        if file.extension().and_then(|e| e.to_str()) != Some("list") {
            return None;
        }
        let text = std::fs::read_to_string(&file).ok()?;
        text.lines().any(|line| line == path).then(|| {
            let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
            // `package:arch.list` on multi-arch systems.
            stem.unwrap_or_default().split(':').next().unwrap_or_default().to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn probe(root: &Path) -> Probe {
        Probe {
            cargo_home: Some(root.join("cargo")),
            dpkg_info: root.join("dpkg"),
            rpm_db: root.join("rpm"),
        }
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn cargo_install_needs_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("cargo/bin/tend");
        touch(&exe);
        // In CARGO_HOME/bin but no record: a file someone put there.
        assert_eq!(probe(dir.path()).detect(&exe), InstallMode::Binary);
        let record = r#"{"installs": {"tend-cli 0.2.0 (registry+https://github.com/rust-lang/crates.io-index)": {"bins": ["tend"]}}}"#;
        std::fs::write(dir.path().join("cargo/.crates2.json"), record).unwrap();
        assert_eq!(probe(dir.path()).detect(&exe), InstallMode::Cargo);
        // Another package's record does not count.
        let other = r#"{"installs": {"tend 1.0.0 (registry+x)": {"bins": ["tend"]}}}"#;
        std::fs::write(dir.path().join("cargo/.crates2.json"), other).unwrap();
        assert_eq!(probe(dir.path()).detect(&exe), InstallMode::Binary);
    }

    #[test]
    fn a_build_tree_is_dev() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("target/CACHEDIR.TAG"));
        touch(&dir.path().join("target/.rustc_info.json"));
        let exe = dir.path().join("target/debug/tend");
        touch(&exe);
        assert_eq!(probe(dir.path()).detect(&exe), InstallMode::Dev);
        let standalone = dir.path().join("bin/tend");
        touch(&standalone);
        assert_eq!(probe(dir.path()).detect(&standalone), InstallMode::Binary);
    }

    #[test]
    fn dpkg_lists_name_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("usr/bin/tend");
        touch(&exe);
        let exe = std::fs::canonicalize(&exe).unwrap();
        std::fs::create_dir_all(dir.path().join("dpkg")).unwrap();
        std::fs::write(dir.path().join("dpkg/other.list"), "/usr/bin/other\n").unwrap();
        std::fs::write(
            dir.path().join("dpkg/tend-cli:amd64.list"),
            format!("/.\n{}\n", exe.display()),
        )
        .unwrap();
        let mode = probe(dir.path()).detect(&exe);
        assert_eq!(
            mode,
            InstallMode::Package {
                manager: "dpkg".into(),
                command: "sudo apt-get install --only-upgrade tend-cli".into()
            }
        );
        assert_eq!(mode.name(), "package");
    }

    #[test]
    fn system_paths_are_packages() {
        let dir = tempfile::tempdir().unwrap();
        let mode = probe(dir.path()).detect(Path::new("/usr/bin/tend-nonexistent"));
        assert!(matches!(mode, InstallMode::Package { .. }), "{mode:?}");
        let brew = probe(dir.path()).detect(Path::new("/opt/homebrew/bin/tend"));
        assert!(matches!(brew, InstallMode::Package { manager, .. } if manager == "brew"));
    }
}
