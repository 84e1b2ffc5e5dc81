#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
//! Shared helpers for the real-binary tests of the `tend` CLI.
//!
//! Every test gets a [`Sandbox`]: a fresh temp dir holding `TEND_HOME` and the working
//! directory. `tend` runs as a real child process with `TEND_HOME` and `HOME` pointing into
//! the sandbox and `NO_COLOR=1`; its stdout and stderr go to files in the sandbox, so a chatty
//! program can never block it on a full pipe.
//!
//! Tests never sleep to synchronise: they wait for an event (a file appearing, a line in a
//! log, a process exiting) by polling under a deadline, and a missed deadline panics with what
//! was awaited and every log of the sandbox. A [`Tend`] that is still running when it is
//! dropped (a failed test) is stopped: SIGTERM, then SIGKILL.

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub mod busybox;
#[cfg(unix)]
pub mod nixlab;

/// How long any single wait may take before the test fails. Generous: a passing suite never
/// comes close, and a slow CI machine should not fail it.
pub const LIMIT: Duration = Duration::from_secs(20);

/// How often waits poll.
const POLL: Duration = Duration::from_millis(10);

/// The `tend` binary under test.
pub fn tend_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tend"))
}

/// The helper binary, built next to `tend` by `cargo test --workspace`.
pub fn testbin() -> PathBuf {
    let tend = tend_bin();
    let dir = tend.parent().expect("the tend binary has a folder");
    let bin = dir.join(format!("tend-testbin{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run cargo test --workspace (it builds the tend-testbin helper)",
        bin.display()
    );
    bin
}

/// [`testbin`] as a string, for command lines and configs.
pub fn testbin_str() -> String {
    testbin().to_string_lossy().into_owned()
}

/// Whether `pid` is alive; a zombie counts as dead.
pub fn alive(pid: u32) -> bool {
    tend_runner::process_stats(pid).is_some_and(|info| !info.state.has_ended())
}

/// The pids of a pid file: one per line.
pub fn pids_of(text: &str) -> Vec<u32> {
    text.lines().filter_map(|line| line.trim().parse().ok()).collect()
}

/// The content of the file at `path`; panics naming it if it cannot be read.
#[track_caller]
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `path` as a string, for command lines and configs.
pub fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Quotes `text` for `sh`.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Quotes `text` as a TOML basic string.
pub fn toml_str(text: &str) -> String {
    format!("{text:?}")
}

/// A test's private world: `TEND_HOME`, a working directory, and the captured output of
/// every `tend` it started.
pub struct Sandbox {
    root: tempfile::TempDir,
    /// `TEND_HOME`.
    pub home: PathBuf,
    /// The working directory of every `tend` started here.
    pub cwd: PathBuf,
    spawned: Cell<u32>,
    /// Variables every `tend` started here gets ([`Sandbox::set_env`]).
    env: std::cell::RefCell<Vec<(String, String)>>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    /// A fresh sandbox.
    pub fn new() -> Sandbox {
        let root = tempfile::Builder::new().prefix("tend-cli-test-").tempdir().unwrap();
        let home = root.path().join("home");
        let cwd = root.path().join("work");
        fs::create_dir_all(&cwd).unwrap();
        Sandbox { root, home, cwd, spawned: Cell::new(0), env: Default::default() }
    }

    /// Gives every `tend` started from now on `key=value` (nix's config, a PATH…).
    pub fn set_env(&self, key: &str, value: &str) {
        self.env.borrow_mut().push((key.to_owned(), value.to_owned()));
    }

    /// The sandbox's own folder (holding `home` and `work`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A path in the working directory.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.cwd.join(relative)
    }

    /// A path in the working directory, as a string.
    pub fn path_str(&self, relative: &str) -> String {
        self.path(relative).to_string_lossy().into_owned()
    }

    /// Writes `text` to `relative` in the working directory.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        fs::write(&path, text).unwrap();
        path
    }

    /// The state folder of app `name`.
    pub fn app(&self, name: &str) -> App {
        App { dir: self.home.join("apps").join(name) }
    }

    /// A `tend` command with this sandbox's environment, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(tend_bin());
        cmd.args(args)
            .current_dir(&self.cwd)
            .env("TEND_HOME", &self.home)
            .env("HOME", self.root.path())
            .env("NO_COLOR", "1")
            .env_remove("TEND_LOG")
            .env_remove("TEND_SUPERVISOR")
            .env_remove("INVOCATION_ID");
        // What tend gives its programs: the suite may itself run under a tend.
        for key in ["TEND_STATE_DIR", "TEND_APP", "TEND_PROGRAM", "TEND_RUN_ID", "TEND_RECOVERY"] {
            cmd.env_remove(key);
        }
        cmd.envs(self.env.borrow().iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Starts `tend ARGS…`; its stdout and stderr go to files in the sandbox.
    pub fn spawn(&self, args: &[&str]) -> Tend {
        self.spawn_env(args, &[])
    }

    /// Starts `tend ARGS…` with the extra environment variables `env`.
    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> Tend {
        self.spawn_with(args, |cmd| {
            cmd.envs(env.iter().copied());
        })
    }

    /// Starts `tend ARGS…` after `configure` has had its say on the command (environment,
    /// resource limits…).
    pub fn spawn_with(&self, args: &[&str], configure: impl FnOnce(&mut Command)) -> Tend {
        let n = self.spawned.get() + 1;
        self.spawned.set(n);
        let stdout = self.root.path().join(format!("tend-{n}.stdout"));
        let stderr = self.root.path().join(format!("tend-{n}.stderr"));
        let mut cmd = self.command(args);
        configure(&mut cmd);
        let child = cmd
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("starting tend");
        Tend {
            child,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            stdout,
            stderr,
            root: self.root.path().to_path_buf(),
        }
    }

    /// Runs `tend ARGS…` to its end (bounded by [`LIMIT`]).
    pub fn run(&self, args: &[&str]) -> Finished {
        self.spawn(args).wait()
    }

    /// Waits until `probe` returns something, polling under [`LIMIT`]; panics naming `what`
    /// and showing every log of the sandbox.
    pub fn wait_for<T>(&self, what: &str, probe: impl FnMut() -> Option<T>) -> T {
        wait_for(self.root.path(), what, probe)
    }

    /// Waits until `path` exists and returns its content.
    pub fn wait_file(&self, path: &Path) -> String {
        self.wait_for(&format!("{} to appear", path.display()), || fs::read_to_string(path).ok())
    }

    /// Waits until the file at `path` has at least `n` lines and returns its content.
    pub fn wait_lines(&self, path: &Path, n: usize) -> String {
        self.wait_for(&format!("{n} line(s) in {}", path.display()), || {
            fs::read_to_string(path).ok().filter(|text| text.lines().count() >= n)
        })
    }

    /// Waits until the file at `path` holds `needle` and returns its content.
    pub fn wait_text(&self, path: &Path, needle: &str) -> String {
        self.wait_for(&format!("{needle:?} in {}", path.display()), || {
            fs::read_to_string(path).ok().filter(|text| text.contains(needle))
        })
    }

    /// Waits until none of `pids` is alive.
    pub fn wait_dead(&self, pids: &[u32]) {
        self.wait_for(&format!("processes {pids:?} to end"), || {
            pids.iter().all(|&pid| !alive(pid)).then_some(())
        });
    }
}

/// Polls `probe` until it returns something, for at most [`LIMIT`].
fn wait_for<T>(root: &Path, what: &str, probe: impl FnMut() -> Option<T>) -> T {
    wait_for_within(root, what, LIMIT, probe)
}

/// Polls `probe` until it returns something, for at most `limit`.
fn wait_for_within<T>(
    root: &Path,
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {limit:?} waiting for {what}\n{}", diagnostics(root));
        }
        std::thread::sleep(POLL);
    }
}

/// Every tend output and log file under `root`, each cut to its end, for failure messages.
fn diagnostics(root: &Path) -> String {
    const KEEP: usize = 4000;
    let mut files: Vec<PathBuf> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "stdout" || x == "stderr"))
        .collect();
    let apps = root.join("home").join("apps");
    for app in fs::read_dir(apps).into_iter().flatten().flatten() {
        files.extend(
            fs::read_dir(app.path().join("logs")).into_iter().flatten().flatten().map(|e| e.path()),
        );
    }
    files.sort();
    let mut out = String::new();
    for file in files {
        let text = String::from_utf8_lossy(&fs::read(&file).unwrap_or_default()).into_owned();
        let mut cut = text.len().saturating_sub(KEEP);
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        out.push_str(&format!("----- {} -----\n{}\n", file.display(), &text[cut..]));
    }
    out
}

/// The state folder of one app: `$TEND_HOME/apps/<app>`.
pub struct App {
    /// The folder.
    pub dir: PathBuf,
}

impl App {
    /// `logs/tend.log`.
    pub fn tend_log(&self) -> PathBuf {
        self.dir.join("logs").join("tend.log")
    }

    /// `logs/<program>.log`.
    pub fn log(&self, program: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{program}.log"))
    }

    /// `runs/`.
    pub fn runs(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// `runs/<pgid>.json`.
    pub fn record(&self, pgid: u32) -> PathBuf {
        self.runs().join(format!("{pgid}.json"))
    }

    /// The names of the files in `runs/`, sorted.
    pub fn run_files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.runs())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The content of `logs/tend.log` (empty if missing).
    pub fn read_tend_log(&self) -> String {
        fs::read_to_string(self.tend_log()).unwrap_or_default()
    }
}

/// A running `tend`. Dropping it while it runs stops it: SIGTERM (so that it stops its
/// programs), then SIGKILL if it is still there after a while.
pub struct Tend {
    child: Child,
    args: Vec<String>,
    stdout: PathBuf,
    stderr: PathBuf,
    root: PathBuf,
}

impl Tend {
    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to this tend (and to nothing else).
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill has no memory-safety preconditions; the pid is our own unreaped child,
        // so it cannot have been reused.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}): {}", std::io::Error::last_os_error());
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The file its stdout goes to (for waiting on what it prints while it runs).
    pub fn stdout_path(&self) -> &Path {
        &self.stdout
    }

    /// Waits (bounded) until it exits.
    pub fn wait(self) -> Finished {
        self.wait_within(LIMIT)
    }

    /// Waits for it to exit, for at most `limit` (for the few commands that take long by
    /// nature, like stopping hundreds of programs), and returns what it wrote.
    pub fn wait_within(mut self, limit: Duration) -> Finished {
        let what = format!("tend {:?} to exit", self.args);
        let status = wait_for_within(&self.root, &what, limit, || self.child.try_wait().unwrap());
        Finished {
            status,
            stdout: fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }

    /// Waits for it without consuming it: for `Drop`.
    fn stop_quietly(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tend {
    fn drop(&mut self) {
        self.stop_quietly();
    }
}

/// How a `tend` ended, and what it wrote.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// All of its stdout.
    pub stdout: String,
    /// All of its stderr.
    pub stderr: String,
}

impl Finished {
    /// Its exit code; panics (showing stderr) if it was killed by a signal.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| {
            panic!("tend was killed ({:?}); stderr:\n{}", self.status, self.stderr)
        })
    }

    /// Asserts the exit code, showing stdout and stderr if it differs.
    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(expected),
            "unexpected exit status {:?}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.status,
            self.stderr,
            cut(&self.stdout, 4000)
        );
        self
    }
}

fn cut(text: &str, keep: usize) -> &str {
    let mut start = text.len().saturating_sub(keep);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Kills, on drop, the processes of a pid file that are still alive: the leftovers of a
/// failed test. A pid is killed only while it still has the start time it had when it was
/// handed over, so a recycled pid is never signalled.
pub struct KillOnDrop(Vec<(u32, u64)>);

impl KillOnDrop {
    /// Guards `pids` (read from a file a test's own program wrote).
    pub fn new(pids: &[u32]) -> KillOnDrop {
        let mut guard = KillOnDrop(Vec::new());
        guard.add(pids);
        guard
    }

    /// Guards more pids.
    pub fn add(&mut self, pids: &[u32]) {
        self.0.extend(
            pids.iter()
                .filter_map(|&pid| tend_runner::process_stats(pid).map(|i| (pid, i.start_time))),
        );
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &(pid, start_time) in &self.0 {
            let same = tend_runner::process_stats(pid)
                .is_some_and(|i| i.start_time == start_time && !i.state.has_ended());
            if same && let Ok(pid) = i32::try_from(pid) {
                // SAFETY: kill has no memory-safety preconditions; the pid is one of this
                // test's processes (same start time as when the test read it).
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// The lines of `text` that contain `needle`.
pub fn lines_with<'t>(text: &'t str, needle: &str) -> Vec<&'t str> {
    text.lines().filter(|line| line.contains(needle)).collect()
}

/// The index of the first line of `text` that contains `needle`; panics with the text if none.
#[track_caller]
pub fn line_index(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

/// The `restarting in …` delays of a tend log, in order, as written (`50ms`, `1.6s`).
pub fn backoff_delays(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split("restarting in ").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_owned)
        .collect()
}

/// The pid of the first `NAME: started (pid N…` line of a tend log.
#[track_caller]
pub fn started_pid(log: &str, name: &str) -> u32 {
    let needle = format!("{name}: started (pid ");
    let line = log
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"));
    let rest = line.split(&needle).nth(1).unwrap();
    rest.split([',', ')']).next().unwrap().parse().unwrap()
}

/// The live processes (zombies excluded) whose environment holds `KEY=VALUE`: a way to find
/// every process a test's programs started, wherever they went. Linux only (reads `/proc`).
#[cfg(target_os = "linux")]
pub fn processes_with_env(key: &str, value: &str) -> Vec<u32> {
    let wanted = format!("{key}={value}");
    let mut found: Vec<u32> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != std::process::id())
        .filter(|&pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|entry| entry == wanted.as_bytes()))
        })
        .filter(|&pid| alive(pid))
        .collect();
    found.sort_unstable();
    found
}

/// What the system says about `pids` (state, parent, group; command line), for failure
/// messages.
pub fn describe(pids: &[u32]) -> String {
    pids.iter()
        .map(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            format!("{pid}: {:?} {cmdline}\n", tend_runner::process_stats(*pid))
        })
        .collect()
}
