//! Benchmark: how fast the control API answers `GET /v1/status` for an app of 100 programs.
//!
//! Writes a `tend.toml` with 100 programs `tend-testbin sleep 3600`, runs `tend up -f` on it,
//! waits until the status shows all 100 running, then times 200 `GET /v1/status` round trips
//! in-process (tend's own hyper client: connect, request, whole response, one connection
//! each), and 50 runs of the `tend status --json` command (process start to exit). Then
//! SIGTERM. Prints figures; asserts nothing.
//!
//! `cargo bench -p tend-cli --bench status`

mod common;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Summary, abort};

const PROGRAMS: usize = 100;
const REQUESTS: usize = 200;
const COMMANDS: usize = 50;
const TARGET_MS: f64 = 5.0;

fn main() {
    common::header(
        "status",
        &format!(
            "measures: GET /v1/status with {PROGRAMS} running programs: {REQUESTS} in-process \
             round trips over tend.sock (hyper client, a connection each), and {COMMANDS} runs \
             of `tend status --json`\ntarget:   a status round trip < {TARGET_MS} ms"
        ),
    );
    let testbin = common::testbin();
    let tmp = common::temp_dir("tend-bench-status-");
    let home = tmp.path().join("home");
    let config = tmp.path().join("tend.toml");
    write_config(&config, &testbin);
    let socket = home.join("apps").join("status").join("tend.sock");
    let stderr = tmp.path().join("tend.stderr");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| abort(format!("no tokio runtime: {e}")));
    let get = || {
        runtime.block_on(tend_api::client::request(
            &socket,
            "GET",
            "/v1/status",
            Duration::from_secs(10),
        ))
    };

    let args: [&OsStr; 3] = ["up".as_ref(), "-f".as_ref(), config.as_os_str()];
    let mut tend = common::spawn_tend(&home, tmp.path(), &args, Some(&stderr));
    common::wait_until(
        &format!("{PROGRAMS} programs to run"),
        Duration::from_secs(60),
        Duration::from_millis(20),
        || {
            if let Some(end) = tend.try_wait() {
                abort(format!("tend exited early with {end}; {}", common::tail(&stderr, 20)));
            }
            get().ok().is_some_and(|r| {
                String::from_utf8_lossy(&r.body).matches("\"state\":\"running\"").count()
                    == PROGRAMS
            })
        },
        || common::tail(&stderr, 20),
    );

    let mut api = Vec::with_capacity(REQUESTS);
    let mut size = 0;
    for _ in 0..REQUESTS {
        let t0 = Instant::now();
        let response = get().unwrap_or_else(|e| abort(format!("GET /v1/status: {e}")));
        api.push(t0.elapsed().as_secs_f64() * 1e3);
        if response.status != 200 {
            abort(format!("GET /v1/status: HTTP {}", response.status));
        }
        size = response.body.len();
    }

    let mut cli = Vec::with_capacity(COMMANDS);
    let status_args: [&OsStr; 4] =
        ["status".as_ref(), "--json".as_ref(), "-f".as_ref(), config.as_os_str()];
    for _ in 0..COMMANDS {
        let mut cmd = common::tend_command(&home, tmp.path(), &status_args, None);
        cmd.stdout(Stdio::piped());
        let t0 = Instant::now();
        let out = cmd.output().unwrap_or_else(|e| abort(format!("tend status: {e}")));
        cli.push(t0.elapsed().as_secs_f64() * 1e3);
        if !out.status.success() || out.stdout.len() < size / 2 {
            abort(format!("tend status --json failed: {}", out.status));
        }
    }

    tend.signal(libc::SIGTERM);
    let end = tend.wait(Duration::from_secs(60), "tend to stop after SIGTERM");

    let api = Summary::of(&api);
    let cli = Summary::of(&cli);
    println!("{:<34} {}", "ms", common::SUMMARY_HEADER);
    println!("{:<34} {}", format!("GET /v1/status ×{REQUESTS} (in-process)"), api.row(3));
    println!("{:<34} {}", format!("tend status --json ×{COMMANDS}"), cli.row(3));
    println!("status document: {size} bytes for {PROGRAMS} programs; tend ended with {end}");
    println!();
    let verdict = if api.p99 < TARGET_MS { "met" } else { "NOT met" };
    println!(
        "result: GET /v1/status median {:.3} ms, p99 {:.3} ms (target < {TARGET_MS} ms: {verdict}); \
         `tend status --json` median {:.1} ms, p99 {:.1} ms",
        api.median, api.p99, cli.median, cli.p99
    );
}

fn write_config(path: &Path, testbin: &Path) {
    let bin = testbin.to_str().unwrap_or_else(|| abort("the tend-testbin path is not UTF-8"));
    let mut text = String::from("name = \"status\"\n");
    for i in 0..PROGRAMS {
        let _ = write!(text, "\n[programs.p{i:03}]\ncommand = [{bin:?}, \"sleep\", \"3600\"]\n");
    }
    std::fs::write(path, text)
        .unwrap_or_else(|e| abort(format!("cannot write {}: {e}", path.display())));
}
