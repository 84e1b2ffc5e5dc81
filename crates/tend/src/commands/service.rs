//! `tend service show|install|uninstall|start|stop|status|logs`: the command line of the
//! `tend-service` crate. This side finds the app (its tend.toml, or `--name`), fills the
//! [`Spec`] and prints; it talks only to [`Service`], whose service manager was decided once,
//! at compile time.

use std::path::{Path, PathBuf};

use tend_api::AppHome;
use tend_service::{Logs, Service, ServiceError, Spec, State};

use crate::cli::{ServiceArgs, ServiceCommand};
use crate::exit::{self, CliError};
use crate::global::Global;
use crate::output::Printer;

/// `tend service …`.
///
/// # Errors
/// A missing tend.toml, an unavailable service manager, or a failed step (exit 1).
pub async fn run(global: &Global, file: &Path, args: ServiceArgs) -> Result<u8, CliError> {
    let spec = match &args.name {
        Some(name) => {
            if matches!(args.command, ServiceCommand::Show { .. } | ServiceCommand::Install { .. })
            {
                return Err(CliError::error(
                    "show and install need the app's tend.toml: pass -f FILE instead of --name",
                ));
            }
            if tend_app::config::sanitize_name(name) != *name || name.is_empty() {
                return Err(CliError::error(format!("--name: `{name}` is not an app name")));
            }
            spec_for_app(global, name).map_err(error)?
        }
        None => spec_for_config(global, file)?,
    };
    let service = Service::new(spec);
    let backend = service.backend();
    let app = backend.spec().app.clone();
    let name = backend.name();
    let file_arg = match &args.name {
        Some(name) => format!("--name {name}"),
        None => format!("-f {}", tend_service::escape::shell(&file.to_string_lossy())),
    };
    let install_arg =
        if args.name.is_some() { "-f <its tend.toml>".to_string() } else { file_arg.clone() };
    let mut out = Printer::stdout();
    match args.command {
        ServiceCommand::Show { plan } => {
            if plan {
                let plan = service.install_plan(true).map_err(error)?;
                out.write(&plan.to_string());
            } else {
                let definition = backend.definition().map_err(error)?;
                eprintln!("# {} {name}: {}", backend.kind(), definition.location);
                out.write(&definition.text);
            }
        }
        ServiceCommand::Install { no_linger, replace } => {
            hand_over(global, file, &service, &app, &file_arg, replace).await?;
            let again = service.is_installed();
            let mut notes = Vec::new();
            if let Err(e) = service.install(!no_linger, &mut notes) {
                let mut message = crate::exit::chain(&e);
                if !again && service.is_installed() {
                    message.push_str(&format!(
                        "\nThe definition is installed but the service did not start: see \
`tend service status {file_arg}`; `tend service uninstall {file_arg}` removes it."
                    ));
                }
                return Err(CliError::error(message));
            }
            let location = backend.definition().map_err(error)?.location;
            let verb = if again { "updated and restarted" } else { "installed and started" };
            out.write(&format!("{app}: {verb} {} {name}\n  {location}\n", backend.kind()));
            out.write(&String::from_utf8_lossy(&notes));
            out.write(&summary(&service.state()));
            out.write(&format!(
                "It starts at login and is restarted when it fails.\n\
Status: tend service status {file_arg}    logs: tend service logs {file_arg}\n"
            ));
        }
        ServiceCommand::Uninstall => {
            if !service.is_installed() {
                out.write(&format!("{app}: no service installed; nothing to remove\n"));
            } else {
                service.uninstall(&mut std::io::stderr()).map_err(error)?;
                out.write(&format!("{app}: stopped and removed {} {name}\n", backend.kind()));
            }
        }
        ServiceCommand::Start => {
            require_installed(&service, &app, &install_arg)?;
            service.start(&mut std::io::stderr()).map_err(error)?;
            out.write(&format!("{app}: started {name}\n"));
        }
        ServiceCommand::Stop => {
            require_installed(&service, &app, &install_arg)?;
            if service.is_running() {
                service.stop(&mut std::io::stderr()).map_err(error)?;
                out.write(&format!("{app}: stopped {name}\n"));
            } else {
                out.write(&format!("{app}: {name} is not running\n"));
            }
        }
        ServiceCommand::Status => {
            let state = service.state();
            out.write(&format!("{} {name}\n", backend.kind()));
            if let Ok(definition) = backend.definition() {
                out.write(&format!("  definition: {}\n", definition.location));
            }
            if !state.available {
                out.write(&format!("  available:  no: {}\n", backend.unavailable_reason()));
            }
            out.write(&summary(&state));
            let home = AppHome::new(&global.home, &app);
            if let Some(failure) = tend_app::lifecycle::failure::last(&home) {
                out.write(&format!("  last failure: {} {}\n", failure.at_text, failure.message));
            }
            if state.available && state.installed {
                let details = service.details();
                let text =
                    if details.stdout.trim().is_empty() { details.stderr } else { details.stdout };
                out.write("\n");
                out.write(&text);
                out.write(&format!("\nDebug: {}\n", backend.debug_hint()));
            } else if !state.installed {
                out.write(&format!("Install it with: tend service install {install_arg}\n"));
            }
            out.flush();
            return Ok(if state.running { exit::SUCCESS } else { exit::NOT_RUNNING });
        }
        ServiceCommand::Logs { lines, follow } => {
            out.flush();
            drop(out);
            return logs(&service, lines, follow).await;
        }
    }
    out.flush();
    Ok(exit::SUCCESS)
}

/// Before `install`: an app that already runs outside the service (`tend up`, `tend up -d`)
/// would make the service's tend fail on the lock and be restarted for ever. Refuse, with the
/// choices; with `replace`, stop it (as `tend down`) so that the service takes over.
async fn hand_over(
    global: &Global,
    file: &Path,
    service: &Service,
    app: &str,
    file_arg: &str,
    replace: bool,
) -> Result<(), CliError> {
    let home = AppHome::new(&global.home, app);
    let socket = tend_api::address::connect_path(&home);
    if service.is_running() || !tend_api::client::answers(&socket).await {
        return Ok(());
    }
    let pid = tend_app::lifecycle::lock::read_pid(&home.pid_file())
        .map(|pid| format!(" (tend pid {pid})"))
        .unwrap_or_default();
    if !replace {
        return Err(CliError::error(format!(
            "app `{app}` already runs outside the service{pid}; a service started now would fail \
             on its lock and be started again and again.\n  Either stop it first (`tend down \
             {file_arg}`) and install again, or run `tend service install {file_arg} --replace`, \
             which stops it and hands it over to the service"
        )));
    }
    eprintln!("{app}: stopping the instance that runs outside the service{pid} (--replace)");
    let down = crate::commands::control::DownArgs { name: None };
    crate::commands::control::down(global, file, down).await?;
    Ok(())
}

/// The service of the app named `app` (enough to query, stop or remove it).
///
/// # Errors
/// The user's home folder is unknown.
pub fn spec_for_app(global: &Global, app: &str) -> Result<Spec, ServiceError> {
    Spec::for_app(app, &global.home, &AppHome::new(&global.home, app).dir)
}

/// The app's service, started from the tend.toml at `file`.
///
/// # Errors
/// A missing or invalid tend.toml, or an unknown home folder.
pub fn spec_for_config(global: &Global, file: &Path) -> Result<Spec, CliError> {
    if !file.exists() {
        return Err(CliError::error(format!(
            "{} does not exist; pass -f FILE (the tend.toml of the app to run as a service)",
            file.display()
        )));
    }
    let config =
        tend_app::config::Config::load(file).map_err(|e| CliError::error(e.to_string()))?;
    let spec = spec_for_app(global, &config.name).map_err(|e| CliError::error(e.to_string()))?;
    let config_path = std::path::absolute(file)
        .map_err(|e| CliError::error(format!("cannot resolve {}: {e}", file.display())))?;
    let tend = std::env::current_exe()
        .map_err(|e| CliError::error(format!("cannot find the tend binary: {e}")))?;
    Ok(spec.with_launch(tend, config_path))
}

/// `tend down`'s first step: if the app's service is installed and running, stop it, so that
/// its manager does not start the app again. `None` when there was nothing to stop; else what
/// was done (`Ok`) or why it failed (`Err`), as a sentence for the user. Never fatal: the
/// running instance is stopped next anyway.
pub fn stop_for_down(global: &Global, app: &str) -> Option<Result<String, String>> {
    let service = Service::new(spec_for_app(global, app).ok()?);
    let result = service.stop_if_running()?;
    let name = service.backend().name();
    Some(match result {
        Ok(()) => Ok(format!(
            "{app}: stopped its service {name} first (it starts again at the next login, or with \
`tend service start`)"
        )),
        Err(e) => Err(format!("{app}: could not stop its service {name}: {}", exit::chain(&e))),
    })
}

fn error(e: ServiceError) -> CliError {
    CliError::error(crate::exit::chain(&e))
}

fn require_installed(service: &Service, app: &str, install_arg: &str) -> Result<(), CliError> {
    if service.is_installed() {
        Ok(())
    } else {
        Err(CliError::error(format!(
            "{app}: no service installed; install it with `tend service install {install_arg}`"
        )))
    }
}

fn yes(answer: bool) -> &'static str {
    if answer { "yes" } else { "no" }
}

/// The state as aligned `key: value` lines.
pub fn summary(state: &State) -> String {
    let mut text = format!(
        "  installed:  {}\n  enabled:    {}\n  running:    {}\n",
        yes(state.installed),
        yes(state.enabled),
        yes(state.running)
    );
    if let Some(linger) = state.linger {
        let why = if linger { "" } else { " (it runs only while you are logged in)" };
        text.push_str(&format!("  linger:     {}{why}\n", yes(linger)));
    }
    text
}

async fn logs(service: &Service, lines: usize, follow: bool) -> Result<u8, CliError> {
    if let Logs::Journal { cmd, available } = service.logs(lines, follow) {
        if tend_service::exec::ask(&available) {
            tend_service::exec::run_inherited(&cmd.argv).map_err(error)?;
            return Ok(exit::SUCCESS);
        }
        eprintln!("tend: no system journal here; showing tend's log files instead");
    }
    let dir = service.backend().spec().logs();
    let mut files: Vec<PathBuf> =
        ["tend.log", "service.log", "service.err"].iter().map(|f| dir.join(f)).collect();
    files.extend(
        crate::commands::logs::logged_programs(&dir)
            .into_iter()
            .filter(|p| p != "service")
            .map(|p| dir.join(format!("{p}.log"))),
    );
    let mut out = Printer::stdout();
    let mut tail = tend_app::tail::Tail::new();
    let mut shown = 0;
    for path in files {
        if !path.exists() && !follow {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let existed = path.exists();
        let lines = tail
            .add(format!("{name} | "), path.clone(), lines)
            .map_err(|e| CliError::error(format!("reading {}: {e}", path.display())))?;
        if existed {
            shown += 1;
            out.write(&format!("==> {} <==\n", path.display()));
            for line in lines {
                if !out.line("", &crate::commands::logs::strip_controls(&line)) {
                    return Ok(exit::SUCCESS);
                }
            }
        }
    }
    if shown == 0 && !follow {
        out.write(&format!("no logs yet in {}\n", dir.display()));
    }
    if !out.flush() || !follow {
        return Ok(exit::SUCCESS);
    }
    loop {
        for (prefix, line) in tail.next().await {
            if !out.line(prefix, &crate::commands::logs::strip_controls(&line)) {
                return Ok(exit::SUCCESS);
            }
        }
        if !out.flush() {
            return Ok(exit::SUCCESS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let state = State {
            available: true,
            installed: true,
            enabled: true,
            running: false,
            linger: Some(false),
        };
        assert_eq!(
            summary(&state),
            "  installed:  yes\n  enabled:    yes\n  running:    no\n  \
linger:     no (it runs only while you are logged in)\n"
        );
        assert!(!summary(&State { linger: None, ..state }).contains("linger"));
    }
}
