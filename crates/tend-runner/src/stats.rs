//! Process state, CPU time and memory of a pid.

use std::time::Duration;

/// The scheduling state of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessState {
    /// Running or runnable.
    Running,
    /// Sleeping, waiting for an event.
    Sleeping,
    /// In uninterruptible sleep (usually I/O).
    DiskSleep,
    /// Stopped by a signal (SIGSTOP, SIGTSTP) or a tracer.
    Stopped,
    /// Ended but not yet reaped by its parent.
    Zombie,
    /// Dead.
    Dead,
    /// An idle kernel thread.
    Idle,
    /// Any state this table does not know.
    Unknown,
}

impl ProcessState {
    /// Maps the one-letter code of `ps` and `/proc/<pid>/stat`.
    pub fn from_code(code: char) -> Self {
        match code {
            'R' => ProcessState::Running,
            'S' => ProcessState::Sleeping,
            'D' => ProcessState::DiskSleep,
            'T' | 't' => ProcessState::Stopped,
            'Z' => ProcessState::Zombie,
            'X' | 'x' => ProcessState::Dead,
            'I' => ProcessState::Idle,
            _ => ProcessState::Unknown,
        }
    }

    /// Whether the process has ended (zombie or dead).
    pub fn has_ended(self) -> bool {
        matches!(self, ProcessState::Zombie | ProcessState::Dead)
    }
}

/// What the system says about one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcInfo {
    /// The process id.
    pub pid: u32,
    /// The parent's pid.
    pub ppid: u32,
    /// The process group id.
    pub pgid: u32,
    /// The start time in an OS-specific unit (clock ticks since boot on Linux), used to tell a
    /// process from a later one that got the same pid.
    pub start_time: u64,
    /// The scheduling state.
    pub state: ProcessState,
    /// User + system CPU time used so far.
    pub cpu_time: Duration,
    /// Resident memory in bytes.
    pub rss_bytes: u64,
}

/// State, CPU time and resident memory of `pid`, or `None` if there is no such process.
///
/// ```
/// let me = tend_runner::process_stats(std::process::id()).expect("we exist");
/// assert!(me.rss_bytes > 0);
/// ```
pub fn process_stats(pid: u32) -> Option<ProcInfo> {
    crate::os::process_info(pid)
}
