//! macOS: launchd agents.

use crate::{Backend, Spec};

/// The backend of this platform for `spec`: a launchd agent.
pub fn native(spec: Spec) -> Box<dyn Backend> {
    Box::new(crate::launchd::Launchd::new(spec))
}
