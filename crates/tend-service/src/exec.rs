//! Carrying out plans and asking probes: the only part of `tend service` that touches the
//! system. Platform differences here are small: how a command is started (no console window
//! on Windows) and who the current user is.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::plan::{Cmd, OnError, Plan, Step};
use super::{Captured, Probe, ServiceError, escape, windows};

/// A command ready to run: no stdin, and no console window flashing up on Windows.
fn command(argv: &[String]) -> Option<Command> {
    let (program, args) = argv.split_first()?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    crate::os::quiet(&mut cmd);
    Some(cmd)
}

fn shown(argv: &[String]) -> String {
    argv.iter().map(|a| escape::shell(a)).collect::<Vec<_>>().join(" ")
}

/// Runs `argv` and captures its output.
///
/// # Errors
/// [`ServiceError::Spawn`] when it cannot be started.
pub fn capture(argv: &[String]) -> Result<Captured, ServiceError> {
    let spawn_error = |source| ServiceError::Spawn { command: shown(argv), source };
    let mut cmd =
        command(argv).ok_or_else(|| spawn_error(std::io::ErrorKind::InvalidInput.into()))?;
    let output = cmd.output().map_err(spawn_error)?;
    Ok(Captured {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Runs `argv` on the terminal (stdio inherited) until it ends: `journalctl -f`.
///
/// # Errors
/// [`ServiceError::Spawn`] when it cannot be started; [`ServiceError::Command`] when it fails.
pub fn run_inherited(argv: &[String]) -> Result<(), ServiceError> {
    let spawn_error = |source| ServiceError::Spawn { command: shown(argv), source };
    let mut cmd =
        command(argv).ok_or_else(|| spawn_error(std::io::ErrorKind::InvalidInput.into()))?;
    let status = cmd.stdin(Stdio::inherit()).status().map_err(spawn_error)?;
    if status.success() {
        Ok(())
    } else {
        Err(ServiceError::Command {
            command: shown(argv),
            status: status.to_string(),
            output: String::new(),
            hint: String::new(),
        })
    }
}

/// Whether `program` is found on `PATH`.
pub fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else { return false };
    let file = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&path).any(|dir| dir.join(&file).is_file())
}

/// The probe's answer; a command that cannot run answers no.
pub fn ask(probe: &Probe) -> bool {
    match probe {
        Probe::Fixed(answer) => *answer,
        Probe::FileExists(path) => path.exists(),
        Probe::OnPath(program) => on_path(program),
        Probe::Both(a, b) => ask(a) && ask(b),
        Probe::Command { argv, accept } => capture(argv).is_ok_and(|out| accept(&out)),
    }
}

/// Carries out `plan`, writing warnings and notes to `out`. The first failing step ends it;
/// the `finally` steps run either way.
///
/// # Errors
/// The first failure.
pub fn run(plan: &Plan, out: &mut dyn Write) -> Result<(), ServiceError> {
    let result = plan.steps.iter().try_for_each(|step| run_step(step, out));
    for step in &plan.finally {
        if let Err(e) = run_step(step, out) {
            let _ = writeln!(out, "warning: {}", crate::chain(&e));
        }
    }
    result
}

fn run_step(step: &Step, out: &mut dyn Write) -> Result<(), ServiceError> {
    match step {
        Step::CreateDir(dir) => std::fs::create_dir_all(dir).map_err(|source| ServiceError::Io {
            action: "creating",
            path: dir.clone(),
            source,
        }),
        Step::Write { path, bytes } => Ok(tend_fs::write_bytes(path, bytes)?),
        Step::Remove(path) => remove(path),
        Step::Note(text) => {
            let _ = writeln!(out, "note: {text}");
            Ok(())
        }
        Step::Run(cmd) => run_cmd(cmd, out),
        Step::FirstOf(cmds) => {
            let mut last = Ok(());
            for cmd in cmds {
                let result = capture(&cmd.argv).and_then(|captured| judge(cmd, &captured));
                if result.is_ok() {
                    return Ok(());
                }
                last = result;
            }
            match (last, cmds.last()) {
                (Err(e), Some(cmd)) => handle(cmd, e, out),
                _ => Ok(()),
            }
        }
    }
}

fn remove(path: &Path) -> Result<(), ServiceError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(ServiceError::Io { action: "removing", path: path.to_path_buf(), source: e })
        }
        _ => Ok(()),
    }
}

fn run_cmd(cmd: &Cmd, out: &mut dyn Write) -> Result<(), ServiceError> {
    match capture(&cmd.argv).and_then(|captured| judge(cmd, &captured)) {
        Ok(()) => Ok(()),
        Err(e) => handle(cmd, e, out),
    }
}

/// The command's failure as an error, or `Ok` when it succeeded.
fn judge(cmd: &Cmd, captured: &Captured) -> Result<(), ServiceError> {
    if captured.success {
        return Ok(());
    }
    let said = if captured.stderr.trim().is_empty() { &captured.stdout } else { &captured.stderr };
    let said = said.trim();
    let both = format!("{}\n{}", captured.stderr, captured.stdout);
    let systemctl = cmd.argv.first().is_some_and(|program| program == "systemctl");
    if systemctl && crate::systemd::no_bus(&both) {
        return Err(ServiceError::Command {
            command: shown(&cmd.argv),
            status: "no user manager".into(),
            output: String::new(),
            hint: format!(": {}", crate::systemd::NO_BUS_EXPLANATION),
        });
    }
    let hint = if cmd.elevation_hint && windows::access_denied(&both) {
        format!("\n{}", windows::ELEVATION_HINT)
    } else {
        String::new()
    };
    Err(ServiceError::Command {
        command: shown(&cmd.argv),
        status: "non-zero exit".into(),
        output: if said.is_empty() { String::new() } else { format!(": {said}") },
        hint,
    })
}

fn handle(cmd: &Cmd, error: ServiceError, out: &mut dyn Write) -> Result<(), ServiceError> {
    match &cmd.on_error {
        OnError::Fail => Err(error),
        OnError::Ignore => Ok(()),
        OnError::Warn(message) => {
            let _ = writeln!(out, "warning: {}\n{message}", crate::chain(&error));
            Ok(())
        }
    }
}

/// The current user's login name and numeric id (on Windows `DOMAIN\\name` and 0).
pub fn current_user() -> (String, u32) {
    crate::os::current_user()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x");
        let mut out = Vec::new();
        let plan = Plan::new()
            .then(Step::Write { path: file.clone(), bytes: b"hi".to_vec() })
            .run(Cmd::new(&["false"]).ignore_errors())
            .run(Cmd::new(&["false"]).warn("do this instead"))
            .then(Step::FirstOf(vec![Cmd::new(&["false"]), Cmd::new(&["true"])]))
            .then(Step::Note("noted".into()));
        run(&plan, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("warning: `false` failed"), "{text}");
        assert!(text.contains("do this instead\nnote: noted"), "{text}");
        assert_eq!(std::fs::read(&file).unwrap(), b"hi");

        let failing = Plan::new()
            .run(
                Cmd::new(&["sh", "-c", "echo 'Access is denied.' >&2; exit 1"])
                    .with_elevation_hint(),
            )
            .run(Cmd::new(&["true"]))
            .finally(Step::Remove(file.clone()));
        let error = run(&failing, &mut Vec::new()).unwrap_err().to_string();
        assert!(error.contains(": Access is denied."), "{error}");
        assert!(error.contains("elevated terminal"), "{error}");
        assert!(!file.exists(), "finally steps run after a failure");
    }

    #[test]
    fn probes() {
        assert!(ask(&Probe::succeeds(&["true"])));
        assert!(!ask(&Probe::succeeds(&["false"])));
        assert!(!ask(&Probe::succeeds(&["/nonexistent/program"])));
        assert!(ask(&Probe::command(&["echo", "active"], |o| o.stdout.trim() == "active")));
        assert!(ask(&Probe::OnPath("sh".into())));
        assert!(!ask(&Probe::Both(Box::new(Probe::Fixed(true)), Box::new(Probe::Fixed(false)))));
    }
}
