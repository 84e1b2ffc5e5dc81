//! Benchmark: how long a program takes to start and end natively, in a materialised Nix dev
//! shell (the shell's variables applied to the spawn) and wrapped (`nix develop --command`).
//!
//! Each case runs `true` 50 times in a row and prints min, median, p90 and max in ms of the
//! round trip (spawn, then until `Child::wait` returns), and the ratio of the medians to
//! native's. Target: materialised at most 1.2 × native.
//!
//! Offline, like the tests: a flake with no inputs in a temp folder, a local registry whose
//! `nixpkgs` is a stand-in `bashInteractive`, nix's config in `NIX_CONFIG`. Without nix it says
//! so and measures native only. Prints figures; asserts nothing.
//!
//! `cargo bench -p tend-runner --bench nix`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use tend_runner::{
    CommandSpec, EnvVars, Environment, NativeEnvironment, NixEnvironment, NixMode, NixSpec,
};

const RUNS: usize = 50;

fn main() {
    println!("== nix: run round trip, native vs materialised vs wrapped");
    println!("measures: {RUNS} runs of `true` per case, one after the other");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    println!("{:<24}{:>9}{:>9}{:>9}{:>9}{:>10}", "ms", "min", "median", "p90", "max", "× native");
    let native = measure(&NativeEnvironment::new()).await;
    let base = median(&native);
    row("native", &native, base);
    let Some(nix) = which("nix") else {
        println!("nix: skipped (nix is not on PATH; .ci/nix-setup --install installs it)");
        return;
    };
    let lab = tempfile::Builder::new().prefix("tend-nix-bench-").tempdir().unwrap();
    let spec = setup(lab.path());
    let materialised = NixEnvironment::new(spec.clone());
    match materialised.prepare_shell().await {
        Ok(p) if p.mode == NixMode::Materialised => {}
        other => {
            println!("nix: skipped (the dev shell is not materialised: {other:?})");
            return;
        }
    }
    row("materialised", &measure(&materialised).await, base);

    // The wrapped mode: nix refuses to materialise, so every run goes through nix develop.
    let wrapper = lab.path().join("nix-refusing");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n[ \"$1\" = print-dev-env ] && exit 1\nexec '{}' \"$@\"\n",
            nix.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut wrapped = spec;
    wrapped.nix = wrapper.to_string_lossy().into_owned();
    wrapped.cache_dir = lab.path().join("cache-of-the-wrapped");
    let wrapped = NixEnvironment::new(wrapped);
    match wrapped.prepare_shell().await {
        Ok(p) if matches!(p.mode, NixMode::Wrapped { .. }) => {}
        other => {
            println!("wrapped: skipped (not wrapped: {other:?})");
            return;
        }
    }
    row("wrapped", &measure(&wrapped).await, base);
}

/// The flake, registry and nix config in `dir`; the spec of its dev shell.
fn setup(dir: &Path) -> NixSpec {
    let system = tend_runner::nix_system();
    std::fs::create_dir_all(dir.join("nixpkgs")).unwrap();
    std::fs::create_dir_all(dir.join("flake")).unwrap();
    std::fs::write(
        dir.join("nixpkgs/flake.nix"),
        format!(
            r#"{{ outputs = {{ self }}: {{ legacyPackages.{system}.bashInteractive = derivation {{
  name = "bash-interactive-stand-in"; system = "{system}"; builder = "/bin/bash";
  args = [ "-c" "set -e; /bin/mkdir -p $out/bin; /bin/ln -s /bin/bash $out/bin/bash; exit 0" ]; }}; }}; }}
"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("flake/flake.nix"),
        format!(
            r#"{{ outputs = {{ self }}: {{ devShells.{system}.default = derivation {{
  name = "tend-bench-shell"; system = "{system}"; builder = "/bin/bash";
  args = [ "-c" "echo > $out; exit 0" ]; outputs = [ "out" ];
  PATH = "/usr/bin:/bin"; FOO = "bench"; }}; }}; }}
"#
        ),
    )
    .unwrap();
    let registry = serde_json::json!({"version": 2, "flakes": [{
        "from": {"type": "indirect", "id": "nixpkgs"},
        "to": {"type": "path", "path": dir.join("nixpkgs")},
    }]});
    std::fs::write(dir.join("registry.json"), registry.to_string()).unwrap();
    let config = format!(
        "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\n\
         substituters =\nflake-registry = {}\n",
        dir.join("registry.json").display()
    );
    let mut env: EnvVars = [("NIX_CONFIG", config)].into_iter().collect();
    env.set("XDG_CACHE_HOME", dir.join("xdg").to_string_lossy());
    let mut spec = NixSpec::new(dir.join("flake"), dir.join("cache"));
    spec.nix_env = env;
    spec
}

async fn measure(env: &dyn Environment) -> Vec<f64> {
    let mut trips = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let argv = vec!["true".into()];
        let child = env.spawn(CommandSpec::new(argv, std::env::temp_dir())).await.expect("spawn");
        let exit = child.wait().await.expect("wait");
        trips.push(ms(start.elapsed()));
        assert!(exit.success(), "true ended with {exit}");
    }
    trips
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

fn median(values: &[f64]) -> f64 {
    let s = sorted(values);
    s[s.len() / 2]
}

fn row(label: &str, values: &[f64], native: f64) {
    let s = sorted(values);
    let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:<24}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}×",
        s[0],
        at(0.5),
        at(0.9),
        s[s.len() - 1],
        at(0.5) / native
    );
}
