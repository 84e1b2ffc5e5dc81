//! Windows: Task Scheduler tasks, `DOMAIN\name` users, and commands without a console window.

use crate::{Backend, Spec};

/// The backend of this platform for `spec`: a Task Scheduler task.
pub fn native(spec: Spec) -> Box<dyn Backend> {
    Box::new(crate::windows::TaskScheduler::new(spec))
}

/// No console window flashes up for `cmd`.
pub fn quiet(cmd: &mut std::process::Command) {
    use std::os::windows::process::CommandExt as _;
    /// `CREATE_NO_WINDOW`.
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    cmd.creation_flags(CREATE_NO_WINDOW);
}

/// The current user as `DOMAIN\name` (Task Scheduler's form); no numeric id on Windows.
pub fn current_user() -> (String, u32) {
    let name = std::env::var("USERNAME").unwrap_or_default();
    match std::env::var("USERDOMAIN") {
        Ok(domain) if !domain.is_empty() && !name.is_empty() => (format!("{domain}\\{name}"), 0),
        _ => (name, 0),
    }
}
