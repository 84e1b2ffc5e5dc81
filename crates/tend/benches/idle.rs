//! Benchmark: what `tend up` costs while 100 programs idle, and how long it takes to start and
//! to stop them.
//!
//! Writes a `tend.toml` with 100 programs `tend-testbin sleep 3600`, runs `tend up -f` on it,
//! waits until all 100 run (100 run records in `runs/` and 100 `started` lines in
//! `logs/tend.log`), lets it settle for 1 s, then reads tend's CPU time (utime + stime from
//! `/proc/<pid>/stat`), RSS, peak RSS, threads and context switches, waits 20 s and reads them
//! again. Then SIGTERM, and the time until tend has stopped all 100 and exited. Prints
//! figures; asserts nothing.
//!
//! `cargo bench -p tend-cli --bench idle`

mod common;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{ProcSample, abort, mib};

const PROGRAMS: usize = 100;
const SETTLE: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(20);
const TARGET_RSS_MIB: f64 = 15.0;
const TARGET_CPU_MS: f64 = 5.0;

fn main() {
    common::header(
        "idle",
        &format!(
            "measures: tend up with {PROGRAMS} programs (`tend-testbin sleep 3600`): time to start \
             them all; tend's RSS, peak RSS,\n          threads, CPU time and context switches \
             over {WINDOW:?} of idling; time to stop them all on SIGTERM\ntarget:   RSS < \
             {TARGET_RSS_MIB} MiB and < {TARGET_CPU_MS} ms CPU per {WINDOW:?} with {PROGRAMS} \
             programs"
        ),
    );
    let testbin = common::testbin();
    let tmp = common::temp_dir("tend-bench-idle-");
    let home = tmp.path().join("home");
    let config = tmp.path().join("tend.toml");
    write_config(&config, &testbin);
    let app = home.join("apps").join("idle");
    let runs = app.join("runs");
    let tend_log = app.join("logs").join("tend.log");
    let stderr = tmp.path().join("tend.stderr");

    let args: [&OsStr; 3] = ["up".as_ref(), "-f".as_ref(), config.as_os_str()];
    let mut tend = common::spawn_tend(&home, tmp.path(), &args, Some(&stderr));
    let pid = tend.pid();
    let context = || {
        format!(
            "{} run records, {} `started` lines; tend's stderr:\n{}",
            records(&runs).len(),
            started_lines(&tend_log),
            common::tail(&stderr, 20)
        )
    };
    let mut all_started = None;
    common::wait_until(
        &format!("{PROGRAMS} programs to start"),
        Duration::from_secs(60),
        Duration::from_millis(2),
        || {
            if let Some(end) = tend.try_wait() {
                abort(format!(
                    "tend exited early with {end}; stderr:\n{}",
                    common::tail(&stderr, 20)
                ));
            }
            let done = records(&runs).len() >= PROGRAMS && started_lines(&tend_log) >= PROGRAMS;
            if done {
                all_started = Some(Instant::now());
            }
            done
        },
        context,
    );
    let start_time = all_started.unwrap_or_else(Instant::now) - tend.started;
    let pids = records(&runs);
    if pids.len() != PROGRAMS {
        abort(format!("{} run records, expected {PROGRAMS}", pids.len()));
    }
    let at_start = ProcSample::read(pid);

    std::thread::sleep(SETTLE);
    let before = ProcSample::read(pid);
    let t0 = Instant::now();
    std::thread::sleep(WINDOW);
    let after = ProcSample::read(pid);
    let window = t0.elapsed();
    let alive = pids.iter().filter(|&&p| is_alive(p)).count();

    tend.signal(libc::SIGTERM);
    let stop_sent = Instant::now();
    let end = tend.wait(Duration::from_secs(60), "tend to stop its programs after SIGTERM");
    let stop_time = end.at - stop_sent;
    let leftovers = wait_gone(&pids, Duration::from_secs(5));

    let ticks = common::clock_ticks();
    let ms = |t: u64| t as f64 * 1000.0 / ticks as f64;
    let cpu_ms = ms(after.cpu_ticks.saturating_sub(before.cpu_ticks));
    let cpu_per_window = cpu_ms * WINDOW.as_secs_f64() / window.as_secs_f64();
    let rss = mib(after.rss_kib);
    println!(
        "all {PROGRAMS} started after  {:>9.1} ms (launch of tend → 100 run records and `started` lines)",
        ms_of(start_time)
    );
    println!(
        "CPU to start them         {:>9.1} ms (tend's utime+stime at that point; schedstat {:.1} ms)",
        ms(at_start.cpu_ticks),
        at_start.cpu_ns as f64 / 1e6
    );
    println!("RSS                       {rss:>9.2} MiB (VmRSS after {WINDOW:?} idle)");
    println!("peak RSS                  {:>9.2} MiB (VmHWM)", mib(after.hwm_kib));
    println!("threads                   {:>9}", after.threads);
    println!(
        "CPU while idle            {cpu_ms:>9.1} ms over {:.1} s (clock tick {:.0} ms: ±{:.0} ms)",
        window.as_secs_f64(),
        1000.0 / ticks as f64,
        1000.0 / ticks as f64
    );
    println!(
        "CPU while idle (schedstat) {:>8.2} ms (threads alive at both readings: {} → {})",
        after.cpu_ns.saturating_sub(before.cpu_ns) as f64 / 1e6,
        before.threads,
        after.threads
    );
    println!(
        "context switches idle     {:>9} over {:.1} s (all threads)",
        after.ctxt_switches.saturating_sub(before.ctxt_switches),
        window.as_secs_f64()
    );
    println!("programs alive at the end {alive:>9} of {PROGRAMS}");
    println!(
        "stop after SIGTERM        {:>9.1} ms (SIGTERM → tend exited, {end})",
        ms_of(stop_time)
    );
    println!("programs left running     {leftovers:>9}");
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "result: RSS {rss:.2} MiB (target < {TARGET_RSS_MIB}: {}); CPU {cpu_per_window:.1} ms per \
         {WINDOW:?} (target < {TARGET_CPU_MS}: {}); start {:.0} ms, stop {:.0} ms for {PROGRAMS} \
         programs",
        verdict(rss < TARGET_RSS_MIB),
        verdict(cpu_per_window < TARGET_CPU_MS),
        ms_of(start_time),
        ms_of(stop_time)
    );
}

fn ms_of(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn write_config(path: &Path, testbin: &Path) {
    let bin = testbin.to_str().unwrap_or_else(|| abort("the tend-testbin path is not UTF-8"));
    let mut text = String::from("name = \"idle\"\n");
    for i in 0..PROGRAMS {
        let _ = write!(text, "\n[programs.p{i:03}]\ncommand = [{bin:?}, \"sleep\", \"3600\"]\n");
    }
    std::fs::write(path, text)
        .unwrap_or_else(|e| abort(format!("cannot write {}: {e}", path.display())));
}

/// The pids of the run records in `runs/` (`<pid>.json`; temporary files start with a dot).
fn records(runs: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(runs) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
        .collect()
}

fn started_lines(tend_log: &Path) -> usize {
    std::fs::read_to_string(tend_log).unwrap_or_default().matches(": started (pid").count()
}

/// Alive, and not a zombie.
fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(") ").map(|i| s[i + 2..].starts_with('Z')).map(|zombie| !zombie))
        .unwrap_or(false)
}

/// Waits up to `limit` for every pid to be gone; returns how many are still alive.
fn wait_gone(pids: &[i32], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let alive = pids.iter().filter(|&&p| is_alive(p)).count();
        if alive == 0 || Instant::now() >= deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
