//! Shared helpers for tend's benchmarks: finding the binaries, running `tend` in a temporary
//! home with bounded waits, reading `/proc`, and summarising samples.
//!
//! Every wait has a deadline; missing it aborts the benchmark with a message (a panic, so that
//! the guards below still stop and reap what was started).

// Each benchmark uses a different subset of these helpers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fmt::Display;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Aborts the benchmark with `msg`.
pub fn abort(msg: impl Display) -> ! {
    panic!("benchmark aborted: {msg}")
}

/// The `tend` binary under test.
pub fn tend_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tend"))
}

/// The `tend-testbin` helper next to `tend`; built with `cargo build --release -p tend-testbin`
/// if it is missing.
pub fn testbin() -> PathBuf {
    let tend = tend_bin();
    let dir = tend.parent().map(Path::to_path_buf).unwrap_or_default();
    let bin = dir.join(format!("tend-testbin{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        return bin;
    }
    println!(
        "tend-testbin is missing at {}: building it (cargo build --release -p tend-testbin)",
        bin.display()
    );
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.args(["build", "--release", "-p", "tend-testbin"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    // tend lives in <target>/release/: build into the same target folder.
    if dir.file_name() == Some(OsStr::new("release"))
        && let Some(target) = dir.parent()
    {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let mut build = Proc::spawn(&mut cmd, "cargo build -p tend-testbin");
    let end = build.wait(Duration::from_secs(600), "cargo build --release -p tend-testbin");
    if !end.success() || !bin.is_file() {
        abort(format!(
            "could not build tend-testbin ({end}); run `cargo build --release -p tend-testbin` \
             with the same CARGO_TARGET_DIR, then try again"
        ));
    }
    bin
}

/// A fresh temporary folder, removed at drop.
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap_or_else(|e| abort(format!("cannot create a temporary folder: {e}")))
}

/// Prints what is measured and on which machine.
pub fn header(title: &str, what: &str) {
    println!("== tend benchmark: {title}");
    println!("{what}");
    println!("machine: {}", machine());
    println!("tend:    {} (release)", tend_bin().display());
    println!();
}

/// CPU count, CPU model and kernel.
pub fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_string();
    let kernel = std::fs::read_to_string("/proc/version").unwrap_or_default();
    format!("nproc {nproc}, {model}; {}", kernel.trim())
}

/// How a child ended, as `wait4` reported it.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// Its exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// When the benchmark saw it end.
    pub at: Instant,
    /// User + system CPU time of the child and of the descendants it reaped.
    pub cpu: Duration,
    /// Peak RSS of the child (or of its largest reaped descendant), in KiB.
    pub max_rss_kib: i64,
}

impl Ended {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit code {code}"),
            (_, Some(signal)) => write!(f, "killed by signal {signal}"),
            _ => write!(f, "unknown end"),
        }
    }
}

/// A started child process, waited for with `wait4` (for its CPU time). If it is still
/// running when dropped (the benchmark aborted), it gets SIGTERM, then SIGKILL, and `tend
/// reap` runs for its home if it was a tend.
pub struct Proc {
    pid: i32,
    what: String,
    /// When it was spawned (just before the fork).
    pub started: Instant,
    ended: Option<Ended>,
    /// For a tend: its `TEND_HOME`, to reap what it leaves behind if it must be killed.
    reap_home: Option<PathBuf>,
}

impl Proc {
    /// Spawns `cmd`.
    #[allow(clippy::zombie_processes, reason = "reaped with wait4 by this wrapper")]
    pub fn spawn(cmd: &mut Command, what: &str) -> Proc {
        let started = Instant::now();
        let child = cmd.spawn().unwrap_or_else(|e| abort(format!("cannot start {what}: {e}")));
        let pid = i32::try_from(child.id()).unwrap_or_else(|_| abort("pid out of range"));
        // `child` is dropped without waiting: this wrapper reaps it with wait4.
        Proc { pid, what: what.to_string(), started, ended: None, reap_home: None }
    }

    /// Takes over waiting for `pid`, a child of this process spawned at `started` (for
    /// spawns that needed a `std::process::Child`'s pipes; that `Child` must not wait).
    pub fn adopt(pid: i32, what: &str, started: Instant) -> Proc {
        Proc { pid, what: what.to_string(), started, ended: None, reap_home: None }
    }

    /// Its pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// How it ended, if it has (reaping it).
    pub fn try_wait(&mut self) -> Option<Ended> {
        if self.ended.is_none() {
            self.ended = reap(self.pid, libc::WNOHANG);
        }
        self.ended
    }

    /// Waits up to `limit` for it to end; aborts the benchmark past that, saying it waited for
    /// `what`.
    pub fn wait(&mut self, limit: Duration, what: &str) -> Ended {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(end) = self.try_wait() {
                return end;
            }
            if Instant::now() >= deadline {
                abort(format!("{} did not end within {limit:?} (waiting for {what})", self.what));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Sends `signal` to it.
    pub fn signal(&self, signal: i32) {
        if self.ended.is_none() {
            // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
            unsafe { libc::kill(self.pid, signal) };
        }
    }
}

impl Drop for Proc {
    #[allow(clippy::zombie_processes, reason = "`tend reap` is reaped with wait4")]
    fn drop(&mut self) {
        if self.try_wait().is_some() {
            return;
        }
        eprintln!("stopping {} (pid {}) after the abort", self.what, self.pid);
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.try_wait().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.try_wait().is_some() {
            return;
        }
        self.signal(libc::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.try_wait().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(home) = self.reap_home.take() {
            eprintln!("running `tend reap` for what the killed tend left behind");
            let mut cmd = tend_command(&home, &home, &[OsStr::new("reap")], None);
            if let Ok(child) = cmd.spawn()
                && let Ok(pid) = i32::try_from(child.id())
            {
                let deadline = Instant::now() + Duration::from_secs(30);
                while reap(pid, libc::WNOHANG).is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
}

fn reap(pid: i32, flags: i32) -> Option<Ended> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes only through the two pointers, which point to live locals.
    let r = unsafe { libc::wait4(pid, &raw mut status, flags, &raw mut usage) };
    let at = Instant::now();
    if r == 0 {
        return None;
    }
    if r != pid {
        abort(format!("wait4({pid}): {}", std::io::Error::last_os_error()));
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Some(Ended {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        at,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
    })
}

/// A `tend` command with `TEND_HOME=home`, `NO_COLOR=1`, run in `cwd`, stdout to the null
/// device and stderr to `stderr` (or the null device).
pub fn tend_command(home: &Path, cwd: &Path, args: &[&OsStr], stderr: Option<&Path>) -> Command {
    let mut cmd = Command::new(tend_bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("TEND_HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("TEND_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    match stderr.map(File::create) {
        Some(Ok(file)) => cmd.stderr(file),
        Some(Err(e)) => abort(format!("cannot create tend's stderr file: {e}")),
        None => cmd.stderr(Stdio::null()),
    };
    cmd
}

/// Starts `tend ARGS…` (see [`tend_command`]); if the benchmark aborts, what it left behind
/// is reaped.
pub fn spawn_tend(home: &Path, cwd: &Path, args: &[&OsStr], stderr: Option<&Path>) -> Proc {
    let mut proc = Proc::spawn(&mut tend_command(home, cwd, args, stderr), "tend");
    proc.reap_home = Some(home.to_path_buf());
    proc
}

/// The last `n` lines of a text file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Polls `cond` every `every` until it holds; aborts past `limit`, saying what it waited for
/// (and `context()`).
pub fn wait_until(
    what: &str,
    limit: Duration,
    every: Duration,
    mut cond: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() >= deadline {
            abort(format!("timed out after {limit:?} waiting for {what}\n{}", context()));
        }
        std::thread::sleep(every);
    }
}

/// Clock ticks per second (`getconf CLK_TCK`).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// What `/proc/<pid>` says about a process's resources.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// utime + stime, in clock ticks (fields 14 and 15 of `stat`).
    pub cpu_ticks: u64,
    /// VmRSS, KiB.
    pub rss_kib: u64,
    /// VmHWM (peak RSS), KiB.
    pub hwm_kib: u64,
    /// Threads.
    pub threads: u64,
    /// Voluntary + involuntary context switches of the live threads (a count of wake-ups).
    pub ctxt_switches: u64,
    /// CPU time of the live threads in ns (`task/*/schedstat`): finer than clock ticks, but a
    /// thread that ended meanwhile no longer counts.
    pub cpu_ns: u64,
}

impl ProcSample {
    /// Reads `/proc/<pid>/{stat,status}` and each thread's `status`.
    pub fn read(pid: i32) -> ProcSample {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_else(|e| abort(format!("cannot read /proc/{pid}/stat: {e}")));
        // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
        let rest = stat.rfind(") ").map_or("", |i| &stat[i + 2..]);
        let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let (mut ctxt_switches, mut cpu_ns) = (0, 0);
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let text = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
                ctxt_switches += status_field(&text, "voluntary_ctxt_switches")
                    + status_field(&text, "nonvoluntary_ctxt_switches");
                let sched =
                    std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
                cpu_ns += sched
                    .split_ascii_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
        ProcSample {
            cpu_ticks: field(14) + field(15),
            rss_kib: status_field(&status, "VmRSS"),
            hwm_kib: status_field(&status, "VmHWM"),
            threads: status_field(&status, "Threads"),
            ctxt_switches,
            cpu_ns,
        }
    }
}

/// The number in a `Key:   123 kB` line of a `/proc/*/status` file.
fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_ascii_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// KiB as MiB.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The nearest-rank `p`-th percentile of sorted `values`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `values` (nearest rank).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 50.0)
}

/// min, median, p90, p99, max of samples.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Smallest.
    pub min: f64,
    /// 50th percentile.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Summary {
    /// Summarises `values`.
    pub fn of(values: &[f64]) -> Summary {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            min: sorted.first().copied().unwrap_or(f64::NAN),
            median: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
            max: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }

    /// One table row: the five figures, `width` wide with `decimals` decimals.
    pub fn row(&self, decimals: usize) -> String {
        format!(
            "{:>9.decimals$} {:>9.decimals$} {:>9.decimals$} {:>9.decimals$} {:>9.decimals$}",
            self.min, self.median, self.p90, self.p99, self.max
        )
    }
}

/// The header matching [`Summary::row`].
pub const SUMMARY_HEADER: &str = "      min    median       p90       p99       max";
