//! Real processes through the native environment: output, exit, stop, tree-kill, records.
#![cfg(unix)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tend_runner::{
    Environment as _, Exit, MemorySink, NativeEnvironment, RecordSpec, RunRegistry, RunnerError,
    Signal, StopPolicy, Stream,
};

const LIMIT: Duration = Duration::from_secs(20);

fn env() -> NativeEnvironment {
    NativeEnvironment::new(std::env::temp_dir())
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn runs_to_completion_with_output_and_code() {
    let sink = MemorySink::default();
    let mut proc = env().new_proc("sh", &args(&["-c", "echo out; echo err >&2; exit 3"])).unwrap();
    proc.output(Arc::new(sink.clone()));
    let end = tokio::time::timeout(LIMIT, proc.run()).await.unwrap().unwrap();
    assert_eq!(end, Exit::Code(3));
    let mut lines = sink.lines();
    lines.sort_by_key(|(s, _)| *s == Stream::Stderr);
    assert_eq!(lines, vec![(Stream::Stdout, "out".into()), (Stream::Stderr, "err".into())]);
}

#[tokio::test]
async fn wait_on_never_started_returns_at_once() {
    let mut proc = env().new_proc("true", &[]).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(1), proc.wait()).await.unwrap();
    assert!(matches!(result, Err(RunnerError::NotStarted)), "{result:?}");
}

#[tokio::test]
async fn stop_before_start_prevents_start_and_resolves_waiters() {
    let mut proc = env().new_proc("true", &[]).unwrap();
    let handle = proc.handle();
    let report = proc.stop().await.unwrap();
    assert_eq!(report.end, None);
    assert!(matches!(proc.start().await, Err(RunnerError::StoppedBeforeStart)));
    let waited = tokio::time::timeout(Duration::from_secs(1), handle.wait()).await.unwrap();
    assert!(waited.is_err());
}

#[tokio::test]
async fn many_waiters_share_one_result_and_start_twice_fails() {
    let mut proc = env().new_proc("sh", &args(&["-c", "exit 7"])).unwrap();
    let (a, b) = (proc.handle(), proc.handle());
    proc.start().await.unwrap();
    assert!(matches!(proc.start().await, Err(RunnerError::AlreadyStarted)));
    let (x, y) = tokio::join!(a.wait(), b.wait());
    assert_eq!(x.unwrap(), Exit::Code(7));
    assert_eq!(y.unwrap(), Exit::Code(7));
    assert_eq!(proc.wait().await.unwrap(), Exit::Code(7));
}

#[tokio::test]
async fn missing_binary_names_it_and_the_path() {
    let mut proc = env().new_proc("no-such-binary-for-tend", &[]).unwrap();
    proc.env("PATH", "/nonexistent/bin");
    let err = proc.start().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no-such-binary-for-tend") && text.contains("/nonexistent/bin"),
        "{text}"
    );
    assert!(env().ensure_binary("sh").is_ok());
}

#[tokio::test]
async fn env_append_extends_inherited_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env");
    let mut proc =
        env().new_proc(&testbin_str(), &args(&["env-dump", out.to_str().unwrap()])).unwrap();
    proc.env_append("PATH", "/extra/bin", ":").env("TEND_TEST_X", "1");
    proc.start().await.unwrap();
    let text = wait_for_file(&out, LIMIT).await;
    proc.stop().await.unwrap();
    let path = text.lines().find_map(|l| l.strip_prefix("PATH=")).unwrap();
    assert_eq!(path, format!("{}:/extra/bin", std::env::var("PATH").unwrap()));
    assert!(text.lines().any(|l| l == "TEND_TEST_X=1"));
    assert!(
        text.lines().any(|l| l.starts_with("TEND_RUN_ID=") && l.len() == "TEND_RUN_ID=".len() + 32)
    );
}

#[tokio::test]
async fn long_lines_arrive_whole_and_last_line_is_flushed() {
    let sink = MemorySink::default();
    let mb = 1024 * 1024;
    let mut proc = env().new_proc(&testbin_str(), &args(&["big-line", &mb.to_string()])).unwrap();
    proc.output(Arc::new(sink.clone()));
    assert!(proc.run().await.unwrap().success());
    let lines: Vec<String> = sink.lines().into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines.len(), 3, "{:?}", lines.iter().map(String::len).collect::<Vec<_>>());
    assert_eq!(lines[0].len(), mb);
    assert!(lines[0].bytes().all(|b| b == b'x'));
    assert_eq!(lines[1], "after");
    assert_eq!(lines[2], "last");
}

#[tokio::test]
async fn longer_lines_are_split_not_dropped() {
    let sink = MemorySink::default();
    let size = 1024 * 1024 + 10;
    let mut proc = env().new_proc(&testbin_str(), &args(&["big-line", &size.to_string()])).unwrap();
    proc.output(Arc::new(sink.clone()));
    proc.run().await.unwrap();
    let lens: Vec<usize> = sink.lines().iter().map(|(_, l)| l.len()).collect();
    assert_eq!(lens, vec![1024 * 1024, 10, 5, 4]);
}

#[tokio::test]
async fn invalid_utf8_is_replaced_and_forwarding_goes_on() {
    let sink = MemorySink::default();
    let mut proc = env().new_proc(&testbin_str(), &args(&["invalid-utf8"])).unwrap();
    proc.output(Arc::new(sink.clone()));
    proc.run().await.unwrap();
    let lines: Vec<String> = sink.lines().into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines, vec!["bad \u{fffd}\u{fffd} bytes".to_string(), "ok".to_string()]);
}

#[tokio::test]
async fn stop_ends_the_whole_tree_including_escaped_descendants() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let mut proc =
        env().new_proc(&testbin_str(), &args(&["spawn-tree", pidfile.to_str().unwrap()])).unwrap();
    proc.stop_policy(StopPolicy { signal: Signal::Terminate, grace: Duration::from_secs(5) });
    proc.start().await.unwrap();
    let pids = pids_of(&wait_for_file(&pidfile, LIMIT).await);
    let _guard = KillOnDrop(pids.clone());
    assert_eq!(pids.len(), 4, "leader, group child, setsid child, orphan: {pids:?}");
    assert!(pids.iter().all(|&p| alive(p)));
    let report = proc.stop().await.unwrap();
    assert_eq!(report.end, Some(Exit::Signal(15)));
    assert!(report.survivors.is_empty(), "{report:?}");
    assert_eq!(wait_all_dead(&pids, Duration::from_secs(5)).await, Vec::<u32>::new());
}

#[tokio::test]
async fn when_the_leader_exits_its_leftovers_are_ended() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!(
        "{bin} setsid-sleep 300 & echo $! > {pf}.tmp && mv {pf}.tmp {pf}; exit 0",
        bin = testbin_str(),
        pf = pidfile.display()
    );
    let mut proc = env().new_proc("sh", &args(&["-c", &script])).unwrap();
    let end = tokio::time::timeout(LIMIT, proc.run()).await.unwrap().unwrap();
    assert!(end.success());
    let pids = pids_of(&wait_for_file(&pidfile, LIMIT).await);
    let _guard = KillOnDrop(pids.clone());
    assert_eq!(wait_all_dead(&pids, Duration::from_secs(5)).await, Vec::<u32>::new());
}

#[tokio::test]
async fn a_program_ignoring_the_stop_signal_is_killed_after_the_grace() {
    let sink = MemorySink::default();
    let mut proc = env().new_proc(&testbin_str(), &args(&["trap-term", "300"])).unwrap();
    proc.output(Arc::new(sink.clone()));
    proc.stop_policy(StopPolicy { signal: Signal::Terminate, grace: Duration::from_millis(300) });
    proc.start().await.unwrap();
    let deadline = std::time::Instant::now() + LIMIT;
    while sink.lines().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no ready line");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = proc.stop().await.unwrap();
    assert_eq!(report.end, Some(Exit::Signal(9)));
    assert_eq!(report.killed, 1);
    assert!(report.survivors.is_empty());
    assert!(!proc.is_running());
}

#[tokio::test]
async fn a_run_record_exists_while_running_and_is_removed_after() {
    let dir = tempfile::tempdir().unwrap();
    let registry = RunRegistry::new(dir.path().join("runs"));
    let mut proc = env().new_proc(&testbin_str(), &args(&["sleep", "300"])).unwrap();
    proc.record(RecordSpec {
        registry: registry.clone(),
        app: "app".into(),
        program: "sleeper".into(),
    });
    proc.start().await.unwrap();
    let pid = proc.handle().pid().unwrap();
    let (records, damaged) = registry.list();
    assert!(damaged.is_empty());
    assert_eq!(records.len(), 1);
    let record = &records[0].1;
    assert_eq!((record.pid, record.pgid, record.program.as_str()), (pid, pid, "sleeper"));
    assert_eq!(record.owner.pid, std::process::id());
    assert_eq!(record.start_time, tend_runner::process_stats(pid).unwrap().start_time);
    proc.stop().await.unwrap();
    assert!(registry.list().0.is_empty());
}

#[tokio::test]
async fn a_program_never_runs_when_its_record_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a dir").unwrap();
    let marker = dir.path().join("ran");
    let mut proc =
        env().new_proc("sh", &args(&["-c", &format!("touch {}", marker.display())])).unwrap();
    proc.record(RecordSpec {
        registry: RunRegistry::new(blocker.join("runs")),
        app: "a".into(),
        program: "p".into(),
    });
    let err = proc.start().await.unwrap_err();
    assert!(matches!(err, RunnerError::Record(_) | RunnerError::Io { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(200)).await; // give a wrongly released child time to act
    assert!(!marker.exists(), "the program ran without its record");
}
