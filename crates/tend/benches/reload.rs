//! Benchmark: hot-reload latency.
//!
//! 1. File change: `tend up` runs one program, `tend-testbin stamp FILE` (it appends its start
//!    time to FILE), with `watch = { paths = ["src"], debounce = "50ms" }`. Each sample writes
//!    a file under `src/` and measures the time from just before the write to the new run's
//!    recorded start: the debounce, then the graceful stop of the old run (SIGTERM), the spawn
//!    of the new one and the helper's own startup. Reported in full and beyond the debounce.
//! 2. Config reload: `tend up --watch-config`, one such program; each sample rewrites
//!    `tend.toml` with a new `env` value for it, and measures from just before the write to the
//!    changed program's new start (`config_change`), in full and beyond the config debounce
//!    (100 ms).
//!
//! Prints figures; asserts nothing. `cargo bench -p tend-cli --bench reload`

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Proc, SUMMARY_HEADER, Summary, abort};

const FILE_SAMPLES: usize = 50;
const CONFIG_SAMPLES: usize = 30;
const WATCH_DEBOUNCE_MS: f64 = 50.0;
/// `tend_app::reload::CONFIG_DEBOUNCE`.
const CONFIG_DEBOUNCE_MS: f64 = 100.0;
const TARGET_BEYOND_MS: f64 = 50.0;
const LIMIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_micros(500);

fn main() {
    common::header(
        "reload",
        &format!(
            "measures: time from writing a watched file ({FILE_SAMPLES} samples, watch debounce \
             {WATCH_DEBOUNCE_MS} ms) or tend.toml\n          ({CONFIG_SAMPLES} samples, config \
             debounce {CONFIG_DEBOUNCE_MS} ms) to the program's next start\ntarget:   \
             < {TARGET_BEYOND_MS} ms beyond the debounce"
        ),
    );
    let testbin = common::testbin();
    println!("{:<30}{SUMMARY_HEADER}", "latency (ms)");
    let file = file_change(&testbin);
    let config = config_change(&testbin);
    let beyond = |samples: &[f64], debounce: f64| -> Vec<f64> {
        samples.iter().map(|ms| ms - debounce).collect()
    };
    let file_beyond = Summary::of(&beyond(&file, WATCH_DEBOUNCE_MS));
    let config_beyond = Summary::of(&beyond(&config, CONFIG_DEBOUNCE_MS));
    println!("{:<30}{}", "file change, total", Summary::of(&file).row(2));
    println!("{:<30}{}", "file change, beyond debounce", file_beyond.row(2));
    println!("{:<30}{}", "config reload, total", Summary::of(&config).row(2));
    println!("{:<30}{}", "config reload, beyond debounce", config_beyond.row(2));
    println!();
    let verdict = |s: &Summary| if s.p99 < TARGET_BEYOND_MS { "met" } else { "NOT met" };
    println!(
        "result: file change → restart {:.2} ms beyond the debounce (median; p99 {:.2} ms); \
         config reload {:.2} ms (median; p99 {:.2} ms); target p99 < {TARGET_BEYOND_MS} ms: \
         {} / {}",
        file_beyond.median,
        file_beyond.p99,
        config_beyond.median,
        config_beyond.p99,
        verdict(&file_beyond),
        verdict(&config_beyond),
    );
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn program(testbin: &Path, starts: &Path, extra: &str) -> String {
    format!(
        "name = \"bench\"\n[programs.app]\ncommand = [{:?}, \"stamp\", {:?}]\nstop = {{ timeout = \
         \"5s\" }}\n{extra}\n",
        testbin.display().to_string(),
        starts.display().to_string(),
    )
}

/// The start times (ns) recorded in the helper's file.
fn starts(file: &Path) -> Vec<u128> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split(' ').next()?.parse().ok())
        .collect()
}

/// Waits until the helper's file holds `n` starts and returns the last one.
fn nth_start(file: &Path, n: usize, tend_log: &Path) -> u128 {
    common::wait_until(
        &format!("start #{n} of the helper"),
        LIMIT,
        POLL,
        || starts(file).len() >= n,
        || common::tail(tend_log, 20),
    );
    starts(file).get(n - 1).copied().unwrap_or(0)
}

fn wait_log(tend_log: &Path, needle: &str) {
    common::wait_until(
        needle,
        LIMIT,
        Duration::from_millis(1),
        || std::fs::read_to_string(tend_log).is_ok_and(|t| t.contains(needle)),
        || common::tail(tend_log, 20),
    );
}

fn stop(mut tend: Proc, tend_log: &Path) {
    tend.signal(libc::SIGTERM);
    let end = tend.wait(LIMIT, "tend to stop");
    if !end.success() {
        abort(format!("tend ended with {end}; its log:\n{}", common::tail(tend_log, 20)));
    }
}

fn file_change(testbin: &Path) -> Vec<f64> {
    let tmp = common::temp_dir("tend-bench-reload-file-");
    let dir = tmp.path();
    let file = dir.join("starts.txt");
    std::fs::create_dir_all(dir.join("src"))
        .unwrap_or_else(|e| abort(format!("cannot create src/: {e}")));
    let watch = format!("watch = {{ paths = [\"src\"], debounce = \"{WATCH_DEBOUNCE_MS}ms\" }}");
    std::fs::write(dir.join("tend.toml"), program(testbin, &file, &watch))
        .unwrap_or_else(|e| abort(format!("cannot write tend.toml: {e}")));
    let tend_log = dir.join("home/apps/bench/logs/tend.log");
    let tend = common::spawn_tend(&dir.join("home"), dir, &["up".as_ref() as &OsStr], None);
    nth_start(&file, 1, &tend_log);
    wait_log(&tend_log, "app: watching src for changes");
    let mut samples = Vec::with_capacity(FILE_SAMPLES);
    for i in 0..FILE_SAMPLES {
        let before = now_ns();
        std::fs::write(dir.join("src/main.py"), format!("version {i}\n"))
            .unwrap_or_else(|e| abort(format!("cannot write src/main.py: {e}")));
        let started = nth_start(&file, i + 2, &tend_log);
        samples.push(started.saturating_sub(before) as f64 / 1e6);
    }
    stop(tend, &tend_log);
    samples
}

fn config_change(testbin: &Path) -> Vec<f64> {
    let tmp = common::temp_dir("tend-bench-reload-config-");
    let dir = tmp.path();
    let file = dir.join("starts.txt");
    let config = |i: usize| program(testbin, &file, &format!("env = {{ SAMPLE = \"{i}\" }}"));
    std::fs::write(dir.join("tend.toml"), config(0))
        .unwrap_or_else(|e| abort(format!("cannot write tend.toml: {e}")));
    let tend_log = dir.join("home/apps/bench/logs/tend.log");
    let args: [&OsStr; 2] = ["up".as_ref(), "--watch-config".as_ref()];
    let tend = common::spawn_tend(&dir.join("home"), dir, &args, None);
    nth_start(&file, 1, &tend_log);
    wait_log(&tend_log, "watching tend.toml for changes");
    let mut samples = Vec::with_capacity(CONFIG_SAMPLES);
    for i in 1..=CONFIG_SAMPLES {
        let before = now_ns();
        std::fs::write(dir.join("tend.toml"), config(i))
            .unwrap_or_else(|e| abort(format!("cannot write tend.toml: {e}")));
        let started = nth_start(&file, i + 1, &tend_log);
        samples.push(started.saturating_sub(before) as f64 / 1e6);
    }
    stop(tend, &tend_log);
    samples
}
