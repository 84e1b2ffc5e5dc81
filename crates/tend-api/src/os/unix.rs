//! Unix: the control API is a Unix socket, `tend.sock` in the app folder or, when that path is
//! too long for a socket address, a short path named by `tend.sock.path`.

use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};

use crate::AppHome;
use crate::address::{pointer_path, socket_path};

/// The longest socket path that fits in `sun_path` (without the NUL): 104 bytes with it on
/// macOS.
#[cfg(target_os = "macos")]
pub const MAX_SOCKET_PATH: usize = 103;
/// The longest socket path that fits in `sun_path` (without the NUL): 108 bytes with it on
/// Linux.
#[cfg(not(target_os = "macos"))]
pub const MAX_SOCKET_PATH: usize = 107;

/// `tend.sock` if it is there, else the path the pointer file names, else `tend.sock` (which
/// then does not exist).
pub fn connect_path(home: &AppHome) -> PathBuf {
    let normal = socket_path(home);
    if normal.exists() {
        return normal;
    }
    // Bounded and never blocking, whatever is at the path.
    match tend_fs::read_state_file(&pointer_path(home), 64 * 1024) {
        Ok(bytes) if !String::from_utf8_lossy(&bytes).trim().is_empty() => {
            PathBuf::from(String::from_utf8_lossy(&bytes).trim())
        }
        _ => normal,
    }
}

/// `<tmp>/tend-<uid>`, created with mode 0700, and refused unless it is ours and private.
pub fn private_tmp() -> Result<PathBuf, String> {
    let uid = nix::unistd::Uid::current().as_raw();
    let dir = std::env::temp_dir().join(format!("tend-{uid}"));
    let mut builder = std::fs::DirBuilder::new();
    builder.mode(0o700);
    match builder.create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} is not a private folder of this user (mode 0700); remove it",
            dir.display()
        ));
    }
    Ok(dir)
}

/// Whether something accepts connections on `socket`. A full backlog is a socket someone
/// serves.
pub async fn answers(socket: &Path) -> bool {
    match tokio::net::UnixStream::connect(socket).await {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
    }
}

/// Connects to the app's socket.
pub async fn connect(socket: &Path) -> std::io::Result<tokio::net::UnixStream> {
    tokio::net::UnixStream::connect(socket).await
}
