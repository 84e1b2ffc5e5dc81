//! `reap_stale` against real processes and hand-written records.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns

mod common;

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use tend_runner::{Owner, RECORD_VERSION, RunRecord, RunRegistry, current_boot_id, reap_stale};

/// An owner that is certainly gone: a process that ran and was reaped.
fn dead_owner() -> Owner {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    let start_time = tend_runner::process_stats(pid).map(|i| i.start_time).unwrap_or(1);
    child.wait().unwrap();
    Owner { pid, start_time }
}

fn record(pid: u32, start_time: u64, token: &str, owner: Owner) -> RunRecord {
    RunRecord {
        version: RECORD_VERSION,
        app: "app".into(),
        program: "prog".into(),
        pgid: pid,
        pid,
        start_time,
        boot_id: current_boot_id().unwrap(),
        argv: vec!["x".into()],
        cwd: "/".into(),
        run_id: token.into(),
        owner,
        started_at: 0,
    }
}

/// Starts `tend-testbin ARGS` in a new process group, carrying `token`, reaped by a thread.
fn start_group(token: &str, args: &[&str]) -> u32 {
    let mut child = Command::new(testbin())
        .args(args)
        .env(tend_runner::RUN_ID_VAR, token)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = child.id();
    std::thread::spawn(move || child.wait());
    pid
}

#[tokio::test]
async fn stale_groups_and_their_escaped_descendants_are_ended() {
    let dir = tempfile::tempdir().unwrap();
    let registry = RunRegistry::new(dir.path().join("runs"));
    let pidfile = dir.path().join("pids");
    let token = "0123456789abcdef0123456789abcdef";
    let leader = start_group(token, &["spawn-tree", pidfile.to_str().unwrap()]);
    let pids = pids_of(&wait_for_file(&pidfile, Duration::from_secs(20)).await);
    let _guard = KillOnDrop(pids.clone());
    let start = tend_runner::process_stats(leader).unwrap().start_time;
    registry.write(&record(leader, start, token, dead_owner())).unwrap();

    let report = reap_stale(&registry, Duration::from_secs(5)).await;
    assert!(report.processes_ended >= 4, "{report:?}");
    assert_eq!(report.records_cleared, 1);
    assert!(report.survivors.is_empty());
    assert_eq!(wait_all_dead(&pids, Duration::from_secs(5)).await, Vec::<u32>::new());
    assert!(registry.list().0.is_empty());
}

#[tokio::test]
async fn a_recycled_pid_is_never_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let registry = RunRegistry::new(dir.path().join("runs"));
    // A live process that is not the recorded one: the start time differs, and it does not
    // carry the record's token.
    let stranger = start_group("unrelated-token", &["sleep", "300"]);
    let _guard = KillOnDrop(vec![stranger]);
    let start = tend_runner::process_stats(stranger).unwrap().start_time;
    registry.write(&record(stranger, start + 1, "record-token", dead_owner())).unwrap();

    let report = reap_stale(&registry, Duration::from_secs(1)).await;
    assert_eq!(report.processes_ended, 0, "{report:?}");
    assert_eq!(report.records_cleared, 1);
    assert!(alive(stranger), "the unrelated process was killed");
}

#[tokio::test]
async fn records_of_a_live_owner_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let registry = RunRegistry::new(dir.path().join("runs"));
    let token = "live-owner-token";
    let pid = start_group(token, &["sleep", "300"]);
    let _guard = KillOnDrop(vec![pid]);
    let start = tend_runner::process_stats(pid).unwrap().start_time;
    registry.write(&record(pid, start, token, Owner::current())).unwrap();

    let report = reap_stale(&registry, Duration::from_secs(1)).await;
    assert_eq!((report.records_kept, report.processes_ended), (1, 0), "{report:?}");
    assert!(alive(pid));
    assert_eq!(registry.list().0.len(), 1);
}

#[tokio::test]
async fn damaged_records_are_set_aside_and_never_acted_on() {
    let dir = tempfile::tempdir().unwrap();
    let registry = RunRegistry::new(dir.path().join("runs"));
    std::fs::create_dir_all(registry.dir()).unwrap();
    let pid = start_group("damaged", &["sleep", "300"]);
    let _guard = KillOnDrop(vec![pid]);
    std::fs::write(registry.dir().join(format!("{pid}.json")), format!("{{\"pgid\": {pid}"))
        .unwrap();

    let report = reap_stale(&registry, Duration::from_secs(1)).await;
    assert_eq!(report.set_aside.len(), 1, "{report:?}");
    assert!(report.set_aside[0].to_string_lossy().contains(".corrupt-"));
    assert!(report.set_aside[0].exists());
    assert!(alive(pid));
}
