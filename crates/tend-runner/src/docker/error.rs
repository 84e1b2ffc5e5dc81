//! What can go wrong with Docker, told apart so that the message says what to do:
//! [`DockerError`].

/// An error of the Docker environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DockerError {
    /// Nothing answers at the daemon's address.
    #[error(
        "no Docker daemon answers at {host} ({reason}); start it (e.g. `systemctl start docker`) or point DOCKER_HOST at one that runs"
    )]
    NoDaemon {
        /// The address tried (`DOCKER_HOST`, else the default socket).
        host: String,
        /// What the connection attempt said.
        reason: String,
    },
    /// The daemon's socket is there, but this user may not use it.
    #[error(
        "permission denied on the Docker socket {host}; add this user to the `docker` group (then log in again), or run tend as a user that may use Docker"
    )]
    SocketPermission {
        /// The socket's address.
        host: String,
    },
    /// The image is not on this machine.
    #[error(
        "image `{image}` is not on this machine; build it (a `build` table, or `docker build -t {image} …`) or pull it"
    )]
    ImageMissing {
        /// The image as configured.
        image: String,
    },
    /// The image lacks what tend needs inside the container.
    #[error(
        "image `{image}` cannot run tend programs: {missing}. tend runs each program through a small /bin/sh wrapper inside the container (to learn its pid there, stop its process group and find what it leaves behind), which needs /bin/sh, grep, sleep, setsid and /proc; add them (a static busybox is enough)"
    )]
    ImageUnfit {
        /// The image.
        image: String,
        /// What is missing.
        missing: String,
    },
    /// The app's container belongs to another tend that is still running.
    #[error(
        "container {container} belongs to another running tend (pid {pid}); stop that one first (`tend down`), or give this app another name"
    )]
    OwnedByOther {
        /// The container's name.
        container: String,
        /// The other tend's pid.
        pid: u32,
    },
    /// A request to the daemon failed.
    #[error("docker: {action}")]
    Api {
        /// What was being done.
        action: String,
        /// The daemon's or the client's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// An image build failed: at which step, why, and the last lines of its output.
    #[error("{}", build_failure(image, step.as_deref(), &format!("failed: {message}"), last_lines))]
    BuildFailed {
        /// The image being built.
        image: String,
        /// The step that failed (`Step 3/5 : RUN make`), if one had begun.
        step: Option<String>,
        /// The builder's error.
        message: String,
        /// The last lines of the build's output.
        last_lines: Vec<String>,
    },
    /// An image build took longer than it may.
    #[error(
        "{}",
        build_failure(
            image,
            step.as_deref(),
            &format!("did not finish within {}s (each extra adds to the timeout)", timeout.as_secs()),
            last_lines
        )
    )]
    BuildTimedOut {
        /// The image being built.
        image: String,
        /// How long it was given.
        timeout: std::time::Duration,
        /// The step it was in.
        step: Option<String>,
        /// The last lines of the build's output.
        last_lines: Vec<String>,
    },
    /// The in-container wrapper of a run did not answer as expected.
    #[error("docker: starting the run in the container: {0}")]
    Wrapper(String),
}

/// `building image `x` failed at Step 2/3 : RUN make: …`, then the last lines, indented.
fn build_failure(image: &str, step: Option<&str>, what: &str, last_lines: &[String]) -> String {
    let mut text = format!("building image `{image}`");
    if let Some(step) = step {
        text.push_str(&format!(" ({step})"));
    }
    text.push(' ');
    text.push_str(what);
    if !last_lines.is_empty() {
        text.push_str("\n  its last lines of output:");
        for line in last_lines {
            text.push_str("\n    ");
            text.push_str(line);
        }
    }
    text
}

impl DockerError {
    pub(crate) fn api(action: impl Into<String>, source: bollard::errors::Error) -> Self {
        DockerError::Api { action: action.into(), source }
    }
}

/// The daemon's address as bollard will use it: `DOCKER_HOST`, else the default socket.
pub(crate) fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| crate::os::DEFAULT_DOCKER_HOST.to_string())
}

/// Tells a failed connection attempt apart: permission denied on the socket, or no daemon.
pub(crate) fn connect_error(host: &str, err: &bollard::errors::Error) -> DockerError {
    use bollard::errors::Error as E;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::PermissionDenied
        {
            return DockerError::SocketPermission { host: host.to_string() };
        }
        source = e.source();
    }
    let reason = match err {
        E::SocketNotFoundError(path) => format!("no socket at {path}"),
        E::RequestTimeoutError => "it did not answer in time".to_string(),
        other => tend_fs::chain(other),
    };
    DockerError::NoDaemon { host: host.to_string(), reason }
}

/// Whether `err` is the daemon's 404.
pub(crate) fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(err, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}
