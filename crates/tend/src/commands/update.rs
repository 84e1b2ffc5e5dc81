//! `tend update [--check] [--yes]`: the check, the upgrade by install mode, the restart of
//! every running app of this `TEND_HOME` on the new binary, and the health gate that rolls an
//! unhealthy upgrade back to `tend.previous`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tend_api::{AppHome, Status, address, client};
use tend_update::{BuildInfo, Checker, InstallMode, UpgradeSentinel, release};

use crate::cli::UpdateArgs;
use crate::exit::{self, CliError};
use crate::global::Global;

/// How long an upgraded app has to answer with every program started (a test hook:
/// `TEND_UPDATE_HEALTH_TIMEOUT`).
const HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `tend update`.
///
/// # Errors
/// A failed check, an install mode that cannot be upgraded, a failed download or install, or
/// an upgrade that was rolled back (exit 1).
pub async fn run(global: &Global, file: &Path, args: UpdateArgs) -> Result<u8, CliError> {
    // `[update]` of the app's tend.toml where there is one; defaults otherwise.
    let config = tend_app::config::Config::load(file).map(|c| c.update).unwrap_or_default();
    let mut checker = Checker::new(config.index_url(), config.channel, &global.home);
    checker.timeout = Duration::from_secs(10);
    let check = {
        let checker = checker.clone();
        tokio::task::spawn_blocking(move || checker.check(true))
            .await
            .map_err(|e| CliError::error(e.to_string()))?
            .map_err(|e| CliError::error(format!("cannot check for updates: {e}")))?
    };
    let current = check.current.clone();
    let Some(newer) = check.newer().cloned() else {
        println!("tend {current} is the newest ({} channel)", config.channel.as_str());
        return Ok(exit::SUCCESS);
    };
    let mode = InstallMode::detect_current();
    if args.check {
        println!("tend {newer} is available (this is {current}); `tend update` installs it");
        println!("installed: {}", crate::commands::version::describe(&mode));
        return Ok(exit::SUCCESS);
    }
    let exe = std::env::current_exe().map_err(|e| CliError::error(e.to_string()))?;
    match &mode {
        InstallMode::Dev => {
            return Err(CliError::error(format!(
                "tend {newer} is available, but this tend runs from a build tree ({}); update it \
                 with git and cargo build",
                exe.display()
            )));
        }
        InstallMode::Package { manager, command } => {
            return Err(CliError::error(format!(
                "tend {newer} is available; {} belongs to {manager}: upgrade it with `{command}`",
                exe.display()
            )));
        }
        InstallMode::Cargo | InstallMode::Binary => {}
    }
    if !args.yes && !confirm(&current, &newer)? {
        println!("nothing changed");
        return Ok(exit::SUCCESS);
    }
    let apps = running_apps(&global.home).await;
    install(&mode, &config.releases_url(), &newer, &exe).await?;
    println!("installed tend {newer} at {}", exe.display());
    let (old, new) = (current.to_string(), newer.to_string());
    let health = std::env::var("TEND_UPDATE_HEALTH_TIMEOUT")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .unwrap_or(HEALTH_TIMEOUT);
    let mut failed = Vec::new();
    for app in &apps {
        if let Err(why) = restart_on(app, &old, &new, health).await {
            failed.push((app, why));
        }
    }
    if failed.is_empty() {
        return Ok(exit::SUCCESS);
    }
    // The new version did not come up healthy: the old binary goes back, and so do the apps.
    let reasons: Vec<String> =
        failed.iter().map(|(a, why)| format!("{}: {why}", a.home.app)).collect();
    let why = reasons.join("; ");
    if mode == InstallMode::Binary {
        release::roll_back(&exe).map_err(|e| {
            CliError::error(format!("{why}; and putting tend.previous back failed: {e}"))
        })?;
    }
    for (app, _) in &failed {
        roll_back_app(app, &exe, &old, &new, &why, health).await;
    }
    Err(CliError::error(format!(
        "tend {new} did not come up healthy ({why}); rolled back to {old}"
    )))
}

fn confirm(current: &semver::Version, newer: &semver::Version) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::error(format!(
            "tend {newer} is available (this is {current}); pass --yes to upgrade without asking"
        )));
    }
    eprint!("upgrade tend {current} to {newer}? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| CliError::error(e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

async fn install(
    mode: &InstallMode,
    releases: &str,
    version: &semver::Version,
    exe: &Path,
) -> Result<(), CliError> {
    if *mode == InstallMode::Cargo {
        // Its output streams to the terminal as it comes.
        let mut command = tokio::process::Command::from(release::cargo_install(version));
        let status = command
            .status()
            .await
            .map_err(|e| CliError::error(format!("cannot run cargo: {e}; is it on PATH?")))?;
        if !status.success() {
            return Err(CliError::error(format!(
                "cargo install failed ({status}); nothing changed"
            )));
        }
        return Ok(());
    }
    let (base, wanted, target, exe) =
        (releases.to_owned(), version.clone(), BuildInfo::current().target, exe.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let verified = release::download(&base, &wanted, &target, &exe, Duration::from_secs(120))?;
        release::swap(&exe, &verified.path)
    })
    .await
    .map_err(|e| CliError::error(e.to_string()))?
    .map(|_| ())
    .map_err(|e| CliError::error(format!("cannot install tend {version}: {e}")))
}

/// A running app, as it was before the upgrade.
struct Running {
    home: AppHome,
    /// Its tend.toml, to start it again when its tend is gone.
    config: Option<PathBuf>,
}

async fn running_apps(tend_home: &Path) -> Vec<Running> {
    let mut running = Vec::new();
    for home in tend_app::home::apps(tend_home) {
        if status(&home).await.is_some() {
            let config = tend_app::lifecycle::state::load(&home.state_file())
                .ok()
                .and_then(|loaded| loaded.state)
                .and_then(|state| state.config);
            running.push(Running { home, config });
        }
    }
    running
}

async fn status(home: &AppHome) -> Option<Status> {
    let socket = address::connect_path(home);
    let response =
        client::request(&socket, "GET", "/v1/status", Duration::from_secs(2)).await.ok()?;
    serde_json::from_slice(&response.body).ok().filter(|_| response.is_success())
}

async fn ask_restart(home: &AppHome, reason: &str, old: &str, new: &str) -> Result<(), String> {
    let body = serde_json::json!({
        "reason": reason,
        "context": { "reason": tend_update::UPGRADE_REASON, "old_version": old, "new_version": new },
    });
    let socket = address::connect_path(home);
    match client::request_json(
        &socket,
        "POST",
        "/v1/app/restart",
        Some(&body),
        Duration::from_secs(10),
    )
    .await
    {
        Ok(response) if response.is_success() => Ok(()),
        Ok(response) => Err(response.error_message()),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// Restarts `app` on the new binary and waits until it answers on `new` with every program
/// started.
async fn restart_on(app: &Running, old: &str, new: &str, bound: Duration) -> Result<(), String> {
    let sentinel = UpgradeSentinel::new(old, new);
    tend_fs::write_json(&app.home.upgrade_sentinel(), &sentinel).map_err(|e| e.to_string())?;
    ask_restart(&app.home, tend_update::UPGRADE_REASON, old, new).await?;
    println!("{}: restarting on tend {new}", app.home.app);
    wait_healthy(&app.home, new, bound).await?;
    println!("{}: runs tend {new}", app.home.app);
    Ok(())
}

/// Waits (bounded) until the app answers, runs `version` and no program is still starting.
async fn wait_healthy(home: &AppHome, version: &str, bound: Duration) -> Result<(), String> {
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = status(home).await {
            let on = status.update.as_ref().is_some_and(|u| u.version == version);
            let started = status.programs.iter().all(|p| p.state != "starting");
            if on && started {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "not healthy on tend {version} within {}",
                humantime::format_duration(bound)
            ));
        }
        // Another process's state: nothing to await but its answers.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Brings `app` back on the old binary: a restart where it still answers, else a new start of
/// its tend.toml; the notice (log, status) says it was rolled back.
async fn roll_back_app(
    app: &Running,
    exe: &Path,
    old: &str,
    new: &str,
    why: &str,
    bound: Duration,
) {
    let mut sentinel = UpgradeSentinel::new(old, new);
    sentinel.rolled_back = Some(why.to_owned());
    if let Err(e) = tend_fs::write_json(&app.home.upgrade_sentinel(), &sentinel) {
        eprintln!("tend: warning: {}: cannot record the rollback: {e}", app.home.app);
    }
    let name = &app.home.app;
    if status(&app.home).await.is_some() {
        if let Err(e) = ask_restart(&app.home, "upgrade rolled back", new, old).await {
            eprintln!("tend: warning: {name}: cannot restart it on tend {old}: {e}");
        }
    } else if let Some(config) = &app.config {
        let home = app.home.dir.parent().and_then(Path::parent).unwrap_or(&app.home.dir);
        let started = tokio::process::Command::new(exe)
            .arg("--home")
            .arg(home)
            .args(["up", "-d", "-f"])
            .arg(config)
            .stdin(std::process::Stdio::null())
            .status()
            .await;
        if !started.is_ok_and(|s| s.success()) {
            eprintln!(
                "tend: warning: {name}: cannot start it again; run `tend up -d -f {}`",
                config.display()
            );
        }
    } else {
        eprintln!("tend: warning: {name}: its tend is gone; start it again with `tend run …`");
    }
    match wait_healthy(&app.home, old, bound).await {
        Ok(()) => eprintln!("tend: {name}: back on tend {old}"),
        Err(e) => eprintln!("tend: warning: {name}: {e}"),
    }
}
