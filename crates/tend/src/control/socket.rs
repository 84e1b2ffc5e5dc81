//! Where an app's control socket lives, and how it accepts connections ([`SocketListener`]).
//!
//! Normally `$TEND_HOME/apps/<app>/tend.sock`. A Unix socket path must fit in `sun_path`
//! (108 bytes with its NUL on Linux, 104 on macOS); when the normal path is longer, the socket
//! goes to `$XDG_RUNTIME_DIR/tend-<hash>.sock` (or `<tmp>/tend-<uid>/<hash>.sock`, a folder of
//! our own with mode 0700), and `tend.sock.path` in the app folder holds that path so that the
//! CLI finds it.

use std::path::{Path, PathBuf};

use crate::home::AppHome;

/// The longest socket path that fits (without the NUL).
#[cfg(target_os = "macos")]
pub const MAX_SOCKET_PATH: usize = 103;
/// The longest socket path that fits (without the NUL).
#[cfg(not(target_os = "macos"))]
pub const MAX_SOCKET_PATH: usize = 107;

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
    #[cfg(windows)]
    return PathBuf::from(super::pipe::pipe_name(home));
    #[cfg(not(windows))]
    connect_unix(home)
}

#[cfg(not(windows))]
fn connect_unix(home: &AppHome) -> PathBuf {
    let normal = socket_path(home);
    if normal.exists() {
        return normal;
    }
    match tend_fs::read_state_file(&pointer_path(home), 64 * 1024) {
        Ok(bytes) if !String::from_utf8_lossy(&bytes).trim().is_empty() => {
            PathBuf::from(String::from_utf8_lossy(&bytes).trim())
        }
        _ => normal,
    }
}

/// Where the server binds, and whether that is a short path behind the pointer file.
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
        None => private_tmp()?.join(name),
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

/// `<tmp>/tend-<uid>`, created with mode 0700, and refused unless it is ours and private.
fn private_tmp() -> Result<PathBuf, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
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
    #[cfg(not(unix))]
    {
        Err("no short socket folder on this platform".into())
    }
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

/// Accepts connections on the app's Unix socket, and survives running out of descriptors.
///
/// It keeps one descriptor in reserve (`/dev/null`). When an accept fails for want of
/// descriptors (`EMFILE`, `ENFILE`), it says so once, gives up the reserve to take the waiting
/// connection and close it at once (so that the client hears a refusal instead of hanging),
/// and takes the reserve back; when even that fails, it waits for a descriptor to be freed
/// ([`EXHAUSTED_RETRY`] between attempts) rather than spinning. The first connection served
/// again is logged too.
#[cfg(unix)]
#[derive(Debug)]
pub struct SocketListener {
    listener: tokio::net::UnixListener,
    reserve: Option<std::fs::File>,
    /// Whether descriptors ran out and have not been seen back yet.
    exhausted: bool,
}

/// How long the accept loop waits for a free descriptor when it has none in reserve.
#[cfg(unix)]
pub const EXHAUSTED_RETRY: std::time::Duration = std::time::Duration::from_millis(250);

#[cfg(unix)]
impl SocketListener {
    /// Accepts on `listener`, with a descriptor in reserve.
    pub fn new(listener: tokio::net::UnixListener) -> SocketListener {
        SocketListener { listener, reserve: reserve(), exhausted: false }
    }

    /// The next connection, or the error of a failed accept.
    async fn try_accept(
        &mut self,
    ) -> std::io::Result<(tokio::net::UnixStream, tokio::net::unix::SocketAddr)> {
        let (stream, addr) = self.listener.accept().await?;
        if self.reserve.is_none() {
            self.reserve = reserve();
            if self.reserve.is_none() {
                // Serving it would leave no descriptor to recover with.
                return Err(std::io::Error::from_raw_os_error(libc::EMFILE));
            }
        }
        Ok((stream, addr))
    }

    /// Handles a failed accept: said once, then recovered from without spinning.
    async fn failed(&mut self, e: &std::io::Error) {
        use std::io::ErrorKind;
        if matches!(
            e.kind(),
            ErrorKind::ConnectionAborted
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionRefused
        ) {
            return;
        }
        let no_descriptors = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
        if !self.exhausted {
            self.exhausted = true;
            if no_descriptors {
                tracing::warn!(
                    "control API: out of file descriptors ({e}); refusing connections until some                      are freed; raise the limit of open files (ulimit -n) if this lasts"
                );
            } else {
                tracing::warn!("control API: cannot accept connections: {e}; trying again");
            }
        }
        if no_descriptors && let Some(spare) = self.reserve.take() {
            drop(spare);
            // The descriptor just freed takes the waiting connection, which is closed at once.
            if let Ok(Ok((refused, _))) =
                tokio::time::timeout(EXHAUSTED_RETRY, self.listener.accept()).await
            {
                drop(refused);
            }
            self.reserve = reserve();
            if self.reserve.is_some() {
                return;
            }
        }
        tokio::time::sleep(EXHAUSTED_RETRY).await;
        if self.reserve.is_none() {
            self.reserve = reserve();
        }
    }
}

#[cfg(unix)]
fn reserve() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

#[cfg(unix)]
impl axum::serve::Listener for SocketListener {
    type Io = tokio::net::UnixStream;
    type Addr = tokio::net::unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.try_accept().await {
                Ok(accepted) => {
                    if std::mem::take(&mut self.exhausted) {
                        tracing::info!("control API: accepting connections again");
                    }
                    return accepted;
                }
                Err(e) => self.failed(&e).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
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
}
