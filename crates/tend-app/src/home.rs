//! Where tend keeps its state: `TEND_HOME`, and the apps that have a folder in it (each one a
//! [`tend_api::AppHome`]).

use std::path::{Path, PathBuf};

use tend_api::AppHome;

/// The tend home: `--home`, else `TEND_HOME`, else `~/.tend`.
///
/// # Errors
/// When none is given and the home directory is unknown.
pub fn resolve(flag: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = flag {
        return absolute(dir);
    }
    match std::env::var_os("TEND_HOME") {
        Some(dir) if !dir.is_empty() => absolute(Path::new(&dir)),
        _ => std::env::home_dir().map(|h| h.join(".tend")).ok_or_else(|| {
            "cannot find your home directory; set TEND_HOME or pass --home DIR".into()
        }),
    }
}

fn absolute(dir: &Path) -> Result<PathBuf, String> {
    std::path::absolute(dir).map_err(|e| format!("cannot use {} as tend home: {e}", dir.display()))
}

/// Every app that has a folder under `home`.
pub fn apps(home: &Path) -> Vec<AppHome> {
    let Ok(entries) = std::fs::read_dir(home.join("apps")) else { return Vec::new() };
    let mut apps: Vec<AppHome> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(|name| AppHome::new(home, name)))
        .collect();
    apps.sort_by(|a, b| a.app.cmp(&b.app));
    apps
}

/// The app of a `tend.toml` that has errors: the app whose `state.json` records this file,
/// else the partial read of its name, if an app of that name exists.
pub fn broken_file_app(tend_home: &Path, file: &Path) -> Option<String> {
    let wanted = std::path::absolute(file).ok()?;
    let apps = apps(tend_home);
    let recorded = apps.iter().find(|app| {
        crate::lifecycle::state::load(&app.state_file())
            .ok()
            .and_then(|loaded| loaded.state)
            .and_then(|state| state.config)
            .is_some_and(|config| config == wanted)
    });
    if let Some(app) = recorded {
        return Some(app.app.clone());
    }
    let text = std::fs::read_to_string(file).ok()?;
    let name = crate::config::Config::partial_name(&text, file)?;
    apps.iter().any(|app| app.app == name).then_some(name)
}
