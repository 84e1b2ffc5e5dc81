//! Crash test of atomic writes: a writer process is killed (SIGKILL on Unix) at random
//! moments, 200 times; the file must always hold exactly the old or the new content.
//!
//! The writer is this test binary itself, re-executed with [`WRITER_ENV`] set and a filter
//! that selects [`writer_process`], so no extra binary is needed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WRITER_ENV: &str = "TEND_FS_CRASH_WRITER";
const READY: &str = "tend-fs-crash-writer-ready";
const ROUNDS: usize = 200;

/// About 64 KiB of JSON; `tag` makes A and B differ everywhere but in length.
fn content(tag: char) -> serde_json::Value {
    let items: Vec<String> =
        (0..2400).map(|i| format!("{tag}-{i:05}-{}", tag.to_string().repeat(12))).collect();
    serde_json::json!({ "tag": tag.to_string(), "items": items })
}

fn serialised(value: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap();
    bytes.push(b'\n');
    bytes
}

/// Temp files that an atomic write of `state.json` leaves while it is under way.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".state.json."))
        .collect()
}

/// The child: writes A and B alternately until killed (or, as a safety net, for 30 s).
/// Run normally (without [`WRITER_ENV`]) it does nothing.
#[test]
fn writer_process() {
    let Some(path) = std::env::var_os(WRITER_ENV) else { return };
    let path = PathBuf::from(path);
    let (a, b) = (content('A'), content('B'));
    let deadline = Instant::now() + Duration::from_secs(30);
    tend_fs::write_json(&path, &b).unwrap();
    // Written to stdout directly, past the test harness's output capture; the harness may
    // already have written "test writer_process ... " on the same line.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{READY}").unwrap();
    stdout.flush().unwrap();
    while Instant::now() < deadline {
        tend_fs::write_json(&path, &a).unwrap();
        tend_fs::write_json(&path, &b).unwrap();
    }
}

/// Starts a writer and returns once it has completed its first write.
fn start_writer(path: &Path) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_process", "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // Reads until the child's stdout closes, which its death guarantees.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(READY) {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(20)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the writer did not become ready within 20 s");
    }
    child
}

#[test]
fn killed_writer_never_tears_the_file() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (a, b) = (content('A'), content('B'));
    let (a_bytes, b_bytes) = (serialised(&a), serialised(&b));
    assert!(a_bytes.len() > 64 * 1024 && a_bytes.len() == b_bytes.len(), "{}", a_bytes.len());
    tend_fs::write_json(&path, &a).unwrap();

    let (mut saw_a, mut saw_b, mut mid_write) = (0, 0, 0);
    for round in 0..ROUNDS {
        let mut writer = start_writer(&path);
        let delay = Duration::from_micros(rand::random_range(0..=20_000));
        std::thread::sleep(delay); // the random moment of the crash, not a synchronisation
        writer.kill().unwrap(); // SIGKILL on Unix: no destructor, no cleanup runs
        writer.wait().unwrap();

        let bytes = std::fs::read(&path).unwrap();
        if bytes == a_bytes {
            saw_a += 1;
        } else if bytes == b_bytes {
            saw_b += 1;
        } else {
            let parses = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok();
            panic!(
                "round {round} (killed after {delay:?}): torn file of {} bytes (parses: {parses})",
                bytes.len()
            );
        }
        let leftovers = temp_files(dir.path());
        assert!(
            leftovers.len() <= 1,
            "round {round}: more than the killed writer's temp file: {leftovers:?}"
        );
        if !leftovers.is_empty() {
            mid_write += 1;
        }

        // The next write cleans up what the killed writer left.
        let next = if round % 2 == 0 { &b } else { &a };
        tend_fs::write_json(&path, next).unwrap();
        assert_eq!(
            temp_files(dir.path()),
            Vec::<PathBuf>::new(),
            "round {round}: leftovers survived a write"
        );
        assert_eq!(std::fs::read(&path).unwrap(), serialised(next));
    }

    let elapsed = started.elapsed();
    eprintln!(
        "crash test: {ROUNDS} writers killed in {elapsed:.2?}; after the kill the file held A {saw_a} times, \
         B {saw_b} times; {mid_write} kills left a temp file (killed mid-write)"
    );
    assert!(mid_write > 0, "no kill landed during a write: the test did not test anything");
    assert!(elapsed < Duration::from_secs(60), "the crash test took {elapsed:?}");
}
