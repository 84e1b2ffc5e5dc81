//! Benchmark: how long a run takes to start, and to start and end, natively and as an exec in
//! the app's container, beside the `docker exec <container> true` a user would reach for.
//!
//! Each case runs `true` 50 times in a row and prints min, median, p90 and max in ms:
//! - spawn: until `Environment::spawn` returns (the program runs: natively its run record is
//!   written and it was executed; in Docker the wrapper has reported its pid);
//! - round trip: spawn, then until `Child::wait` returns its exit;
//! - `docker exec` CLI: the whole `docker exec tend-<app> true` command.
//!
//! Needs a Docker daemon and a static busybox at /bin/busybox (the image is built here
//! `FROM scratch`; nothing is pulled); without them it says so and measures the native cases
//! only. Prints figures; asserts nothing.
//!
//! `cargo bench -p tend-runner --bench docker`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use tend_runner::{
    CommandSpec, DockerEnvironment, DockerImageBuild, DockerSpec, Environment, NativeEnvironment,
};

const RUNS: usize = 50;
const IMAGE: &str = "tend-bench-busybox:1";
const BUSYBOX: &str = "/bin/busybox";

fn main() {
    println!("== docker: run start latency, native vs docker exec vs the docker CLI");
    println!("measures: {RUNS} runs of `true` per case, one after the other");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    println!("{:<34}{:>9}{:>9}{:>9}{:>9}", "ms", "min", "median", "p90", "max");
    let native = NativeEnvironment::new();
    let (spawn, trip) = measure(&native, "/").await;
    row("native spawn", &spawn);
    row("native round trip", &trip);

    if let Some(reason) = docker_missing() {
        println!("docker: skipped ({reason})");
        return;
    }
    if let Err(e) = build_image().await {
        println!("docker: skipped (cannot build the bench image: {e})");
        return;
    }
    let app = format!("bench-{}", std::process::id());
    let docker = DockerEnvironment::new(DockerSpec::new(app.clone(), IMAGE));
    let prepared = Instant::now();
    if let Err(e) = docker.prepare().await {
        println!("docker: skipped (prepare failed: {e})");
        return;
    }
    println!("{:<34}{:>9.1}", "docker prepare (create + start)", ms(prepared.elapsed()));
    let (docker_spawn, docker_trip) = measure(&docker, "/").await;
    row("docker exec spawn", &docker_spawn);
    row("docker exec round trip", &docker_trip);
    let cli = cli_round_trips(&format!("tend-{app}"));
    row("`docker exec … true` (CLI)", &cli);
    if let Err(e) = docker.shutdown(Duration::from_secs(2)).await {
        println!("docker: could not remove the bench container: {e}");
    }
    let median = |v: &[f64]| sorted(v)[v.len() / 2];
    println!(
        "result: docker exec round trip median {:.1} ms = {:.2}× the CLI's `docker exec … true` ({:.1} ms); native {:.2} ms",
        median(&docker_trip),
        median(&docker_trip) / median(&cli),
        median(&cli),
        median(&trip)
    );
}

/// `RUNS` spawns of `true` in `env`: the spawn latencies and the round trips (ms).
async fn measure(env: &dyn Environment, dir: &str) -> (Vec<f64>, Vec<f64>) {
    let (mut spawn, mut trip) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let start = Instant::now();
        let child = env.spawn(CommandSpec::new(vec!["true".into()], dir)).await.expect("spawn");
        spawn.push(ms(start.elapsed()));
        let exit = child.wait().await.expect("wait");
        trip.push(ms(start.elapsed()));
        assert!(exit.success(), "true ended with {exit}");
    }
    (spawn, trip)
}

fn cli_round_trips(container: &str) -> Vec<f64> {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let status = std::process::Command::new("docker")
                .args(["exec", container, "true"])
                .status()
                .expect("docker exec");
            assert!(status.success(), "docker exec ended with {status}");
            ms(start.elapsed())
        })
        .collect()
}

fn docker_missing() -> Option<String> {
    if !std::path::Path::new(BUSYBOX).exists() {
        return Some(format!("{BUSYBOX} is missing: apt-get install busybox-static"));
    }
    let answers = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    (!answers).then(|| "no Docker daemon answers (`docker info`)".to_owned())
}

async fn build_image() -> Result<(), tend_runner::DockerError> {
    let busybox = std::fs::read(BUSYBOX)
        .map_err(|e| tend_runner::DockerError::Wrapper(format!("cannot read {BUSYBOX}: {e}")))?;
    let build = DockerImageBuild {
        tag: IMAGE.into(),
        dockerfile: "FROM scratch\nCOPY busybox /bin/busybox\n\
                     RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nENV PATH=/bin\n"
            .into(),
        files: vec![tend_runner::DockerContextFile {
            path: "busybox".into(),
            data: busybox,
            mode: 0o755,
        }],
        timeout: Duration::from_secs(120),
    };
    tend_runner::docker_build_image(&build, &mut |_| {}).await
}

fn row(label: &str, values: &[f64]) {
    let s = sorted(values);
    let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    println!("{label:<34}{:>9.2}{:>9.2}{:>9.2}{:>9.2}", s[0], at(0.5), at(0.9), s[s.len() - 1]);
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
