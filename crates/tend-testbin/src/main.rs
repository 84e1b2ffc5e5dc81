//! Helper programs for tend's real-process tests and benchmarks, as one multi-call binary:
//! `tend-testbin MODE ARGS…`. Not shipped to users.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: tend-testbin MODE ARGS…
modes:
  exit CODE                 exit with CODE
  sleep SECS                sleep
  trap-term SECS            ignore SIGTERM, print `ready`, sleep
  spawn-tree PIDFILE        start a child in the group, one via setsid and one orphaned by a
                            double fork; write all pids to PIDFILE (atomically); sleep
  setsid-sleep SECS         leave the process group (setsid), then sleep
  orphan PIDFILE            start `sleep` and exit at once, leaving it orphaned; append its pid
  big-line BYTES            print a line of BYTES `x`, a line `after`, then `last` without newline
  invalid-utf8              print a line with invalid UTF-8, then `ok`
  starts FILE N CODE        append a line to FILE; exit CODE while FILE has < N lines, else 0
  bench-restart FILE N      append `<start ns>` to FILE; while < N lines append ` <exit ns>` and exit 42
  spew BYTES                write BYTES of 100-byte lines to stdout
  spew-file BYTES PATH      the same into PATH directly (the benchmark's baseline)
  env-dump FILE             write the environment to FILE (KEY=VALUE records, each ended by a NUL,
                            as values may hold newlines), then sleep 300
  ready FILE SECS           create FILE, then sleep
  stamp FILE                append `<start ns> <pid> $TEND_RESTART_REASON $TEND_RESTART_COUNT`
                            to FILE in one write, then sleep 300";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| arg(i).parse::<u64>().unwrap_or(0);
    match arg(0) {
        "exit" => return ExitCode::from(u8::try_from(num(1)).unwrap_or(1)),
        "sleep" => sleep(num(1)),
        "trap-term" => {
            ignore_term();
            println!("ready");
            let _ = std::io::stdout().flush();
            sleep(num(1));
        }
        "spawn-tree" => spawn_tree(Path::new(arg(1))),
        "setsid-sleep" => {
            setsid();
            sleep(num(1));
        }
        "orphan" => {
            let me = std::env::current_exe().unwrap_or_else(|_| "tend-testbin".into());
            if let Ok(child) = Command::new(me).args(["sleep", "300"]).stdin(Stdio::null()).spawn()
            {
                append(Path::new(arg(1)), &format!("{}\n", child.id()));
            }
        }
        "big-line" => {
            let mut out = std::io::stdout().lock();
            let line = vec![b'x'; usize::try_from(num(1)).unwrap_or(0)];
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\nafter\nlast");
            let _ = out.flush();
        }
        "invalid-utf8" => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"bad \xff\xfe bytes\nok\n");
        }
        "starts" => {
            let lines = append(Path::new(arg(1)), "start\n");
            if lines < num(2) {
                return ExitCode::from(u8::try_from(num(3)).unwrap_or(1));
            }
        }
        "bench-restart" => {
            let path = Path::new(arg(1));
            let lines = append(path, &format!("{}", now_ns()));
            if lines < num(2) {
                append(path, &format!(" {}\n", now_ns()));
                return ExitCode::from(42);
            }
            append(path, "\n");
        }
        // Buffered like any program that writes a lot (Rust's stdout alone flushes per line).
        "spew" => spew(&mut std::io::BufWriter::new(std::io::stdout().lock()), num(1)),
        "spew-file" => match std::fs::File::create(arg(2)) {
            Ok(file) => spew(&mut std::io::BufWriter::new(file), num(1)),
            Err(e) => {
                eprintln!("tend-testbin: {e}");
                return ExitCode::FAILURE;
            }
        },
        "env-dump" => {
            let text: String = std::env::vars().map(|(k, v)| format!("{k}={v}\0")).collect();
            write_atomically(Path::new(arg(1)), &text);
            sleep(300);
        }
        "stamp" => {
            let var = |key| std::env::var(key).unwrap_or_default();
            let line = format!(
                "{} {} {} {}\n",
                now_ns(),
                std::process::id(),
                var("TEND_RESTART_REASON"),
                var("TEND_RESTART_COUNT")
            );
            append(Path::new(arg(1)), &line);
            sleep(300);
        }
        "ready" => {
            write_atomically(Path::new(arg(1)), "ready\n");
            sleep(num(2));
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn sleep(secs: u64) {
    std::thread::sleep(Duration::from_secs(secs));
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// Appends `text` to `path` and returns how many lines the file then has (a last line without
/// newline counts).
fn append(path: &Path, text: &str) -> u64 {
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(text.as_bytes());
    }
    let bytes = std::fs::read(path).unwrap_or_default();
    let newlines = bytes.iter().filter(|&&c| c == b'\n').count() as u64;
    newlines + u64::from(bytes.last().is_some_and(|&c| c != b'\n'))
}

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

fn spew(out: &mut impl std::io::Write, bytes: u64) {
    let mut line = [b'y'; 100];
    line[99] = b'\n';
    let mut written = 0;
    while written < bytes {
        if out.write_all(&line).is_err() {
            return;
        }
        written += 100;
    }
    let _ = out.flush();
}

fn spawn_tree(pidfile: &Path) {
    let me = std::env::current_exe().unwrap_or_else(|_| "tend-testbin".into());
    let run = |args: &[&str]| Command::new(&me).args(args).stdin(Stdio::null()).spawn();
    let mut pids = vec![std::process::id()];
    if let Ok(child) = run(&["sleep", "300"]) {
        pids.push(child.id());
    }
    if let Ok(child) = run(&["setsid-sleep", "300"]) {
        pids.push(child.id());
    }
    let orphans = pidfile.with_extension("orphans");
    if let Ok(mut middle) = run(&["orphan", orphans.to_str().unwrap_or("")]) {
        let _ = middle.wait();
        if let Ok(text) = std::fs::read_to_string(&orphans) {
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
        }
    }
    let text: String = pids.iter().map(|p| format!("{p}\n")).collect();
    write_atomically(pidfile, &text);
    sleep(300);
}

#[cfg(unix)]
fn ignore_term() {
    // SAFETY: installing SIG_IGN has no preconditions.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGTERM,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
}

#[cfg(unix)]
fn setsid() {
    let _ = nix::unistd::setsid();
}

#[cfg(not(unix))]
fn ignore_term() {}

#[cfg(not(unix))]
fn setsid() {}
