//! With a subreaper, orphans of a program are adopted and reaped: none is left as a zombie.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use common::*;
use tend_runner::{CommandSpec, Environment as _, NativeEnvironment};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_adopted_ended_and_reaped() {
    tend_runner::enable_subreaper().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let argv = vec![testbin_str(), "spawn-tree".into(), pidfile.to_string_lossy().into_owned()];
    let child = NativeEnvironment::new().spawn(CommandSpec::new(argv, dir.path())).await.unwrap();
    let pids = pids_of(&wait_for_file(&pidfile, Duration::from_secs(20)).await);
    let _guard = KillOnDrop(pids.clone());
    let orphan = *pids.last().unwrap();
    // The double-forked orphan was adopted by us.
    let parent = tend_runner::process_stats(orphan).unwrap().ppid;
    assert_eq!(parent, std::process::id(), "the orphan was not adopted");

    let report = child.stop().await.unwrap();
    assert!(report.survivors.is_empty(), "{report:?}");
    // Reaped, not merely dead: no entry in /proc at all.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<u32> =
            pids.iter().copied().filter(|p| tend_runner::process_stats(*p).is_some()).collect();
        if left.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "zombies or survivors left: {left:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
