#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]
#![cfg(all(feature = "docker", unix))]
//! The Docker environment against the real daemon, with an image built here `FROM scratch`
//! and a static busybox (nothing is pulled). Without a daemon every test is skipped with the
//! reason printed, unless `TEND_REQUIRE_DOCKER=1`, which makes it a failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt as _;
use tend_runner::{
    CommandSpec, ContainerOwner, DockerBuildProgress, DockerContextFile, DockerEnvironment,
    DockerError, DockerImageBuild, DockerSpec, Environment as _, Exit, MemorySink, RunRegistry,
    RunnerError, Stream,
};
use tokio::io::AsyncBufReadExt as _;

const IMAGE: &str = "tend-runner-test-busybox:1";
const BUSYBOX: &str = "/bin/busybox";
const LIMIT: Duration = Duration::from_secs(60);

/// The daemon, or `None` (after saying why) when the test is to be skipped.
async fn daemon() -> Option<Docker> {
    let reason = match Docker::connect_with_defaults() {
        Ok(docker) => match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
            Ok(Ok(_)) => {
                if !std::path::Path::new(BUSYBOX).exists() {
                    format!("{BUSYBOX} is missing (apt-get install busybox-static)")
                } else {
                    return Some(docker);
                }
            }
            Ok(Err(e)) => format!("no Docker daemon answers: {e}"),
            Err(_) => "the Docker daemon does not answer".to_string(),
        },
        Err(e) => format!("no Docker client: {e}"),
    };
    assert!(
        std::env::var("TEND_REQUIRE_DOCKER").as_deref() != Ok("1"),
        "TEND_REQUIRE_DOCKER=1 but {reason}"
    );
    eprintln!("skipped: {reason}");
    None
}

/// Builds the test image once per test run, through the API from a tar context.
async fn image(docker: &Docker) -> &'static str {
    static BUILT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\n\
                RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nENV PATH=/bin\n";
            let mut context = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_gnu();
            header.set_size(dockerfile.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            context.append_data(&mut header, "Dockerfile", dockerfile.as_bytes()).unwrap();
            context.append_path_with_name(BUSYBOX, "busybox").unwrap();
            let context = context.into_inner().unwrap();
            let options = bollard::query_parameters::BuildImageOptions {
                dockerfile: "Dockerfile".into(),
                t: Some(IMAGE.into()),
                rm: true,
                ..Default::default()
            };
            let mut build =
                docker.build_image(options, None, Some(bollard::body_full(context.into())));
            while let Some(step) = build.next().await {
                let step = step.expect("image build");
                assert!(step.error_detail.is_none(), "image build failed: {step:?}");
            }
        })
        .await;
    IMAGE
}

/// A unique app name, and a guard that removes its container however the test ends.
fn app(name: &str) -> (String, Cleanup) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let app = format!("rt-{name}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    (app.clone(), Cleanup(format!("tend-{app}")))
}

struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let name = self.0.clone();
        // Drop is synchronous: remove the container from a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(docker) = Docker::connect_with_defaults() {
                    let options = bollard::query_parameters::RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    };
                    let _ = docker.remove_container(&name, Some(options)).await;
                }
            });
        })
        .join();
    }
}

fn spec_of(app: &str, image: &str) -> DockerSpec {
    DockerSpec::new(app, image)
}

fn sh(script: &str) -> CommandSpec {
    CommandSpec::new(vec!["sh".into(), "-c".into(), script.into()], "/")
}

/// Runs `script` in `container` as a plain exec (the test's own view of what is inside).
async fn exec_output(docker: &Docker, container: &str, script: &str) -> String {
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        cmd: Some(vec!["sh".to_string(), "-c".to_string(), script.to_string()]),
        ..Default::default()
    };
    let exec = docker.create_exec(container, options).await.unwrap();
    let mut out = String::new();
    if let StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&exec.id, None).await.unwrap()
    {
        while let Some(Ok(frame)) = output.next().await {
            out.push_str(&String::from_utf8_lossy(&frame.into_bytes()));
        }
    }
    out
}

/// Every process command line in the container, one a line (arguments joined by spaces).
async fn process_list(docker: &Docker, container: &str) -> String {
    exec_output(
        docker,
        container,
        "for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline 2>/dev/null; echo; done",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_and_forwards_lines() {
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let (app, _cleanup) = app("run");
    let env = DockerEnvironment::new(spec_of(&app, image));
    env.prepare().await.unwrap();
    let sink = MemorySink::default();
    let mut spec = sh("echo one; echo two >&2; printf 'bad \\377 utf8\\n'; printf tail");
    spec.output(Arc::new(sink.clone()));
    let started = Instant::now();
    let child = env.spawn(spec).await.unwrap();
    eprintln!("exec spawn latency: {:?}", started.elapsed());
    assert!(matches!(child.id(), tend_runner::ChildId::Exec { .. }));
    assert_eq!(tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap(), Exit::Code(0));
    let lines = sink.raw_lines();
    let stdout: Vec<&[u8]> =
        lines.iter().filter(|(s, _)| *s == Stream::Stdout).map(|(_, l)| l.as_slice()).collect();
    assert_eq!(stdout, vec![&b"one"[..], &b"bad \xff utf8"[..], &b"tail"[..]]);
    assert!(lines.contains(&(Stream::Stderr, b"two".to_vec())), "{lines:?}");

    // A missing program is the same error as natively, naming the container's PATH.
    let err = env.spawn(CommandSpec::new(vec!["no-such-program".into()], "/")).await.unwrap_err();
    assert!(
        matches!(&err, RunnerError::BinaryNotFound { name, path } if name == "no-such-program" && path == "/bin"),
        "{err:?}"
    );
    env.shutdown(Duration::from_secs(2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_is_attached_when_asked() {
    use tokio::io::AsyncWriteExt as _;
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let (app, _cleanup) = app("stdin");
    let env = DockerEnvironment::new(spec_of(&app, image));
    let sink = MemorySink::default();
    let mut spec = sh("while read -r line; do echo \"got $line\"; done; echo eof");
    spec.output(Arc::new(sink.clone()));
    let mut input = spec.stdin_pipe().unwrap();
    let child = env.spawn(spec).await.unwrap();
    input.write_all(b"one\ntwo\n").await.unwrap();
    input.shutdown().await.unwrap();
    drop(input);
    assert_eq!(tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap(), Exit::Code(0));
    let lines: Vec<String> = sink.lines().into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines, ["got one", "got two", "eof"]);
    env.shutdown(Duration::from_secs(2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_signals_are_reported_as_natively() {
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let (app, _cleanup) = app("exit");
    let env = DockerEnvironment::new(spec_of(&app, image));
    env.prepare().await.unwrap();
    let child = env.spawn(sh("exit 42")).await.unwrap();
    assert_eq!(tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap(), Exit::Code(42));
    let child = env.spawn(sh("kill -9 $$")).await.unwrap();
    assert_eq!(tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap(), Exit::Signal(9));
    let child = env.spawn(sh("kill -SEGV $$")).await.unwrap();
    assert_eq!(tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap(), Exit::Signal(11));
    env.shutdown(Duration::from_secs(2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_tree_in_the_container_with_a_setsid_escapee() {
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let (app, _cleanup) = app("stop");
    let env = DockerEnvironment::new(spec_of(&app, image));
    env.prepare().await.unwrap();
    // A child in the group, an escapee in a session of its own (with its own child), and a
    // leader that ignores TERM, so SIGKILL is needed.
    let mut spec = sh("trap '' TERM; sleep 1300 & setsid sh -c 'sleep 1301 & sleep 1302' & \
         echo ready; wait");
    spec.stop_policy(tend_runner::StopPolicy {
        signal: tend_runner::Signal::Terminate,
        grace: Duration::from_millis(500),
    });
    let out = spec.stdout_pipe().unwrap();
    let child = env.spawn(spec).await.unwrap();
    let mut lines = tokio::io::BufReader::new(out).lines();
    let first = tokio::time::timeout(LIMIT, lines.next_line()).await.unwrap().unwrap();
    assert_eq!(first.as_deref(), Some("ready"));
    let tend_runner::ChildId::Exec { container, .. } = child.id().clone() else { panic!() };
    let before = process_list(&docker, &container).await;
    assert!(before.contains("sleep 1301") && before.contains("sleep 1300"), "{before}");

    let report = tokio::time::timeout(LIMIT, child.stop()).await.unwrap().unwrap();
    assert!(report.survivors.is_empty(), "{report:?}");
    assert!(report.killed >= 1, "the leader ignores TERM: {report:?}");
    assert_eq!(report.end, Some(Exit::Signal(9)));
    let after = process_list(&docker, &container).await;
    assert!(!after.contains("sleep 130"), "left behind:\n{after}");
    env.shutdown(Duration::from_secs(2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_on_a_command_line() {
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let (app, _cleanup) = app("hidden");
    let mut spec = spec_of(&app, image);
    spec.env.set("APP_LEVEL_SECRET", "app-secret-5c1b");
    let env = DockerEnvironment::new(spec);
    env.prepare().await.unwrap();
    let mut run = sh("echo \"$RUN_SECRET $APP_LEVEL_SECRET\"; echo started; exec sleep 1400");
    run.env("RUN_SECRET", "run-secret-9f2e");
    let out = run.stdout_pipe().unwrap();
    let child = env.spawn(run).await.unwrap();
    let mut lines = tokio::io::BufReader::new(out).lines();
    let got = tokio::time::timeout(LIMIT, lines.next_line()).await.unwrap().unwrap();
    assert_eq!(got.as_deref(), Some("run-secret-9f2e app-secret-5c1b"));
    let _ = tokio::time::timeout(LIMIT, lines.next_line()).await.unwrap();

    let tend_runner::ChildId::Exec { container, exec } = child.id().clone() else { panic!() };
    let inspected = docker.inspect_container(&container, None).await.unwrap();
    let text = serde_json::to_string(&inspected).unwrap();
    assert!(!text.contains("-secret-"), "a secret is in docker inspect: {text}");
    let exec_info = serde_json::to_string(&docker.inspect_exec(&exec).await.unwrap()).unwrap();
    assert!(!exec_info.contains("-secret-"), "a secret is in the exec's inspect: {exec_info}");
    let processes = process_list(&docker, &container).await;
    assert!(processes.contains("sleep 1400"), "{processes}");
    assert!(!processes.contains("-secret-"), "a secret is on a command line:\n{processes}");
    child.stop().await.unwrap();
    env.shutdown(Duration::from_secs(2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reap_removes_containers_of_a_dead_owner_and_keeps_a_live_ones() {
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let registry = RunRegistry::new(tempfile::tempdir().unwrap().path().join("runs"));
    let me = ContainerOwner::current();

    // Same pid as this process, another start time: a recycled pid, so the owner is gone.
    let (dead_app, _cleanup_dead) = app("reap-dead");
    let mut dead = spec_of(&dead_app, image);
    dead.owner = ContainerOwner { start_time: me.start_time + 1, ..me.clone() };
    DockerEnvironment::new(dead).prepare().await.unwrap();
    let report = DockerEnvironment::new(spec_of(&dead_app, image))
        .reap_leftovers(&registry, Duration::from_secs(1))
        .await;
    assert_eq!((report.records_cleared, report.records_kept), (1, 0), "{report:?}");
    let gone = docker.inspect_container(&format!("tend-{dead_app}"), None).await;
    assert!(gone.is_err(), "the dead owner's container is still there");

    let (live_app, _cleanup_live) = app("reap-live");
    let live = DockerEnvironment::new(spec_of(&live_app, image));
    live.prepare().await.unwrap();
    let report = DockerEnvironment::new(spec_of(&live_app, image))
        .reap_leftovers(&registry, Duration::from_secs(1))
        .await;
    assert_eq!((report.records_cleared, report.records_kept), (0, 1), "{report:?}");
    assert!(docker.inspect_container(&format!("tend-{live_app}"), None).await.is_ok());
    live.shutdown(Duration::from_secs(2)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_container_is_reused_and_swept_a_changed_one_recreated() {
    let Some(docker) = daemon().await else { return };
    let image = image(&docker).await;
    let (app, _cleanup) = app("reuse");
    let first = DockerEnvironment::new(spec_of(&app, image));
    let created = first.prepare_container().await.unwrap();
    assert!(!created.reused);
    // A run left behind by a tend that "crashed" (its environment is dropped, never stopped).
    let mut leftover = sh("echo up; exec sleep 1500");
    let out = leftover.stdout_pipe().unwrap();
    let _abandoned = first.spawn(leftover).await.unwrap();
    let mut lines = tokio::io::BufReader::new(out).lines();
    tokio::time::timeout(LIMIT, lines.next_line()).await.unwrap().unwrap();
    drop(first);

    let second = DockerEnvironment::new(spec_of(&app, image));
    let reused = second.prepare_container().await.unwrap();
    assert!(reused.reused);
    assert_eq!(reused.container, created.container);
    assert!(reused.swept >= 1, "{reused:?}");
    let processes = process_list(&docker, &created.container).await;
    assert!(!processes.contains("sleep 1500"), "the crashed tend's run survived:\n{processes}");
    drop(second);

    let dir = tempfile::tempdir().unwrap();
    let mut changed = spec_of(&app, image);
    changed.mount(dir.path(), "/mnt/data", true);
    let third = DockerEnvironment::new(changed);
    let recreated = third.prepare_container().await.unwrap();
    assert!(!recreated.reused);
    assert_ne!(recreated.container, created.container);
    let seen = exec_output(&docker, &recreated.container, "ls -d /mnt/data").await;
    assert_eq!(seen.trim(), "/mnt/data");
    third.shutdown(Duration::from_secs(2)).await.unwrap();
    assert!(docker.inspect_container(&recreated.container, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_is_not_there_is_named() {
    let Some(_docker) = daemon().await else { return };
    let (app, _cleanup) = app("noimage");
    let env = DockerEnvironment::new(spec_of(&app, "tend-runner-test-no-such-image:0"));
    let err = env.prepare_container().await.unwrap_err();
    assert!(matches!(err, DockerError::ImageMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("tend-runner-test-no-such-image:0"), "{err}");
}

/// A unique image tag for a test, and a guard that removes the image however the test ends.
fn test_tag(name: &str) -> (String, ImageCleanup) {
    let tag = format!("tend-runner-test-{name}-{}:1", std::process::id());
    (tag.clone(), ImageCleanup(tag))
}

struct ImageCleanup(String);

impl Drop for ImageCleanup {
    fn drop(&mut self) {
        let tag = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(docker) = Docker::connect_with_defaults() {
                    let options = bollard::query_parameters::RemoveImageOptions {
                        force: true,
                        ..Default::default()
                    };
                    let _ = docker.remove_image(&tag, Some(options), None).await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_is_built_step_by_step_with_its_output_and_its_files() {
    let Some(docker) = daemon().await else { return };
    let base = image(&docker).await;
    let (tag, _cleanup) = test_tag("build");
    assert!(!tend_runner::docker_image_present(&tag).await.unwrap());
    let build = DockerImageBuild {
        tag: tag.clone(),
        dockerfile: format!(
            "FROM {base}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt && echo built-here\n"
        ),
        files: vec![DockerContextFile {
            path: "hello.txt".into(),
            data: b"hello from the context\n".to_vec(),
            mode: 0o644,
        }],
        timeout: LIMIT,
    };
    let mut steps = Vec::new();
    let mut lines = Vec::new();
    tend_runner::docker_build_image(&build, &mut |progress| match progress {
        DockerBuildProgress::Step { number, total, instruction } => {
            steps.push(format!("{number}/{total} {instruction}"));
        }
        DockerBuildProgress::Line(line) => lines.push(line.to_owned()),
    })
    .await
    .unwrap();
    assert_eq!(
        steps,
        [
            format!("1/3 FROM {base}"),
            "2/3 COPY hello.txt /hello.txt".to_owned(),
            "3/3 RUN cat /hello.txt && echo built-here".to_owned(),
        ]
    );
    assert!(lines.iter().any(|l| l == "hello from the context"), "{lines:?}");
    assert!(lines.iter().any(|l| l == "built-here"), "{lines:?}");
    assert!(tend_runner::docker_image_present(&tag).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_build_names_its_step_and_shows_its_last_lines() {
    let Some(docker) = daemon().await else { return };
    let base = image(&docker).await;
    let (tag, _cleanup) = test_tag("badbuild");
    let build = DockerImageBuild {
        tag: tag.clone(),
        dockerfile: format!(
            "FROM {base}\nRUN echo fine\nRUN echo about-to-fail && exit 3\nRUN echo never\n"
        ),
        files: Vec::new(),
        timeout: LIMIT,
    };
    let err = tend_runner::docker_build_image(&build, &mut |_| {}).await.unwrap_err();
    let DockerError::BuildFailed { step, last_lines, .. } = &err else {
        panic!("not a build failure: {err:?}")
    };
    assert_eq!(step.as_deref(), Some("Step 3/4 : RUN echo about-to-fail && exit 3"));
    assert!(last_lines.iter().any(|l| l == "about-to-fail"), "{last_lines:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "building image `{tag}` (Step 3/4 : RUN echo about-to-fail && exit 3) failed: "
        )),
        "{text}"
    );
    assert!(text.contains("returned a non-zero code: 3"), "{text}");
    assert!(text.contains("\n    about-to-fail"), "{text}");
    assert!(!tend_runner::docker_image_present(&tag).await.unwrap());
}

/// `DOCKER_HOST` at a socket nothing listens on: "no daemon", not a hang or a panic. Runs in a
/// child test process, since the variable is process-wide.
#[test]
fn a_dead_socket_says_no_daemon() {
    const CHILD: &str = "TEND_TEST_DEAD_SOCKET_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let env = DockerEnvironment::new(DockerSpec::new("dead", "whatever:1"));
            let err = env.prepare_container().await.unwrap_err();
            assert!(matches!(err, DockerError::NoDaemon { .. }), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("no Docker daemon answers at unix://"), "{text}");
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for socket in [dir.path().join("closed.sock"), dir.path().join("missing.sock")] {
        if socket.ends_with("closed.sock") {
            drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        }
        let run = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["a_dead_socket_says_no_daemon", "--exact", "--nocapture"])
            .env(CHILD, "1")
            .env("DOCKER_HOST", format!("unix://{}", socket.display()))
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "with DOCKER_HOST at {}:\n{}{}",
            socket.display(),
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
