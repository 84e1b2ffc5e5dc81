//! Running nix itself: finding it, `nix print-dev-env --json --profile` (materialising),
//! `nix develop --command true` (can the wrapped mode work?), and the wrapped command line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::error::{NixError, STDERR_LINES, tail};
use crate::EnvVars;
use crate::envvars::find_binary;

/// The nix binary, and the variables its own runs get.
#[derive(Debug, Clone)]
pub(crate) struct Nix {
    pub binary: PathBuf,
    pub env: EnvVars,
}

/// A nix command that failed.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The command, for people.
    pub command: String,
    /// How it ended (`exit status 1`, `timed out after 600s`…).
    pub status: String,
    /// All of its stderr.
    pub stderr: String,
    /// Whether it was ended for taking too long.
    pub timed_out: bool,
}

impl Failure {
    /// Its last stderr lines, or its status when it printed nothing.
    pub fn tail(&self) -> String {
        let tail = tail(&self.stderr, STDERR_LINES);
        if tail.is_empty() { format!("({} printed nothing)", self.command) } else { tail }
    }
}

impl Nix {
    /// Finds `program` on the PATH nix's runs get (`env`'s PATH, else tend's).
    ///
    /// # Errors
    /// [`NixError::NotInstalled`] naming the PATH searched.
    pub fn locate(program: &str, env: &EnvVars) -> Result<Nix, NixError> {
        let path = env.get("PATH").map(OsString::from).or_else(|| std::env::var_os("PATH"));
        match find_binary(program, path.as_ref()) {
            Some(binary) => Ok(Nix { binary, env: env.clone() }),
            None => Err(NixError::NotInstalled {
                program: program.to_string(),
                path: path.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
            }),
        }
    }

    /// `nix print-dev-env --json --profile PROFILE .` in `flake_dir`: its stdout. The profile
    /// is the GC root nix keeps pointing at the dev shell.
    pub async fn print_dev_env(
        &self,
        flake_dir: &Path,
        profile: &Path,
        limit: Duration,
    ) -> Result<Vec<u8>, Failure> {
        let args: Vec<OsString> = vec![
            "print-dev-env".into(),
            "--json".into(),
            "--profile".into(),
            profile.into(),
            ".".into(),
        ];
        self.run(flake_dir, &args, limit).await
    }

    /// `nix develop . --command true` in `flake_dir`: whether the wrapped mode can run
    /// programs.
    pub async fn probe_develop(&self, flake_dir: &Path, limit: Duration) -> Result<(), Failure> {
        let args: Vec<OsString> =
            vec!["develop".into(), ".".into(), "--command".into(), "true".into()];
        self.run(flake_dir, &args, limit).await.map(drop)
    }

    /// The command line of a wrapped run: `nix develop FLAKE --command ARGV…`.
    pub fn wrapped_argv(&self, flake_dir: &Path, argv: Vec<String>) -> Vec<String> {
        let mut wrapped = vec![
            self.binary.to_string_lossy().into_owned(),
            "develop".to_string(),
            flake_dir.to_string_lossy().into_owned(),
            "--command".to_string(),
        ];
        wrapped.extend(argv);
        wrapped
    }

    async fn run(
        &self,
        dir: &Path,
        args: &[OsString],
        limit: Duration,
    ) -> Result<Vec<u8>, Failure> {
        let command = format!(
            "nix {}",
            args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
        );
        let mut cmd = tokio::process::Command::new(&self.binary);
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in self.env.iter() {
            cmd.env(k, v);
        }
        let failure = |status: String, stderr: String, timed_out: bool| Failure {
            command: command.clone(),
            status,
            stderr,
            timed_out,
        };
        // Owned while it runs: tend's reaper of adopted orphans (as subreaper) must not take
        // its exit status from tokio.
        let child = match crate::tree::spawn_owned(|| cmd.spawn(), tokio::process::Child::id) {
            Ok(child) => child,
            Err(e) => return Err(failure(format!("could not start: {e}"), String::new(), false)),
        };
        let pid = child.id();
        let waited = tokio::time::timeout(limit, child.wait_with_output()).await;
        if let Some(pid) = pid {
            crate::tree::disown(pid);
        }
        let output = match waited {
            Err(_) => {
                let status = format!("timed out after {}s", limit.as_secs());
                return Err(failure(status, String::new(), true));
            }
            Ok(Err(e)) => {
                return Err(failure(format!("could not wait for it: {e}"), String::new(), false));
            }
            Ok(Ok(output)) => output,
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(failure(output.status.to_string(), stderr, false))
        }
    }
}
