//! Errors of the runner.

use std::path::PathBuf;

/// An error from starting, stopping or tracking a process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The program's binary is not on the PATH the program would get.
    #[error("command `{name}` not found; searched PATH={path}")]
    BinaryNotFound {
        /// The program as configured.
        name: String,
        /// The PATH that was searched.
        path: String,
    },
    /// The program was given as a path, and no executable file is there.
    #[error("no executable file at `{path}`")]
    NotExecutable {
        /// The path as configured.
        path: String,
    },
    /// Spawning the process failed.
    #[error("starting `{program}`")]
    Spawn {
        /// The program as configured.
        program: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The working directory does not exist.
    #[error("working directory {} does not exist", dir.display())]
    NoSuchDir {
        /// The directory.
        dir: PathBuf,
    },
    /// The working directory is there, but it is not a folder.
    #[error("working directory {} is not a folder; point `dir` at a folder", dir.display())]
    NotADir {
        /// The path.
        dir: PathBuf,
    },
    /// The process failed to start: it vanished at spawn, or could not write its run record.
    #[error("process failed to start: {0}")]
    StartFailed(String),
    /// A pipe of a [`crate::CommandSpec`] was requested twice.
    #[error("{0} already taken")]
    PipeTaken(&'static str),
    /// Writing or removing a run record failed.
    #[error("run record")]
    Record(#[from] tend_fs::FsError),
    /// The Docker environment failed (no daemon, permission denied on its socket, image
    /// missing or unfit, an API call failed).
    #[cfg(feature = "docker")]
    #[error(transparent)]
    Docker(#[from] crate::DockerError),
    /// The Nix environment failed (nix not installed, no flake.nix, flakes disabled, a flake
    /// git does not track, the evaluation failed).
    #[error(transparent)]
    Nix(#[from] crate::NixError),
    /// An I/O error while inspecting or signalling processes.
    #[error("{action}")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl RunnerError {
    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        RunnerError::Io { action: action.into(), source }
    }
}
