//! Benchmark: how long after a SIGKILL of tend the next `tend up` has its programs running.
//!
//! A chain of `tend up` runs of one app: each is SIGKILLed once its programs run, and the next
//! is started at once. The next run first ends what the killed one left (its run records
//! name the process groups), then starts its programs; the figure is the time from the SIGKILL
//! to the moment every program of the new run has written its ready file. Two apps:
//!
//! - `polite`: three programs that end at SIGTERM (one with a process tree);
//! - `stubborn`: the same plus one that ignores SIGTERM, which the reap kills after its short
//!   grace (1 s), whatever the program's own stop timeout (10 s here).
//!
//! Prints figures; asserts nothing.
//!
//! `cargo bench -p tend-cli --bench recovery`

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{SUMMARY_HEADER, Summary, abort};

const ITERATIONS: usize = 30;

fn main() {
    common::header(
        "recovery",
        &format!(
            "measures: SIGKILL of `tend up` → the next `tend up` of the same app has every \
             program running\n          (ready files written), {ITERATIONS} iterations per app"
        ),
    );
    let testbin = common::testbin();
    println!("{:<22}{SUMMARY_HEADER}   (ms)", "");
    let mut results = Vec::new();
    for (name, stubborn) in [("polite", false), ("stubborn", true)] {
        let samples = chain(&testbin, name, stubborn);
        let summary = Summary::of(&samples);
        println!("{:<22}{}", format!("{name} ({} programs)", programs(stubborn)), summary.row(1));
        results.push((name, summary));
    }
    println!();
    for (name, summary) in results {
        println!(
            "result: {name}: median {:.1} ms, p99 {:.1} ms from SIGKILL to programs running",
            summary.median, summary.p99
        );
    }
}

fn programs(stubborn: bool) -> usize {
    if stubborn { 4 } else { 3 }
}

/// The `tend.toml` of the app, whose programs write their ready files in `dir`.
fn config(testbin: &Path, name: &str, stubborn: bool, dir: &Path) -> (String, Vec<PathBuf>) {
    let bin = format!("{:?}", testbin.to_string_lossy());
    let ready: Vec<PathBuf> =
        (0..programs(stubborn)).map(|n| dir.join(format!("ready-{n}"))).collect();
    let quoted = |p: &Path| format!("{:?}", p.to_string_lossy());
    let mut text = format!(
        "name = {name:?}\n\n[programs.web]\ncommand = [{bin}, \"ready\", {}, \"300\"]\n\n\
         [programs.worker]\ncommand = [{bin}, \"ready\", {}, \"300\"]\n\n\
         [programs.tree]\ncommand = [{bin}, \"spawn-tree\", {}]\n",
        quoted(&ready[0]),
        quoted(&ready[1]),
        // Its pid file is written once its tree (group child, setsid child, orphan) runs.
        quoted(&ready[2]),
    );
    if stubborn {
        let script = format!("trap '' TERM; : > {}; exec sleep 300", ready[3].display());
        text.push_str(&format!(
            "\n[programs.stubborn]\ncommand = [\"sh\", \"-c\", {script:?}]\nstop = {{ timeout = \"10s\" }}\n"
        ));
    }
    (text, ready)
}

/// Runs the chain of SIGKILLed `tend up`s and returns the recovery times in ms.
fn chain(testbin: &Path, name: &str, stubborn: bool) -> Vec<f64> {
    let tmp = common::temp_dir("tend-bench-recovery-");
    let (text, ready) = config(testbin, name, stubborn, tmp.path());
    let file = tmp.path().join("tend.toml");
    std::fs::write(&file, text).unwrap_or_else(|e| abort(format!("writing tend.toml: {e}")));
    let stderr = tmp.path().join("tend.stderr");
    let args: [&OsStr; 1] = ["up".as_ref()];
    let up = || common::spawn_tend(tmp.path(), tmp.path(), &args, Some(&stderr));
    let wait_ready = |what: &str| {
        common::wait_until(
            what,
            Duration::from_secs(30),
            Duration::from_millis(1),
            || ready.iter().all(|f| f.exists()),
            || common::tail(&stderr, 20),
        );
    };
    let clear = || {
        for f in &ready {
            let _ = std::fs::remove_file(f);
        }
    };
    let mut tend = up();
    wait_ready("the first run's programs");
    let mut samples = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS {
        clear();
        tend.signal(libc::SIGKILL);
        let killed = Instant::now();
        tend.wait(Duration::from_secs(10), "the SIGKILLed tend");
        tend = up();
        wait_ready(&format!("the programs of run {}", i + 2));
        samples.push(killed.elapsed().as_secs_f64() * 1e3);
    }
    // The last run goes the same way, and `tend reap` ends what it left.
    tend.signal(libc::SIGKILL);
    tend.wait(Duration::from_secs(10), "the last SIGKILLed tend");
    let reap: [&OsStr; 1] = ["reap".as_ref()];
    let end = common::spawn_tend(tmp.path(), tmp.path(), &reap, None)
        .wait(Duration::from_secs(30), "tend reap");
    if !end.success() {
        abort(format!("tend reap ended with {end}"));
    }
    samples
}
