//! Linux and the other Unixes: systemd user units.

use crate::{Backend, Spec};

/// The backend of this platform for `spec`: a systemd user unit.
pub fn native(spec: Spec) -> Box<dyn Backend> {
    Box::new(crate::systemd::Systemd::new(spec))
}
