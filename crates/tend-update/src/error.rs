use std::path::PathBuf;

/// An error of a check or an upgrade.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// A request failed: no network, a timeout, a refused connection, a status other than 200.
    #[error("fetching {url}: {message}")]
    Http {
        /// What was fetched.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// The index entry is not what cargo's sparse index serves.
    #[error("{url} is not a sparse index entry: {message}")]
    BadIndex {
        /// What was fetched.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A downloaded binary does not match its checksum or signature.
    #[error("{url}: {message}; nothing was installed")]
    Verification {
        /// The binary's URL.
        url: String,
        /// What did not match.
        message: String,
    },
    /// A file could not be read, written or renamed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A state file (`update.json`) could not be written.
    #[error(transparent)]
    Fs(#[from] tend_fs::FsError),
}

impl UpdateError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        UpdateError::Io { action, path: path.to_path_buf(), source }
    }
}
