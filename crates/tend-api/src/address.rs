//! Where an app's control API listens.
//!
//! On Unix, a socket: normally `$TEND_HOME/apps/<app>/tend.sock`. A Unix socket path must fit
//! in `sun_path` (108 bytes with its NUL on Linux, 104 on macOS); when the normal path is
//! longer, the socket goes to `$XDG_RUNTIME_DIR/tend-<hash>.sock` (or
//! `<tmp>/tend-<uid>/<hash>.sock`, a folder of our own with mode 0700), and `tend.sock.path` in
//! the app folder holds that path so that clients find it. On Windows, a named pipe,
//! `\\.\pipe\tend-<hash>`. The hash is that of the app folder: the same on every run.
//!
//! ```
//! use std::path::Path;
//! use tend_api::{AppHome, address};
//!
//! let home = AppHome::new(Path::new("/tmp/h"), "web");
//! assert_eq!(address::socket_path(&home), Path::new("/tmp/h/apps/web/tend.sock"));
//! assert!(address::pipe_name(&home).starts_with(r"\\.\pipe\tend-"));
//! ```

use std::path::{Path, PathBuf};

use crate::AppHome;

pub use crate::os::MAX_SOCKET_PATH;

/// `<app>/tend.sock`: the socket's normal place.
pub fn socket_path(home: &AppHome) -> PathBuf {
    home.dir.join("tend.sock")
}

/// `<app>/tend.sock.path`: the pointer to a socket that had to go elsewhere.
pub fn pointer_path(home: &AppHome) -> PathBuf {
    home.dir.join("tend.sock.path")
}

/// Whether `path` fits in a socket address.
pub fn fits(path: &Path) -> bool {
    path.as_os_str().len() <= MAX_SOCKET_PATH
}

/// The socket a client should connect to: on Windows the app's named pipe; elsewhere
/// `tend.sock` if it is there, else the path the pointer file names, else `tend.sock` (which
/// then does not exist).
pub fn connect_path(home: &AppHome) -> PathBuf {
    crate::os::connect_path(home)
}

/// Where the server binds its Unix socket, and whether that is a short path behind the
/// pointer file.
///
/// # Errors
/// When the normal path is too long and no short folder can be used.
pub fn bind_path(home: &AppHome) -> Result<(PathBuf, bool), String> {
    let normal = socket_path(home);
    if fits(&normal) {
        return Ok((normal, false));
    }
    let name = format!("{:016x}.sock", stable_hash(&home.dir));
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute() && dir.is_dir());
    let short = match runtime {
        Some(dir) => dir.join(format!("tend-{name}")),
        None => crate::os::private_tmp()?.join(name),
    };
    if fits(&short) {
        Ok((short, true))
    } else {
        Err(format!(
            "{} is {} bytes, over the limit of {MAX_SOCKET_PATH}, and so is {}",
            normal.display(),
            normal.as_os_str().len(),
            short.display()
        ))
    }
}

/// The named pipe of the app at `home` (the control API on Windows):
/// `\\.\pipe\tend-<hash of the app folder>`.
pub fn pipe_name(home: &AppHome) -> String {
    format!(r"\\.\pipe\tend-{:016x}", stable_hash(&home.dir))
}

/// A stable 64-bit name for a path (the app folder): the same on every run and machine.
pub fn stable_hash(path: &Path) -> u64 {
    fnv1a(path.as_os_str().as_encoded_bytes())
}

/// FNV-1a, 64 bits: a stable name for an app folder.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn short_homes_use_the_app_folder() {
        let home = AppHome::new(Path::new("/tmp/h"), "web");
        assert_eq!(bind_path(&home).unwrap(), (PathBuf::from("/tmp/h/apps/web/tend.sock"), false));
    }

    #[test]
    fn long_homes_get_a_short_path() {
        let long = format!("/tmp/{}", "x".repeat(120));
        let home = AppHome::new(Path::new(&long), "web");
        let (path, pointer) = bind_path(&home).unwrap();
        assert!(pointer);
        assert!(fits(&path), "{}", path.display());
        // Stable: the same folder gives the same path.
        assert_eq!(bind_path(&home).unwrap().0, path);
    }

    #[cfg(unix)]
    #[test]
    fn clients_follow_the_pointer_file_only_without_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let home = AppHome::new(dir.path(), "web");
        std::fs::create_dir_all(&home.dir).unwrap();
        assert_eq!(connect_path(&home), socket_path(&home), "neither: the normal place");
        std::fs::write(pointer_path(&home), "/run/user/1/tend-0123.sock\n").unwrap();
        assert_eq!(connect_path(&home), PathBuf::from("/run/user/1/tend-0123.sock"));
        std::fs::write(socket_path(&home), "").unwrap();
        assert_eq!(connect_path(&home), socket_path(&home), "the socket wins");
    }
}
