//! The environment a program gets, layer by layer, and where each variable comes from.
//!
//! Precedence, highest first (design.md): tend's own variables, the config's `env`, the
//! variables already in tend's environment, the program's `env_files` (a later file wins), the
//! app folder's `.env`, `$TEND_HOME/.env`. A value from a dotenv file is a secret: it never
//! appears on a command line or in tend's logs, and is shown masked unless asked for.
//!
//! A `runner = "docker"` program gets, highest first: tend's own variables (their paths as the
//! container sees them), the program's `env`, the `[docker]` table's `env`, then the same
//! dotenv files, all above the image's own variables. tend's own environment is not passed
//! into the container: its `PATH`, `HOME` and the like are the host's, and wrong there.
//!
//! A `runner = "nix"` program (materialised) gets the dev shell's variables over tend's own
//! environment and under everything else tend sets, and its PATH is the shell's, then the one
//! it would have natively ([`tend_runner::ShellEnv::apply`], which the runner applies at each
//! spawn).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tend_fs::dotenv::DotenvCache;

use crate::config::ProgramConfig;

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "file", rename_all = "snake_case")]
pub enum Source {
    /// Set by tend itself (`TEND_*`).
    Tend,
    /// The program's `env` in tend.toml.
    Config,
    /// The `env` of tend.toml's `[docker]` table (docker programs only).
    Docker,
    /// Inherited from tend's own environment.
    Environment,
    /// A dotenv file.
    File(PathBuf),
    /// The dev shell of a nix program's flake (materialised), or for `PATH` the shell's PATH
    /// put before the program's.
    NixShell,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Tend => f.write_str("tend"),
            Source::Config => f.write_str("config"),
            Source::Docker => f.write_str("config [docker]"),
            Source::Environment => f.write_str("environment"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::NixShell => f.write_str("nix dev shell"),
        }
    }
}

/// One variable as the program will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// The name.
    pub key: String,
    /// The value.
    pub value: String,
    /// Where it comes from.
    pub source: Source,
}

impl Var {
    /// Whether the value is a secret (it comes from a dotenv file).
    pub fn is_secret(&self) -> bool {
        matches!(self.source, Source::File(_))
    }
}

/// The dotenv files of a program, lowest precedence first: `$TEND_HOME/.env`, the app
/// folder's `.env`, then its `env_files` in order.
pub fn dotenv_files(tend_home: &Path, app_folder: &Path, program: &ProgramConfig) -> Vec<PathBuf> {
    let mut files = vec![tend_home.join(".env"), app_folder.join(".env")];
    files.extend(program.env_files.iter().cloned());
    files.dedup();
    files
}

/// The variables from `files` (lowest precedence first), each with the file it came from.
///
/// # Errors
/// When a file exists but cannot be read.
pub fn from_files(
    cache: &DotenvCache,
    files: &[PathBuf],
) -> Result<BTreeMap<String, Var>, tend_fs::FsError> {
    let mut vars = BTreeMap::new();
    for file in files {
        let parsed = cache.get(file)?;
        for (key, value) in parsed.iter() {
            let source = Source::File(file.clone());
            vars.insert(
                key.to_string(),
                Var { key: key.to_string(), value: value.to_string(), source },
            );
        }
    }
    Ok(vars)
}

/// What a user should read when a dotenv file cannot be read: the file, why, and what to do.
pub fn unreadable(error: &tend_fs::FsError) -> String {
    let tend_fs::FsError::Io { path, source, .. } = error else {
        return crate::error::chain(error);
    };
    let shown = path.display();
    if path.is_dir() {
        return format!(
            "{shown} is a folder, not a dotenv file: remove or rename it (dotenv files hold \
             KEY=value lines)"
        );
    }
    if source.kind() == std::io::ErrorKind::PermissionDenied {
        let user = std::env::var("USER")
            .map(|u| format!("user `{u}`"))
            .unwrap_or_else(|_| "the user".to_owned());
        return format!(
            "{shown} cannot be read by {user}, whom tend runs as: make it that user's and \
             private (`chown $USER {shown} && chmod 600 {shown}`)"
        );
    }
    crate::error::chain(error)
}

/// Combines the layers by precedence. `inherited` is tend's own environment, `files` the
/// dotenv variables ([`from_files`]), `config` the program's `env`, `tend` tend's variables.
/// Pure.
pub fn combine(
    tend: &[(String, String)],
    config: &BTreeMap<String, String>,
    inherited: &BTreeMap<String, String>,
    files: BTreeMap<String, Var>,
) -> BTreeMap<String, Var> {
    layered(files, &[(inherited, Source::Environment), (config, Source::Config)], tend)
}

/// `files` ([`from_files`]), then each of `layers` in turn (a later one wins), then `tend`
/// (tend's variables) over all. Pure.
pub fn layered(
    files: BTreeMap<String, Var>,
    layers: &[(&BTreeMap<String, String>, Source)],
    tend: &[(String, String)],
) -> BTreeMap<String, Var> {
    let mut all = files;
    let tend_layer: BTreeMap<String, String> = tend.iter().cloned().collect();
    let layers =
        layers.iter().map(|(vars, source)| (*vars, source)).chain([(&tend_layer, &Source::Tend)]);
    for (vars, source) in layers {
        for (key, value) in vars {
            all.insert(
                key.clone(),
                Var { key: key.clone(), value: value.clone(), source: source.clone() },
            );
        }
    }
    all
}

/// tend's own environment, as text (variables that are not valid UTF-8 are left out).
pub fn inherited() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Replaces every secret value inside `text` with `***`. Values shorter than 4 characters are
/// left alone (masking them would garble ordinary words).
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut masked = text.to_string();
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| s.chars().count() >= 4).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        masked = masked.replace(secret.as_str(), "***");
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn file_vars(pairs: &[(&str, &str)]) -> BTreeMap<String, Var> {
        pairs
            .iter()
            .map(|(k, v)| {
                let var = Var {
                    key: k.to_string(),
                    value: v.to_string(),
                    source: Source::File(".env".into()),
                };
                (k.to_string(), var)
            })
            .collect()
    }

    #[test]
    fn precedence_tend_config_environment_files() {
        let files = file_vars(&[("A", "file"), ("B", "file"), ("C", "file"), ("D", "file")]);
        let inherited = map(&[("B", "env"), ("C", "env"), ("D", "env")]);
        let config = map(&[("C", "config"), ("D", "config")]);
        let tend = vec![("D".to_string(), "tend".to_string())];
        let all = combine(&tend, &config, &inherited, files);
        let got: Vec<(&str, &str)> =
            all.values().map(|v| (v.key.as_str(), v.value.as_str())).collect();
        assert_eq!(got, vec![("A", "file"), ("B", "env"), ("C", "config"), ("D", "tend")]);
        assert!(all["A"].is_secret());
        assert!(!all["B"].is_secret());
    }

    #[test]
    fn docker_layers_program_env_over_docker_env_over_files() {
        let files = file_vars(&[("A", "file"), ("B", "file"), ("C", "file"), ("D", "file")]);
        let docker = map(&[("B", "docker"), ("C", "docker"), ("D", "docker")]);
        let config = map(&[("C", "config"), ("D", "config")]);
        let tend = vec![("D".to_string(), "tend".to_string())];
        let all = layered(files, &[(&docker, Source::Docker), (&config, Source::Config)], &tend);
        let got: Vec<(&str, &str, String)> = all
            .values()
            .map(|v| (v.key.as_str(), v.value.as_str(), v.source.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A", "file", ".env".to_owned()),
                ("B", "docker", "config [docker]".to_owned()),
                ("C", "config", "config".to_owned()),
                ("D", "tend", "tend".to_owned()),
            ]
        );
        assert!(!all["B"].is_secret());
    }

    #[test]
    fn masks_secrets_longest_first() {
        let secrets = vec!["hunter2".to_string(), "hunter2-long".to_string(), "ab".to_string()];
        assert_eq!(mask("pw=hunter2-long and hunter2, ab", &secrets), "pw=*** and ***, ab");
    }
}
