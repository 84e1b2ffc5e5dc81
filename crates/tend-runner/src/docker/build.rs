//! Building an app's image through the API from a tar context ([`build_image`]), with each
//! step and output line handed to the caller as it comes ([`BuildProgress`]), and whether an
//! image is there at all ([`image_present`]).

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt as _;

use super::connect;
use super::error::{DockerError, is_not_found};

/// How many of the build's last output lines a failure shows.
pub const FAILURE_LINES: usize = 20;

/// One file of a build context, beside the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFile {
    /// Its path inside the context (relative, `/`-separated).
    pub path: String,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Its Unix mode (`0o644`, `0o755`).
    pub mode: u32,
}

/// An image to build: its tag, its Dockerfile, the files `COPY` may use, and how long it may
/// take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBuild {
    /// The tag the image gets (`name:tag`).
    pub tag: String,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// Other files of the context.
    pub files: Vec<ContextFile>,
    /// The longest the build may take.
    pub timeout: Duration,
}

/// What a build is doing, as it does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProgress<'a> {
    /// Step `number` of `total` begins: `instruction` (`RUN apt-get …`).
    Step {
        /// 1-based.
        number: usize,
        /// How many steps the Dockerfile has.
        total: usize,
        /// The instruction, as the builder prints it.
        instruction: &'a str,
    },
    /// A line of the build's output (without its line end).
    Line(&'a str),
}

/// `Step 3/5 : RUN make`: the step's number, the total and the instruction. Pure: the classic
/// builder's progress line.
///
/// ```
/// use tend_runner::docker_build_step;
/// assert_eq!(docker_build_step("Step 3/5 : RUN make"), Some((3, 5, "RUN make")));
/// assert_eq!(docker_build_step(" ---> Running in 1f2e"), None);
/// ```
pub fn parse_step(line: &str) -> Option<(usize, usize, &str)> {
    let rest = line.strip_prefix("Step ")?;
    let (counts, instruction) = rest.split_once(" : ")?;
    let (number, total) = counts.split_once('/')?;
    Some((number.parse().ok()?, total.parse().ok()?, instruction.trim_end()))
}

/// Whether `image` (a tag or an id) is on this machine.
///
/// # Errors
/// The daemon cannot be reached ([`DockerError::NoDaemon`], [`DockerError::SocketPermission`])
/// or answers with an error other than "no such image".
pub async fn image_present(image: &str) -> Result<bool, DockerError> {
    let docker = connect::connect().await?;
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(DockerError::api(format!("inspecting image `{image}`"), e)),
    }
}

/// Builds `build` (the classic builder, intermediate containers removed), telling `progress`
/// of each step and output line as they come.
///
/// # Errors
/// The daemon cannot be reached; [`DockerError::BuildFailed`] with the failing step and the
/// last [`FAILURE_LINES`] lines of output; [`DockerError::BuildTimedOut`] past
/// `build.timeout`.
pub async fn build_image(
    build: &ImageBuild,
    progress: &mut (dyn FnMut(BuildProgress<'_>) + Send),
) -> Result<(), DockerError> {
    let docker = connect::connect().await?;
    let context = context_tar(build)
        .map_err(|e| DockerError::Wrapper(format!("cannot make the build context: {e}")))?;
    let options = bollard::query_parameters::BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(build.tag.clone()),
        rm: true,
        forcerm: true,
        ..Default::default()
    };
    let mut log = BuildLog::default();
    let run = async {
        let mut stream =
            docker.build_image(options, None, Some(bollard::body_full(context.into())));
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(log.failed(&build.tag, error));
                }
                Err(e) => return Err(DockerError::api(format!("building `{}`", build.tag), e)),
            };
            if let Some(text) = info.stream.as_deref() {
                log.take(text, progress);
            }
            if let Some(error) = info.error_detail.and_then(|d| d.message) {
                return Err(log.failed(&build.tag, error));
            }
        }
        Ok(())
    };
    match tokio::time::timeout(build.timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(DockerError::BuildTimedOut {
            image: build.tag.clone(),
            timeout: build.timeout,
            step: log.step.clone(),
            last_lines: log.last_lines(),
        }),
    }
}

/// What a build printed: the current step and its last lines.
#[derive(Debug, Default)]
struct BuildLog {
    step: Option<String>,
    partial: String,
    lines: VecDeque<String>,
}

impl BuildLog {
    /// Takes a chunk of the build's output (lines may be split across chunks).
    fn take(&mut self, chunk: &str, progress: &mut (dyn FnMut(BuildProgress<'_>) + Send)) {
        self.partial.push_str(chunk);
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some((number, total, instruction)) = parse_step(line) {
                self.step = Some(line.to_owned());
                progress(BuildProgress::Step { number, total, instruction });
            } else {
                progress(BuildProgress::Line(line));
            }
            if self.lines.len() == FAILURE_LINES {
                self.lines.pop_front();
            }
            self.lines.push_back(line.to_owned());
        }
    }

    fn last_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.lines.iter().cloned().collect();
        if !self.partial.trim().is_empty() {
            lines.push(self.partial.trim_end().to_owned());
        }
        lines
    }

    fn failed(&self, image: &str, message: String) -> DockerError {
        DockerError::BuildFailed {
            image: image.to_owned(),
            step: self.step.clone(),
            message: message.trim_end().to_owned(),
            last_lines: self.last_lines(),
        }
    }
}

/// The build context: the Dockerfile and the other files, as a tar archive.
fn context_tar(build: &ImageBuild) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        tar.append_data(&mut header, path, data)
    };
    add("Dockerfile", build.dockerfile.as_bytes(), 0o644)?;
    for file in &build.files {
        add(&file.path, &file.data, file.mode)?;
    }
    tar.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_are_told_whole_and_steps_apart() {
        let mut log = BuildLog::default();
        let mut seen = Vec::new();
        let mut progress = |p: BuildProgress<'_>| seen.push(format!("{p:?}"));
        log.take("Step 1/2 : FROM x\n ---> ab", &mut progress);
        log.take("c\nStep 2/2 : RUN false\nboom\n", &mut progress);
        assert_eq!(
            seen,
            [
                r#"Step { number: 1, total: 2, instruction: "FROM x" }"#,
                r#"Line(" ---> abc")"#,
                r#"Step { number: 2, total: 2, instruction: "RUN false" }"#,
                r#"Line("boom")"#,
            ]
        );
        let DockerError::BuildFailed { step, last_lines, .. } = log.failed("t", "bad".into())
        else {
            panic!("not a build failure")
        };
        assert_eq!(step.as_deref(), Some("Step 2/2 : RUN false"));
        assert_eq!(last_lines.last().map(String::as_str), Some("boom"));
    }

    #[test]
    fn only_the_last_lines_are_kept() {
        let mut log = BuildLog::default();
        for i in 0..(FAILURE_LINES + 5) {
            log.take(&format!("line {i}\n"), &mut |_| {});
        }
        let lines = log.last_lines();
        assert_eq!(lines.len(), FAILURE_LINES);
        assert_eq!(lines[0], "line 5");
    }
}
