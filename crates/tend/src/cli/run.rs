//! The options of the commands that run an app: `tend up`, `tend run`.

use std::time::Duration;

use clap::Args;

/// Options of `tend up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Run in the background: return once the app answers (`tend status`), or fail with its
    /// error and where its logs are
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Take over from a running instance of the app: stop it (SIGTERM, SIGKILL after 10s),
    /// then start
    #[arg(long)]
    pub replace: bool,

    /// Reload tend.toml when it changes: start added programs, stop removed ones, restart
    /// changed ones (the others keep running); an invalid edit is logged and ignored
    #[arg(long)]
    pub watch_config: bool,
}

/// Options of `tend run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Take over from a running instance of the app: stop it (SIGTERM, SIGKILL after 10s),
    /// then start
    #[arg(long)]
    pub replace: bool,

    /// The program's name (default: the command's base name, or for an interpreter such as
    /// python3 or node its script's name); also the app's name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// When to restart: always, on-failure or never
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "on-failure",
        value_parser = ["always", "on-failure", "never"]
    )]
    pub restart: String,

    /// The exit code that means "restart me now" (no backoff, not a crash)
    #[arg(long, value_name = "CODE", default_value_t = 42)]
    pub restart_exit_code: i32,

    /// The first backoff delay after a crash
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1s")]
    pub backoff_initial: Duration,

    /// The longest backoff delay
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1m")]
    pub backoff_max: Duration,

    /// How long a stopped program may take to exit before it is killed
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub stop_timeout: Duration,

    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a number and a unit, like 500ms, 10s or 2m"))
}
