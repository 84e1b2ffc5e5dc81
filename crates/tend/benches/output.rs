//! Benchmark: output throughput through tend, against the program writing the file itself.
//!
//! `tend run --name spew -- tend-testbin spew 200000000` writes 200 MB of 100-byte lines to
//! its stdout; tend cuts them into lines, writes them to `logs/spew.log` (rotated at the
//! default 10 MiB × 5 files) and, prefixed, to its own stdout (the null device here). The
//! time from launching tend to its exit gives MB/s. The baseline is
//! `tend-testbin spew-file 200000000 PATH`, the same bytes written directly to a file. The
//! ratio of the two is the figure with a target.
//!
//! For context, three more cases: the same through `tend up` with `log = { max_size = "1GiB" }`
//! (no rotation: the log must hold exactly 200,000,000 bytes); the helper's stdout drained by
//! this benchmark with no tend at all (the most any reader can get from it: Rust's stdout is
//! line-buffered, so it makes one `write` per 100-byte line); and `tend run` of a producer that
//! writes the same lines in 64 KiB blocks (this benchmark's own executable, run as
//! `output --spew-blocks BYTES`), which measures tend rather than its program. Each case runs
//! three times; prints every figure, best and median. Asserts nothing.
//!
//! `cargo bench -p tend-cli --bench output`

mod common;

use std::ffi::{OsStr, OsString};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Ended, Proc, abort};
use tend_app::config::{DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE};

const BYTES: u64 = 200_000_000;
const LINE: u64 = 100;
const REPEAT: usize = 3;
const TARGET_RATIO: f64 = 0.5;
const LIMIT: Duration = Duration::from_secs(120);

/// One way of writing the bytes, and its results.
struct Case {
    name: &'static str,
    mbps: Vec<f64>,
    cpu_ms: Vec<f64>,
}

impl Case {
    fn new(name: &'static str) -> Case {
        Case { name, mbps: Vec::new(), cpu_ms: Vec::new() }
    }

    fn record(&mut self, end: &Ended, started: Instant) {
        let secs = (end.at - started).as_secs_f64();
        self.mbps.push(BYTES as f64 / 1e6 / secs);
        self.cpu_ms.push(end.cpu.as_secs_f64() * 1e3);
    }

    fn best(&self) -> f64 {
        self.mbps.iter().copied().fold(0.0, f64::max)
    }

    fn median(&self) -> f64 {
        common::median(&self.mbps)
    }

    fn print(&self) {
        let runs: Vec<String> = self.mbps.iter().map(|m| format!("{m:7.1}")).collect();
        println!(
            "{:<34} {}   best {:7.1}  median {:7.1}   CPU {:6.0} ms",
            self.name,
            runs.join(" "),
            self.best(),
            self.median(),
            common::median(&self.cpu_ms)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(SPEW_BLOCKS) {
        spew_blocks(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(0));
        return;
    }
    common::header(
        "output",
        &format!(
            "measures: MB/s of {BYTES} bytes of {LINE}-byte lines, launch → exit, {REPEAT} runs \
             of each case; tend's stdout goes to /dev/null\n  \
             tend run -- tend-testbin spew      the benchmark (log rotated at \
             {DEFAULT_LOG_MAX_SIZE} B × {DEFAULT_LOG_MAX_FILES} files)\n  \
             direct: tend-testbin spew-file     the baseline: the helper writes the file itself\n  \
             tend up, no log rotation           the same as tend run, with log.max_size = 1GiB \
             (exact size check)\n  \
             no tend: spew | drained here       the helper's stdout read by this benchmark: \
             its own limit (one write per line)\n  \
             tend run -- 64 KiB-block producer  tend with a producer that writes 64 KiB blocks\n\
             CPU = user+sys of the process started and the children it reaped (wait4)\n\
             target:   tend run ≥ {:.0}% of the direct write",
            TARGET_RATIO * 100.0
        ),
    );
    let testbin = common::testbin();
    let me = std::env::current_exe()
        .unwrap_or_else(|e| abort(format!("cannot find this benchmark's executable: {e}")));
    let mut run = Case::new("tend run -- tend-testbin spew");
    let mut direct = Case::new("direct: tend-testbin spew-file");
    let mut up = Case::new("tend up, no log rotation");
    let mut pipe = Case::new("no tend: spew | drained here");
    let mut blocks = Case::new("tend run -- 64 KiB-block producer");
    // A first, unreported direct write: the first large write after start-up is often slower.
    spew_file(&testbin, &mut Case::new("warm-up"));
    for _ in 0..REPEAT {
        let spew = [testbin.as_os_str(), "spew".as_ref()];
        tend_run(&spew, &mut run);
        spew_file(&testbin, &mut direct);
        tend_up(&testbin, &mut up);
        spew_pipe(&testbin, &mut pipe);
        tend_run(&[me.as_os_str(), SPEW_BLOCKS.as_ref()], &mut blocks);
    }
    println!("MB/s (1 MB = 10^6 bytes){:<15} {:>7} {:>7} {:>7}", "", "#1", "#2", "#3");
    for case in [&run, &direct, &up, &pipe, &blocks] {
        case.print();
    }
    println!();
    let ratio = |case: &Case, base: &Case| {
        format!(
            "{:.0}% (best/best), {:.0}% (median/median)",
            case.best() / base.best() * 100.0,
            case.median() / base.median() * 100.0
        )
    };
    let met = run.median() / direct.median() >= TARGET_RATIO;
    println!(
        "result: tend run -- tend-testbin spew: {:.0} MB/s = {} of the direct write; target \
         ≥ {:.0}%: {}",
        run.median(),
        ratio(&run, &direct),
        TARGET_RATIO * 100.0,
        if met { "met" } else { "NOT met" }
    );
    println!(
        "context: without tend, a plain reader of the same helper's stdout gets {:.0} MB/s: the \
         helper makes one write(2) per 100-byte line, so it limits this case too;\n         \
         tend with a 64 KiB-block producer: {:.0} MB/s = {} of the direct write",
        pipe.median(),
        blocks.median(),
        ratio(&blocks, &direct)
    );
}

/// This executable's own producer mode: BYTES of 100-byte lines to stdout in 64 KiB blocks.
const SPEW_BLOCKS: &str = "--spew-blocks";

fn spew_blocks(bytes: u64) {
    let mut line = [b'y'; LINE as usize];
    line[LINE as usize - 1] = b'\n';
    let block: Vec<u8> = line.iter().copied().cycle().take(64 * 1024 / 100 * 100).collect();
    let mut out = std::io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64);
        if out.write_all(&block[..n as usize]).is_err() {
            return;
        }
        left -= n;
    }
    let _ = out.flush();
}

/// `tend run --name spew -- PRODUCER… BYTES`, log rotated by the defaults.
fn tend_run(producer: &[&OsStr], case: &mut Case) {
    let tmp = common::temp_dir("tend-bench-output-");
    let stderr = tmp.path().join("tend.stderr");
    let bytes = OsString::from(BYTES.to_string());
    let mut args: Vec<&OsStr> = ["run", "--name", "spew", "--"].map(OsStr::new).to_vec();
    args.extend(producer);
    args.push(&bytes);
    let mut tend = common::spawn_tend(tmp.path(), tmp.path(), &args, Some(&stderr));
    let end = tend.wait(LIMIT, "200 MB through tend run");
    check_exit(&end, &stderr);
    case.record(&end, tend.started);
    check_rotated_logs(&tmp.path().join("apps/spew/logs/spew.log"));
}

/// `tend up` with one program `spew` and a log that does not rotate. (`log` is set on the
/// program: a top-level `[log]` table is not applied to programs without a `log` key of their
/// own.)
fn tend_up(testbin: &Path, case: &mut Case) {
    let tmp = common::temp_dir("tend-bench-output-");
    let stderr = tmp.path().join("tend.stderr");
    let config = tmp.path().join("tend.toml");
    let bin = testbin.to_str().unwrap_or_else(|| abort("the tend-testbin path is not UTF-8"));
    let text = format!(
        "name = \"spew\"\n\n[programs.spew]\ncommand = [{bin:?}, \"spew\", \"{BYTES}\"]\nlog = \
         {{ max_size = \"1GiB\" }}\n"
    );
    std::fs::write(&config, text).unwrap_or_else(|e| abort(format!("cannot write tend.toml: {e}")));
    let args: [&OsStr; 3] = ["up".as_ref(), "-f".as_ref(), config.as_os_str()];
    let mut tend = common::spawn_tend(tmp.path(), tmp.path(), &args, Some(&stderr));
    let end = tend.wait(LIMIT, "200 MB through tend up");
    check_exit(&end, &stderr);
    case.record(&end, tend.started);
    let log = tmp.path().join("apps/spew/logs/spew.log");
    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    if size != BYTES {
        abort(format!("{} holds {size} bytes, expected {BYTES}", log.display()));
    }
}

/// The helper's stdout into a pipe that this benchmark drains (64 KiB reads): no tend.
#[allow(clippy::zombie_processes, reason = "reaped with wait4 by `Proc::adopt`")]
fn spew_pipe(testbin: &Path, case: &mut Case) {
    let mut cmd = Command::new(testbin);
    cmd.arg("spew").arg(BYTES.to_string()).stdin(Stdio::null()).stdout(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| abort(format!("cannot start the helper: {e}")));
    let mut out = child.stdout.take().unwrap_or_else(|| abort("no stdout pipe"));
    // The pipe is read on a thread so that the wait below keeps its deadline.
    let reader = std::thread::spawn(move || {
        let (mut buf, mut total) = (vec![0u8; 64 * 1024], 0u64);
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n as u64,
            }
        }
    });
    let pid = i32::try_from(child.id()).unwrap_or_else(|_| abort("pid out of range"));
    drop(child);
    let end =
        common::Proc::adopt(pid, "tend-testbin spew", started).wait(LIMIT, "200 MB through a pipe");
    let total = reader.join().unwrap_or(0);
    if !end.success() || total != BYTES {
        abort(format!("tend-testbin spew ended with {end} after {total} bytes, expected {BYTES}"));
    }
    case.record(&end, started);
}

/// The baseline: the helper writes the bytes to a file itself.
fn spew_file(testbin: &Path, case: &mut Case) {
    let tmp = common::temp_dir("tend-bench-output-");
    let path = tmp.path().join("spew.out");
    let mut cmd = Command::new(testbin);
    cmd.arg("spew-file").arg(BYTES.to_string()).arg(&path).stdin(Stdio::null());
    let mut proc = Proc::spawn(&mut cmd, "tend-testbin spew-file");
    let end = proc.wait(LIMIT, "200 MB written directly");
    if !end.success() {
        abort(format!("tend-testbin spew-file ended with {end}"));
    }
    case.record(&end, proc.started);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if size != BYTES {
        abort(format!("{} holds {size} bytes, expected {BYTES}", path.display()));
    }
}

fn check_exit(end: &Ended, stderr: &Path) {
    if !end.success() {
        abort(format!("tend ended with {end}, expected 0; stderr:\n{}", common::tail(stderr, 20)));
    }
}

/// With rotation, only the last files are kept: checks that they hold exactly what the
/// default rotation leaves of BYTES bytes of LINE-byte lines (a file is rotated before a line
/// would take it past the maximum size).
fn check_rotated_logs(log: &Path) {
    let per_file = DEFAULT_LOG_MAX_SIZE / LINE * LINE;
    let files = BYTES.div_ceil(per_file);
    let last = BYTES - (files - 1) * per_file;
    let kept = files.min(u64::from(DEFAULT_LOG_MAX_FILES.max(1)));
    for n in 0..kept {
        let path = if n == 0 {
            log.to_path_buf()
        } else {
            tend_app::logfile::rotated_path(log, u32::try_from(n).unwrap_or(u32::MAX))
        };
        let expected = if n == 0 { last } else { per_file };
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size != expected {
            abort(format!(
                "{} holds {size} bytes; expected {expected} ({BYTES} bytes in {files} files of \
                 {per_file} bytes, the last {kept} kept)",
                path.display()
            ));
        }
    }
    let next = tend_app::logfile::rotated_path(log, u32::try_from(kept).unwrap_or(u32::MAX));
    if next.exists() {
        abort(format!("{} exists; expected only {kept} log files", next.display()));
    }
}
