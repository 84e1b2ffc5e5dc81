//! `tend env [PROGRAM]`: the environment a program would get, and where each variable comes
//! from.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use tend_api::AppHome;
use tend_fs::dotenv::DotenvCache;

use crate::exit::CliError;
use crate::global::Global;
use tend_app::config::{Config, Runner};
use tend_app::programs::env_layers::{self, Source, Var};
use tend_app::programs::launch::{AppContext, Start, program_environment};
use tend_runner::{NixEnvironment, NixMode, NixSpec};

/// Options of `tend env`.
#[derive(Debug, Clone, Copy)]
pub struct EnvOptions {
    /// Show secret values instead of `***`.
    pub show_secrets: bool,
    /// Print JSON instead of text.
    pub json: bool,
}

#[derive(serde::Serialize)]
struct JsonVar<'a> {
    key: &'a str,
    value: &'a str,
    source: &'a Source,
    secret: bool,
}

/// Prints the environment of `program` (or of every program) of the app in `file`. A
/// `runner = "auto"` program is shown as the runner chosen for it now; a nix program's dev shell
/// is prepared for that (from the cache, else evaluated once and cached).
///
/// # Errors
/// A bad config, an unknown program, an unreadable dotenv file, or a dev shell that cannot be
/// prepared (exit 1).
pub async fn show(
    global: &Global,
    file: &Path,
    program: Option<&str>,
    options: EnvOptions,
) -> Result<u8, CliError> {
    tend_app::logging::init(&global.level(), global.color, None);
    let mut config = Config::load(file).map_err(|e| CliError::error(e.to_string()))?;
    let probe = tend_app::programs::choice::Probe::take(&config).await;
    tend_app::programs::choice::resolve(&mut config, &probe);
    let programs: Vec<_> = match program {
        Some(name) => vec![config.program(name).ok_or_else(|| {
            let names: Vec<&str> = config.programs.iter().map(|p| p.name.as_str()).collect();
            CliError::error(format!(
                "no program `{name}` in {}; it has: {}",
                file.display(),
                names.join(", ")
            ))
        })?],
        None => config.programs.iter().collect(),
    };
    let home = AppHome::new(&global.home, &config.name);
    let context = AppContext {
        startup_kind: tend_app::lifecycle::startup::predict(&home).as_str().into(),
        home,
        tend_home: global.home.clone(),
        folder: config.folder.clone(),
        recovery: None,
        restart_context: None,
        dotenv: Arc::new(DotenvCache::new()),
        log_health: tend_app::program_log::LogHealth::default(),
        docker: config.docker.as_deref().cloned(),
    };
    let inherited = env_layers::inherited();
    let cache_dir = tend_app::programs::environments::nix_cache_dir(&global.home);
    let mut shells: Vec<NixEnvironment> = Vec::new();
    let mut notes = Vec::new();
    let mut listing = Vec::new();
    for program in &programs {
        // A docker program without a [docker] table has no environment to show.
        config
            .docker_for(program)
            .map_err(|e| CliError::error(format!("{}: {e}", file.display())))?;
        let mut note = Vec::new();
        if let Some(why) = &program.auto {
            note.push(format!("# runner = \"auto\" chose {why}"));
        }
        let mut shell = None;
        if program.runner == Runner::Nix {
            let dir = config.flake_dir(program);
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            let nix = match shells.iter().position(|n| n.flake_dir() == dir) {
                Some(i) => &shells[i],
                None => {
                    shells.push(NixEnvironment::new(NixSpec::new(&dir, &cache_dir)));
                    &shells[shells.len() - 1]
                }
            };
            let prepared = nix.prepare_shell().await.map_err(|e| {
                CliError::error(format!("{}: {}", program.name, tend_app::error::chain(&e)))
            })?;
            shell = nix.shell();
            note.push(match &prepared.mode {
                NixMode::Materialised => format!(
                    "# runs in the dev shell of {} (materialised): the shell's variables over \
                     tend's environment, the program's own over them",
                    dir.display()
                ),
                NixMode::Wrapped { reason } => format!(
                    "# runs wrapped, through `nix develop {}` at each start, because {reason}: \
                     the dev shell's variables are set by nix then (not shown)",
                    dir.display()
                ),
            });
        }
        notes.push(note);
        let start = Start { restart_count: 0, reason: "start", last_exit: None };
        let mut vars = program_environment(&context, program, &start, &inherited, shell.as_ref())
            .map_err(|e| CliError::error(env_layers::unreadable(&e)))?;
        let run_id = tend_runner::RUN_ID_VAR.to_string();
        vars.insert(
            run_id.clone(),
            Var {
                key: run_id,
                value: "(a new random token at each start)".into(),
                source: Source::Tend,
            },
        );
        listing.push((program.name.clone(), vars.into_values().collect::<Vec<Var>>()));
    }
    let shown = |var: &Var| -> String {
        if var.is_secret() && !options.show_secrets { "***".into() } else { var.value.clone() }
    };
    let mut out = std::io::stdout().lock();
    let result = if options.json {
        let map: serde_json::Map<String, serde_json::Value> = listing
            .iter()
            .map(|(name, vars)| {
                let values: Vec<String> = vars.iter().map(shown).collect();
                let list: Vec<JsonVar<'_>> = vars
                    .iter()
                    .zip(&values)
                    .map(|(v, value)| JsonVar {
                        key: &v.key,
                        value,
                        source: &v.source,
                        secret: v.is_secret(),
                    })
                    .collect();
                (name.clone(), serde_json::to_value(list).unwrap_or_default())
            })
            .collect();
        writeln!(out, "{}", serde_json::json!({ "app": config.name, "programs": map }))
    } else {
        let many = listing.len() > 1;
        listing.iter().zip(&programs).zip(&notes).try_for_each(|(((name, vars), program), note)| {
            if many {
                writeln!(out, "# {name}")?;
            }
            for line in note {
                writeln!(out, "{line}")?;
            }
            if program.runner == Runner::Docker {
                writeln!(
                    out,
                    "# runs in Docker: over the image's own variables (not shown); tend's own \
                     environment is not passed in"
                )?;
            }
            let width =
                vars.iter().map(|v| v.key.len() + shown(v).len()).max().unwrap_or(0).min(48) + 1;
            for var in vars {
                let pair = format!("{}={}", var.key, shown(var).escape_debug());
                writeln!(out, "{pair:<width$}  # {}", var.source)?;
            }
            if many { writeln!(out) } else { Ok(()) }
        })
    };
    match result {
        Ok(()) => Ok(crate::exit::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(crate::exit::SUCCESS),
        Err(e) => Err(CliError::error(format!("writing to stdout: {e}"))),
    }
}
