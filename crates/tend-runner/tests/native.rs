//! Real processes through the native environment: output, exit, stop, tree-kill, records.
#![cfg(unix)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tend_runner::{
    ChildId, CommandSpec, Environment as _, Exit, MemorySink, NativeEnvironment, RecordSpec,
    RunRegistry, RunnerError, Signal, StopPolicy, Stream,
};

const LIMIT: Duration = Duration::from_secs(20);

fn env() -> NativeEnvironment {
    NativeEnvironment::new()
}

/// `program` with `args`, in the temp folder.
fn spec(program: &str, args: &[&str]) -> CommandSpec {
    let argv = std::iter::once(program).chain(args.iter().copied()).map(String::from).collect();
    CommandSpec::new(argv, std::env::temp_dir())
}

/// Spawns `spec` natively and waits for its end.
async fn run(spec: CommandSpec) -> Result<Exit, RunnerError> {
    env().spawn(spec).await?.wait().await
}

#[tokio::test]
async fn runs_to_completion_with_output_and_code() {
    let sink = MemorySink::default();
    let mut spec = spec("sh", &["-c", "echo out; echo err >&2; exit 3"]);
    spec.output(Arc::new(sink.clone()));
    let end = tokio::time::timeout(LIMIT, run(spec)).await.unwrap().unwrap();
    assert_eq!(end, Exit::Code(3));
    let mut lines = sink.lines();
    lines.sort_by_key(|(s, _)| *s == Stream::Stderr);
    assert_eq!(lines, vec![(Stream::Stdout, "out".into()), (Stream::Stderr, "err".into())]);
}

#[tokio::test]
async fn a_spawn_that_fails_returns_at_once_with_nothing_to_wait_on() {
    let mut spec = spec("true", &[]);
    spec.dir = std::env::temp_dir().join("no-such-dir-for-tend");
    let result = tokio::time::timeout(Duration::from_secs(1), env().spawn(spec)).await.unwrap();
    assert!(matches!(result, Err(RunnerError::NoSuchDir { .. })), "{result:?}");
}

#[tokio::test]
async fn stop_after_the_end_reports_it_at_once() {
    let child = env().spawn(spec("sh", &["-c", "exit 4"])).await.unwrap();
    assert_eq!(child.wait().await.unwrap(), Exit::Code(4));
    let report = tokio::time::timeout(Duration::from_secs(1), child.stop()).await.unwrap().unwrap();
    assert_eq!(report.end, Some(Exit::Code(4)));
    assert_eq!((report.killed, report.survivors.len()), (0, 0));
}

#[tokio::test]
async fn many_waiters_share_one_result() {
    let child = env().spawn(spec("sh", &["-c", "exit 7"])).await.unwrap();
    let (x, y) = tokio::join!(child.wait(), child.wait());
    assert_eq!(x.unwrap(), Exit::Code(7));
    assert_eq!(y.unwrap(), Exit::Code(7));
    assert_eq!(child.wait().await.unwrap(), Exit::Code(7));
}

#[tokio::test]
async fn missing_binary_names_it_and_the_path() {
    let mut spec = spec("no-such-binary-for-tend", &[]);
    spec.env("PATH", "/nonexistent/bin");
    let err = env().spawn(spec).await.unwrap_err();
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
    let mut spec = spec(&testbin_str(), &["env-dump", out.to_str().unwrap()]);
    spec.env_append("PATH", "/extra/bin", ":").env("TEND_TEST_X", "1");
    let child = env().spawn(spec).await.unwrap();
    let text = wait_for_file(&out, LIMIT).await;
    child.stop().await.unwrap();
    let path = text.split('\0').find_map(|l| l.strip_prefix("PATH=")).unwrap();
    assert_eq!(path, format!("{}:/extra/bin", std::env::var("PATH").unwrap()));
    assert!(text.split('\0').any(|l| l == "TEND_TEST_X=1"));
    assert!(
        text.split('\0')
            .any(|l| l.starts_with("TEND_RUN_ID=") && l.len() == "TEND_RUN_ID=".len() + 32)
    );
}

#[tokio::test]
async fn long_lines_arrive_whole_and_last_line_is_flushed() {
    let sink = MemorySink::default();
    let mb = 1024 * 1024;
    let mut spec = spec(&testbin_str(), &["big-line", &mb.to_string()]);
    spec.output(Arc::new(sink.clone()));
    assert!(run(spec).await.unwrap().success());
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
    let mut spec = spec(&testbin_str(), &["big-line", &size.to_string()]);
    spec.output(Arc::new(sink.clone()));
    run(spec).await.unwrap();
    let lens: Vec<usize> = sink.lines().iter().map(|(_, l)| l.len()).collect();
    assert_eq!(lens, vec![1024 * 1024, 10, 5, 4]);
}

#[tokio::test]
async fn invalid_utf8_is_replaced_and_forwarding_goes_on() {
    let sink = MemorySink::default();
    let mut spec = spec(&testbin_str(), &["invalid-utf8"]);
    spec.output(Arc::new(sink.clone()));
    run(spec).await.unwrap();
    let lines: Vec<String> = sink.lines().into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines, vec!["bad \u{fffd}\u{fffd} bytes".to_string(), "ok".to_string()]);
}

#[tokio::test]
async fn stop_ends_the_whole_tree_including_escaped_descendants() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let mut spec = spec(&testbin_str(), &["spawn-tree", pidfile.to_str().unwrap()]);
    spec.stop_policy(StopPolicy { signal: Signal::Terminate, grace: Duration::from_secs(5) });
    let child = env().spawn(spec).await.unwrap();
    let pids = pids_of(&wait_for_file(&pidfile, LIMIT).await);
    let _guard = KillOnDrop(pids.clone());
    assert_eq!(pids.len(), 4, "leader, group child, setsid child, orphan: {pids:?}");
    assert!(pids.iter().all(|&p| alive(p)));
    let report = child.stop().await.unwrap();
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
    let end =
        tokio::time::timeout(LIMIT, run(spec("sh", &["-c", &script]))).await.unwrap().unwrap();
    assert!(end.success());
    let pids = pids_of(&wait_for_file(&pidfile, LIMIT).await);
    let _guard = KillOnDrop(pids.clone());
    assert_eq!(wait_all_dead(&pids, Duration::from_secs(5)).await, Vec::<u32>::new());
}

#[tokio::test]
async fn a_program_ignoring_the_stop_signal_is_killed_after_the_grace() {
    let sink = MemorySink::default();
    let mut spec = spec(&testbin_str(), &["trap-term", "300"]);
    spec.output(Arc::new(sink.clone()));
    spec.stop_policy(StopPolicy { signal: Signal::Terminate, grace: Duration::from_millis(300) });
    let child = env().spawn(spec).await.unwrap();
    let deadline = std::time::Instant::now() + LIMIT;
    while sink.lines().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no ready line");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = child.stop().await.unwrap();
    assert_eq!(report.end, Some(Exit::Signal(9)));
    assert_eq!(report.killed, 1);
    assert!(report.survivors.is_empty());
    assert_eq!(child.pid(), None, "still running");
}

#[tokio::test]
async fn a_run_record_exists_while_running_and_is_removed_after() {
    let dir = tempfile::tempdir().unwrap();
    let registry = RunRegistry::new(dir.path().join("runs"));
    let mut spec = spec(&testbin_str(), &["sleep", "300"]);
    spec.record(RecordSpec {
        registry: registry.clone(),
        app: "app".into(),
        program: "sleeper".into(),
    });
    let child = env().spawn(spec).await.unwrap();
    let pid = child.pid().unwrap();
    let (records, damaged) = registry.list();
    assert!(damaged.is_empty());
    assert_eq!(records.len(), 1);
    let record = &records[0].1;
    assert_eq!((record.pid, record.pgid, record.program.as_str()), (pid, pid, "sleeper"));
    assert_eq!(record.owner.pid, std::process::id());
    assert_eq!(record.start_time, tend_runner::process_stats(pid).unwrap().start_time);
    assert_eq!(child.id(), &ChildId::Group { pgid: pid, start_time: record.start_time });
    assert_eq!(child.stats().await.map(|s| s.pid), Some(pid));
    child.stop().await.unwrap();
    assert!(registry.list().0.is_empty());
}

#[tokio::test]
async fn a_program_never_runs_when_its_record_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a dir").unwrap();
    let marker = dir.path().join("ran");
    let mut spec = spec("sh", &["-c", &format!("touch {}", marker.display())]);
    spec.record(RecordSpec {
        registry: RunRegistry::new(blocker.join("runs")),
        app: "a".into(),
        program: "p".into(),
    });
    let err = env().spawn(spec).await.unwrap_err();
    assert!(matches!(err, RunnerError::Record(_) | RunnerError::Io { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(200)).await; // give a wrongly released child time to act
    assert!(!marker.exists(), "the program ran without its record");
}
