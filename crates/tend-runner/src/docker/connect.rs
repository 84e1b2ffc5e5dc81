//! Reaching the daemon: the client, the API version, and the typed errors of a failed
//! connection.

use std::time::Duration;

use bollard::Docker;

use super::error::{DockerError, connect_error, docker_host};

/// How long the daemon has to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The lowest API version tend uses (Docker Engine 20.10).
const MIN_API: (usize, usize) = (1, 41);

/// Connects to the daemon at `DOCKER_HOST` (else the default socket) and agrees on the API
/// version: the client's own, lowered to the daemon's when that is older (20.10 speaks 1.41).
///
/// # Errors
/// [`DockerError::NoDaemon`] (nothing answers, or too old a daemon),
/// [`DockerError::SocketPermission`].
pub(crate) async fn connect() -> Result<Docker, DockerError> {
    let host = docker_host();
    let docker = Docker::connect_with_host(&host).map_err(|e| connect_error(&host, &e))?;
    let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(docker)) => docker,
        Ok(Err(e)) => return Err(connect_error(&host, &e)),
        Err(_) => {
            return Err(DockerError::NoDaemon {
                host,
                reason: format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
            });
        }
    };
    let version = docker.client_version();
    if (version.major_version, version.minor_version) < MIN_API {
        return Err(DockerError::NoDaemon {
            host,
            reason: format!(
                "it speaks API {}.{}, tend needs {}.{} (Docker Engine 20.10) or later",
                version.major_version, version.minor_version, MIN_API.0, MIN_API.1
            ),
        });
    }
    Ok(docker)
}

/// Whether a daemon answers at `DOCKER_HOST` (else the default socket), speaking API 1.41 or
/// later: for callers that use Docker only when it is there (`tend reap`).
///
/// # Errors
/// [`DockerError::NoDaemon`], [`DockerError::SocketPermission`].
pub async fn ping() -> Result<(), DockerError> {
    connect().await.map(drop)
}
