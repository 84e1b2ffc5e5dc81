#![allow(dead_code, clippy::expect_used)]
//! Shared helpers for the runner's real-process tests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The helper binary built by `cargo test --workspace`.
pub fn testbin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("tend-testbin{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

pub fn testbin_str() -> String {
    testbin().to_string_lossy().into_owned()
}

/// Waits (bounded) until `path` exists and returns its content.
pub async fn wait_for_file(path: &Path, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(Instant::now() < deadline, "{} did not appear within {limit:?}", path.display());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether `pid` is alive (a zombie counts as dead).
pub fn alive(pid: u32) -> bool {
    tend_runner::process_stats(pid).is_some_and(|i| !i.state.has_ended())
}

/// Waits (bounded) until none of `pids` is alive; returns the ones still alive.
pub async fn wait_all_dead(pids: &[u32], limit: Duration) -> Vec<u32> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn pids_of(text: &str) -> Vec<u32> {
    text.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

/// Kills test-started processes that a failing test may have left.
pub struct KillOnDrop(pub Vec<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            // SAFETY: kill has no memory-safety preconditions; the pids were started by this test.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
    }
}
