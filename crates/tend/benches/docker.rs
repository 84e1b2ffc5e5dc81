//! Benchmark: the exit-42 restart gap of a program natively and in Docker, beside the
//! `docker exec <container> true` round trip a user would reach for.
//!
//! `tend up` runs a program that exits 42 ("restart me now") until it has started 51 times; the
//! 50 gaps from each "exited" to the next "started" in `tend.log` (µs timestamps) are the
//! restart gap: end detection, clean-up of what the run left, the next exec. Natively and
//! with `runner = "docker"` (an image built here `FROM scratch` with a static busybox; nothing
//! is pulled), in one run, then 50 `docker exec tend-<app> true` from the CLI.
//! Target: the Docker restart gap's median at most the CLI round trip's median.
//!
//! Needs a Docker daemon and /bin/busybox (busybox-static); without them it measures the
//! native case only and says why. Prints figures; asserts nothing.
//!
//! `cargo bench -p tend-cli --bench docker`

#[path = "../tests/common/busybox.rs"]
mod busybox;
mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{SUMMARY_HEADER, Summary, abort};

const STARTS: usize = 51;
const IMAGE: &str = "tend-bench-busybox:1";

fn main() {
    common::header(
        "docker",
        &format!(
            "measures: gap from a program's exit 42 to its next start ({} gaps), natively and in \
             Docker,\n          and {} `docker exec <container> true` from the CLI\ntarget:   \
             Docker restart gap median ≤ the CLI round trip median",
            STARTS - 1,
            STARTS - 1
        ),
    );
    println!("ms{:<26}{SUMMARY_HEADER}", "");
    let native = gaps(None);
    let native = Summary::of(&native);
    println!("{:<28}{}", "native restart gap", native.row(2));
    if let Some(reason) = docker_missing() {
        println!("docker: skipped ({reason})");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| abort(format!("tokio: {e}")));
    if let Err(e) = runtime.block_on(busybox::ensure(IMAGE)) {
        println!("docker: skipped (cannot build the bench image: {e})");
        return;
    }
    let docker = Summary::of(&gaps(Some(IMAGE)));
    println!("{:<28}{}", "docker restart gap", docker.row(2));
    let cli = Summary::of(&runtime.block_on(cli_round_trips()));
    println!("{:<28}{}", "`docker exec … true` (CLI)", cli.row(2));
    println!(
        "result: Docker restart gap median {:.1} ms vs the CLI's `docker exec … true` {:.1} ms \
         (target ≤: {}); native {:.2} ms",
        docker.median,
        cli.median,
        if docker.median <= cli.median { "met" } else { "NOT met" },
        native.median
    );
}

/// The 50 exit→start gaps (ms) of the program under `tend up`, in Docker with `image`.
fn gaps(image: Option<&str>) -> Vec<f64> {
    let tmp = common::temp_dir("tend-bench-docker-");
    let app =
        format!("gap-{}-{}", if image.is_some() { "docker" } else { "native" }, std::process::id());
    let script = format!(
        "echo x >> \"$TEND_STATE_DIR/starts\"; \
         [ \"$(wc -l < \"$TEND_STATE_DIR/starts\")\" -ge {STARTS} ] && exit 0; exit 42"
    );
    let (docker, runner) = match image {
        Some(image) => (format!("[docker]\nimage = \"{image}\"\n\n"), "runner = \"docker\"\n"),
        None => (String::new(), ""),
    };
    let config = format!(
        "name = \"{app}\"\n\n{docker}[programs.p]\n{runner}command = [\"sh\", \"-c\", {script:?}]\n"
    );
    std::fs::write(tmp.path().join("tend.toml"), config)
        .unwrap_or_else(|e| abort(format!("cannot write tend.toml: {e}")));
    let home = tmp.path().join("home");
    let stderr = tmp.path().join("tend.stderr");
    let args: [&OsStr; 2] = ["-q".as_ref(), "up".as_ref()];
    let mut tend = common::spawn_tend(&home, tmp.path(), &args, Some(&stderr));
    let end = tend.wait(Duration::from_secs(120), "51 starts of the program");
    if !end.success() {
        abort(format!("tend up ended with {end}; its stderr:\n{}", common::tail(&stderr, 20)));
    }
    let log = std::fs::read_to_string(home.join("apps").join(&app).join("logs/tend.log"))
        .unwrap_or_else(|e| abort(format!("cannot read tend.log: {e}")));
    exit_to_start_gaps(&log)
}

/// The gaps (ms) from each `p: exited with exit code 42` to the next `p: started` in `log`.
fn exit_to_start_gaps(log: &str) -> Vec<f64> {
    let mut gaps = Vec::new();
    let mut exited = None;
    for line in log.lines() {
        let Some(at) = line.get(11..26).and_then(seconds_of_day) else { continue };
        if line.contains(" p: exited with exit code 42") {
            exited = Some(at);
        } else if line.contains(" p: started")
            && let Some(then) = exited.take()
        {
            gaps.push((at - then).rem_euclid(86_400.0) * 1e3);
        }
    }
    gaps
}

/// `18:48:29.362227` as seconds since midnight.
fn seconds_of_day(text: &str) -> Option<f64> {
    let mut parts = text.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// 50 `docker exec <container> true` round trips (ms) in a container of the bench image.
async fn cli_round_trips() -> Vec<f64> {
    use tend_runner::Environment as _;
    let app = format!("bench-cli-{}", std::process::id());
    let env = tend_runner::DockerEnvironment::new(tend_runner::DockerSpec::new(app.clone(), IMAGE));
    if let Err(e) = env.prepare().await {
        abort(format!("cannot start the container for the CLI round trips: {e}"));
    }
    let container = tend_runner::docker_container_name(&app);
    let trips = (0..STARTS - 1)
        .map(|_| {
            let start = Instant::now();
            let status = std::process::Command::new("docker")
                .args(["exec", &container, "true"])
                .status()
                .unwrap_or_else(|e| abort(format!("docker exec: {e}")));
            if !status.success() {
                abort(format!("docker exec ended with {status}"));
            }
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    if let Err(e) = env.shutdown(Duration::from_secs(2)).await {
        eprintln!("could not remove the bench container: {e}");
    }
    trips
}

fn docker_missing() -> Option<String> {
    if !Path::new(busybox::BUSYBOX).exists() {
        return Some(format!("{} is missing: apt-get install busybox-static", busybox::BUSYBOX));
    }
    let answers = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    (!answers).then(|| "no Docker daemon answers (`docker info`)".to_owned())
}
