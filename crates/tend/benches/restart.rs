//! Benchmark: how fast `tend run` restarts a program that exits with the restart exit code.
//!
//! Runs `tend run --name bench -- tend-testbin bench-restart FILE 201`: the helper appends its
//! start time, then its exit time just before it exits 42 ("restart me now"), until it has
//! started 201 times; then it exits 0 and tend with it. The 200 gaps from the exit of run i to
//! the start of run i+1 are the restart latency (process teardown, reaping, tend's
//! bookkeeping, the run record written before exec, fork, exec and the helper's own startup).
//! Three runs of tend, and for reference the same loop driven by a bare spawn-and-wait loop in
//! this benchmark (the floor on this machine). Prints figures; asserts nothing.
//!
//! `cargo bench -p tend-cli --bench restart`

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Proc, SUMMARY_HEADER, Summary, abort};

const STARTS: usize = 201;
const RUNS: usize = 3;
const TARGET_MEDIAN_MS: f64 = 2.0;

fn main() {
    common::header(
        "restart",
        &format!(
            "measures: gap from a program's exit (code 42, restart now) to the start of its next \
             run,\n          {} gaps per run, {RUNS} runs of \
             `tend run --name bench -- tend-testbin bench-restart FILE {STARTS}`\ntarget:   \
             median < {TARGET_MEDIAN_MS} ms",
            STARTS - 1
        ),
    );
    let testbin = common::testbin();

    println!("gaps exit→next start (ms):");
    println!("{:<22}{SUMMARY_HEADER}   cycle (ms)", "");
    let mut pooled = Vec::new();
    let mut medians = Vec::new();
    for run in 1..=RUNS {
        let tmp = common::temp_dir("tend-bench-restart-");
        let file = tmp.path().join("starts.txt");
        let stderr = tmp.path().join("tend.stderr");
        let args: [&OsStr; 8] = [
            "run".as_ref(),
            "--name".as_ref(),
            "bench".as_ref(),
            "--".as_ref(),
            testbin.as_os_str(),
            "bench-restart".as_ref(),
            file.as_os_str(),
            "201".as_ref(),
        ];
        let mut tend = common::spawn_tend(tmp.path(), tmp.path(), &args, Some(&stderr));
        let end = tend.wait(Duration::from_secs(60), "201 starts of the helper");
        let wall = end.at - tend.started;
        if !end.success() {
            abort(format!(
                "tend run ended with {end}, expected 0; its stderr:\n{}",
                common::tail(&stderr, 20)
            ));
        }
        let runs = parse(&file);
        let gaps = gaps_ms(&runs);
        let summary = Summary::of(&gaps);
        println!(
            "tend run #{run:<12}{}   {:.3}",
            summary.row(3),
            wall.as_secs_f64() * 1e3 / STARTS as f64
        );
        medians.push(summary.median);
        pooled.extend(gaps);
    }
    let summary = Summary::of(&pooled);
    println!("{:<22}{}", format!("tend pooled ({})", pooled.len()), summary.row(3));

    // The floor: the same helper, restarted by a plain spawn-and-wait loop here.
    let tmp = common::temp_dir("tend-bench-restart-direct-");
    let file = tmp.path().join("starts.txt");
    let mut cmd = Command::new(&testbin);
    cmd.arg("bench-restart")
        .arg(&file)
        .arg(STARTS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for _ in 0..STARTS {
        let end = Proc::spawn(&mut cmd, "tend-testbin bench-restart")
            .wait(Duration::from_secs(10), "one run of the helper");
        match end.code {
            Some(42) => {}
            Some(0) => break,
            _ => abort(format!("the helper ended with {end}")),
        }
    }
    let direct = gaps_ms(&parse(&file));
    println!("{:<22}{}", "direct spawn loop", Summary::of(&direct).row(3));

    println!();
    let per_run: Vec<String> = medians.iter().map(|m| format!("{m:.3}")).collect();
    println!(
        "result: median restart gap {:.3} ms (per run: {} ms); p99 {:.3} ms; target median < \
         {TARGET_MEDIAN_MS} ms: {}",
        summary.median,
        per_run.join(", "),
        summary.p99,
        if summary.median < TARGET_MEDIAN_MS { "met" } else { "NOT met" }
    );
    println!(
        "        floor on this machine (bare spawn loop, same helper): median {:.3} ms",
        common::median(&direct)
    );
}

/// One run of the helper: when it started, and when it exited (not for the last run).
struct Run {
    start: u128,
    exit: Option<u128>,
}

/// Reads the helper's file: `<start ns> <exit ns>` lines, then a last `<start ns>` line.
fn parse(file: &Path) -> Vec<Run> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| abort(format!("cannot read {}: {e}", file.display())));
    let runs: Vec<Run> = text
        .lines()
        .map(|line| {
            let mut nums = line.split_ascii_whitespace().map(|n| {
                n.parse::<u128>().unwrap_or_else(|_| abort(format!("bad line in the file: {line}")))
            });
            Run { start: nums.next().unwrap_or(0), exit: nums.next() }
        })
        .collect();
    if runs.len() != STARTS
        || runs[..STARTS - 1].iter().any(|r| r.exit.is_none())
        || runs[STARTS - 1].exit.is_some()
    {
        abort(format!(
            "{} holds {} runs, expected {STARTS} (the last without an exit time):\n{}",
            file.display(),
            runs.len(),
            text.lines().take(5).collect::<Vec<_>>().join("\n")
        ));
    }
    runs
}

/// The gaps from each run's exit to the next run's start, in ms.
fn gaps_ms(runs: &[Run]) -> Vec<f64> {
    runs.windows(2)
        .map(|w| {
            let exit = w[0].exit.unwrap_or(0);
            w[1].start.saturating_sub(exit) as f64 / 1e6
        })
        .collect()
}
