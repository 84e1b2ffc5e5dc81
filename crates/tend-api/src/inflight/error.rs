//! What can go wrong with in-flight work.

use super::{MAX_ID_BYTES, MAX_LABEL_BYTES, MAX_OPEN_ITEMS, MAX_PROGRAM_BYTES};

/// An error of in-flight work: a rejected item, a state file that cannot be written, or (for
/// the client) an app that cannot be reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InflightError {
    /// The ID is empty.
    #[error("the ID is empty; give each unit of work a name, like job-17")]
    EmptyId,
    /// The ID is longer than [`MAX_ID_BYTES`].
    #[error("the ID is {len} bytes long; at most {MAX_ID_BYTES} are allowed")]
    IdTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The ID contains a control character (a newline, a tab…).
    #[error("the ID contains a control character; use printable characters only")]
    ControlInId,
    /// The label is longer than [`MAX_LABEL_BYTES`].
    #[error("the label is {len} bytes long; at most {MAX_LABEL_BYTES} are allowed")]
    LabelTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The program name is longer than [`MAX_PROGRAM_BYTES`].
    #[error("the program name is {len} bytes long; at most {MAX_PROGRAM_BYTES} are allowed")]
    ProgramTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// [`MAX_OPEN_ITEMS`] items are already open.
    #[error(
        "{MAX_OPEN_ITEMS} items are already in flight; finish some with `tend inflight done ID`"
    )]
    TooMany,
    /// The same ID appears twice in a journal read from disk.
    #[error("the ID `{id}` appears more than once")]
    Duplicate {
        /// The ID.
        id: String,
    },
    /// `inflight.json` cannot be written.
    #[error("cannot save the in-flight items")]
    Store(#[source] tend_fs::FsError),
    /// `inflight.json` was damaged and could not be moved aside: tend does not overwrite it.
    #[error(
        "{path} is damaged and could not be moved aside, so it is left alone; move it away and restart the app"
    )]
    Unavailable {
        /// The file.
        path: String,
    },
    /// The program does not run under tend (`TEND_STATE_DIR` is not set to an app folder).
    #[error("not running under tend: TEND_STATE_DIR does not name an app's state folder")]
    NotUnderTend,
    /// The app is not running: nothing answers on its control socket.
    #[error("app `{app}` is not running")]
    NotRunning {
        /// The app's name.
        app: String,
    },
    /// The app answered with an error.
    #[error("app `{app}`: {message}")]
    Rejected {
        /// The app's name.
        app: String,
        /// The HTTP status.
        status: u16,
        /// The app's message.
        message: String,
    },
    /// The app could not be reached or its answer could not be read.
    #[error("app `{app}`: {message}")]
    Failed {
        /// The app's name.
        app: String,
        /// What went wrong.
        message: String,
    },
    /// `TEND_RECOVERY` names a file that cannot be read or is not a recovery document.
    #[error("cannot read the recovery file {path}: {message}")]
    Recovery {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl InflightError {
    /// The HTTP status the control API answers this error with: 400 for a rejected item, 409
    /// when too many are open, 500 when the file cannot be written.
    pub fn http_status(&self) -> u16 {
        match self {
            InflightError::EmptyId
            | InflightError::IdTooLong { .. }
            | InflightError::ControlInId
            | InflightError::LabelTooLong { .. }
            | InflightError::ProgramTooLong { .. }
            | InflightError::Duplicate { .. } => 400,
            InflightError::TooMany => 409,
            InflightError::Rejected { status, .. } => *status,
            _ => 500,
        }
    }
}
