use std::path::{Path, PathBuf};

/// An error from a file operation of this crate. Each variant names the file it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// An I/O operation on `path` failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done, as a lowercase verb phrase ("writing", "renaming").
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A state folder or file that another user could change ([`crate::check_private`]).
    #[error(
        "{} {problem}: another user could change tend's state there, so tend does not use it; \
         fix it with `{fix}`",
        path.display()
    )]
    Exposed {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// A value could not be serialised to JSON.
    #[error("serialising JSON for {}", path.display())]
    Serialize {
        /// The file that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl FsError {
    /// Builds an [`FsError::Io`].
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        FsError::Io { action, path: path.to_path_buf(), source }
    }
}

/// Formats an error and its chain of causes as `outer: cause: root`, leaving out a cause whose
/// text the message already ends with. The one formatter every tend crate uses for messages.
///
/// ```
/// let error = std::io::Error::other("disk full");
/// assert_eq!(tend_fs::chain(&error), "disk full");
/// ```
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
