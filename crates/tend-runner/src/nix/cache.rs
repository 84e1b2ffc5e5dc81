//! The materialisation cache: one slot per flake folder under the cache folder, holding the
//! last evaluated dev shell ([`Entry`], `entry.json`), its GC root (`profile`, made by
//! `nix print-dev-env --profile`) and the evaluation lock (`lock`).
//!
//! An entry is a hit when its key is the current [`key`] (flake.nix, flake.lock, the system
//! and the folder) and its GC root still leads to the store path it was made with.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::NixError;
use super::shell::ShellEnv;

/// The entry format; another one is a miss.
pub(crate) const SCHEMA: u32 = 1;

/// The largest entry read (an entry is the shell's variables).
const ENTRY_LIMIT: u64 = 16 * 1024 * 1024;

/// The files of a flake whose change makes its dev shell evaluated again.
pub const FLAKE_FILES: [&str; 2] = ["flake.nix", "flake.lock"];

/// The system nix names this machine's (`x86_64-linux`, `aarch64-darwin`…), as
/// `builtins.currentSystem` says it, told without running nix.
pub fn host_system() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// The cache key of the flake in `dir` (an absolute folder) on `system`: a SHA-256 over the
/// folder, the system and the bytes of flake.nix and flake.lock (each length-prefixed; a
/// missing lock is told from an empty one), lowercase hex.
///
/// # Errors
/// flake.nix cannot be read (a missing one is [`NixError::NoFlake`]).
pub fn key(dir: &Path, system: &str) -> Result<String, NixError> {
    let mut hash = Sha256::new();
    hash.update(b"tend-nix-cache-v1\0");
    field(&mut hash, dir.to_string_lossy().as_bytes());
    field(&mut hash, system.as_bytes());
    for name in FLAKE_FILES {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                hash.update([1]);
                field(&mut hash, &bytes);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if name == "flake.nix" {
                    return Err(NixError::NoFlake { dir: dir.to_path_buf() });
                }
                hash.update([0]);
            }
            Err(e) => return Err(NixError::io("reading", &path, e)),
        }
    }
    Ok(hex(&hash.finalize()))
}

fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One cached evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The [`key`] it was evaluated for.
    pub key: String,
    /// The flake's folder.
    pub flake_dir: PathBuf,
    /// The system.
    pub system: String,
    /// The store path the GC root led to when it was made.
    pub store_path: PathBuf,
    /// When it was evaluated (seconds since the epoch).
    pub created_at: u64,
    /// The shell.
    pub shell: ShellEnv,
}

/// The folder of one flake's cache, its files named.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub dir: PathBuf,
}

impl Slot {
    /// The slot of the flake in `flake_dir` under `cache_dir`: the folder's name and a hash of
    /// its full path (`api-3f2a…`).
    pub fn of(cache_dir: &Path, flake_dir: &Path) -> Slot {
        let name: String = flake_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .take(40)
            .collect();
        let digest = Sha256::digest(flake_dir.to_string_lossy().as_bytes());
        let id = hex(&digest[..8]);
        let dir = if name.is_empty() { id } else { format!("{name}-{id}") };
        Slot { dir: cache_dir.join(dir) }
    }

    pub fn entry(&self) -> PathBuf {
        self.dir.join("entry.json")
    }

    /// The GC root: nix's profile symlink (`profile` → `profile-N-link` → the store path).
    pub fn profile(&self) -> PathBuf {
        self.dir.join("profile")
    }

    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }

    /// Creates the cache folder and the slot (private: an entry holds the shell's variables).
    pub fn create(&self) -> Result<(), NixError> {
        tend_fs::create_private_dir(&self.dir)
            .map_err(|e| NixError::io("creating the cache folder", &self.dir, e))
    }

    /// The store path the GC root leads to, if it still does.
    pub fn rooted_store_path(&self) -> Option<PathBuf> {
        std::fs::canonicalize(self.profile()).ok()
    }

    /// Removes the profile generations nix made before the current one (each is a GC root:
    /// keeping them would keep every earlier shell alive).
    pub fn prune_generations(&self) {
        let current = std::fs::read_link(self.profile()).ok();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let text = name.to_string_lossy();
            let generation = text.strip_prefix("profile-").and_then(|r| r.strip_suffix("-link"));
            if generation.is_some_and(|g| g.bytes().all(|b| b.is_ascii_digit()))
                && current.as_deref() != Some(Path::new(&name))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The entry, if it is a hit for `key`. A damaged entry (unreadable, not an entry) is
    /// moved aside and its new path returned with the miss.
    pub fn load(&self, key: &str) -> (Option<Entry>, Option<PathBuf>) {
        let path = self.entry();
        let bytes = match tend_fs::read_state_file(&path, ENTRY_LIMIT) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
            Err(_) => return (None, tend_fs::quarantine(&path).ok()),
        };
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(entry) => entry,
            Err(_) => return (None, tend_fs::quarantine(&path).ok()),
        };
        if entry.schema != SCHEMA || entry.key != key {
            return (None, None);
        }
        let rooted = self.rooted_store_path();
        let hit =
            rooted.as_deref() == Some(entry.store_path.as_path()) && entry.store_path.exists();
        (hit.then_some(entry), None)
    }

    /// Writes `entry` atomically (mode 0600).
    pub fn save(&self, entry: &Entry) -> Result<(), tend_fs::FsError> {
        tend_fs::write_json(&self.entry(), entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_the_flake_files_and_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(matches!(key(d, "x86_64-linux"), Err(NixError::NoFlake { .. })));
        std::fs::write(d.join("flake.nix"), "{ }").unwrap();
        let first = key(d, "x86_64-linux").unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(first, key(d, "x86_64-linux").unwrap());
        assert_ne!(first, key(d, "aarch64-linux").unwrap());
        std::fs::write(d.join("flake.lock"), "").unwrap();
        let locked = key(d, "x86_64-linux").unwrap();
        assert_ne!(first, locked, "an empty lock is not a missing one");
        std::fs::write(d.join("flake.nix"), "{  }").unwrap();
        assert_ne!(locked, key(d, "x86_64-linux").unwrap());
    }

    #[test]
    fn host_system_is_nix_style() {
        let system = host_system();
        assert!(system.ends_with("-linux") || system.ends_with("-darwin") || system.contains('-'));
        assert!(!system.contains("macos"));
    }

    #[test]
    fn slots_are_named_by_folder_and_path() {
        let a = Slot::of(Path::new("/c"), Path::new("/x/my app"));
        let b = Slot::of(Path::new("/c"), Path::new("/y/my app"));
        assert_ne!(a.dir, b.dir);
        assert!(a.dir.file_name().unwrap().to_string_lossy().starts_with("my_app-"));
    }

    #[test]
    fn a_damaged_entry_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let slot = Slot::of(dir.path(), Path::new("/f"));
        slot.create().unwrap();
        std::fs::write(slot.entry(), "{ torn").unwrap();
        let (hit, aside) = slot.load("k");
        assert!(hit.is_none());
        assert!(aside.is_some_and(|p| p.exists()));
        assert!(!slot.entry().exists());
        assert_eq!(slot.load("k"), (None, None));
    }

    #[cfg(unix)]
    #[test]
    fn old_generations_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let slot = Slot::of(dir.path(), Path::new("/f"));
        slot.create().unwrap();
        for n in 1..=3 {
            std::os::unix::fs::symlink("/nonexistent", slot.dir.join(format!("profile-{n}-link")))
                .unwrap();
        }
        std::os::unix::fs::symlink("profile-3-link", slot.profile()).unwrap();
        slot.prune_generations();
        let mut names: Vec<String> = std::fs::read_dir(&slot.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["profile", "profile-3-link"]);
    }
}
