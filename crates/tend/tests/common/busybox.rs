//! A local image for the Docker tests and benchmarks: `FROM scratch` with this machine's static
//! busybox (nothing is pulled, no registry is named), built through tend's own runner. Shared
//! by `tests/runtimes.rs` and `benches/docker.rs`.

use std::time::Duration;

/// Where the static busybox is (Debian's `busybox-static`).
pub const BUSYBOX: &str = "/bin/busybox";

/// Builds the image `tag` unless the daemon has it already.
///
/// # Errors
/// No busybox here, no daemon, or a failed build, said in words.
pub async fn ensure(tag: &str) -> Result<(), String> {
    let busybox = std::fs::read(BUSYBOX)
        .map_err(|e| format!("{BUSYBOX}: {e} (apt-get install busybox-static)"))?;
    if tend_runner::docker_image_present(tag).await.map_err(|e| e.to_string())? {
        return Ok(());
    }
    let build = tend_runner::DockerImageBuild {
        tag: tag.into(),
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
    tend_runner::docker_build_image(&build, &mut |_| {})
        .await
        .map_err(|e| format!("cannot build {tag}: {e}"))
}
