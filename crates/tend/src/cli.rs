//! The command line: what `tend` accepts, and the dispatch to each command.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::CliError;

/// Keeps long-lived programs running: restarts them when they crash, stops them without
/// leaking a process, and keeps their logs.
#[derive(Debug, Parser)]
#[command(name = "tend", version, propagate_version = true)]
#[command(after_help = "Examples:
  tend run -- python3 -m http.server 8000     keep one command alive
  tend up                                     run every program of ./tend.toml
  tend up -f examples/demo/tend.toml          ... of another app
  tend up -d                                  ... in the background; then:
  tend status / tend logs -F / tend down      see it, follow its output, stop it
  tend restart --app                          restart the whole app (programs see why)
  tend service install                        start it at login and keep it up
  tend reap                                   end processes a crashed tend left behind

State lives in $TEND_HOME (default ~/.tend): apps/<app>/logs/ holds each program's output.")]
pub struct Cli {
    /// Where tend keeps its state [env: TEND_HOME] [default: ~/.tend]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// The app's configuration file
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        value_name = "FILE",
        default_value = "tend.toml"
    )]
    pub file: PathBuf,

    /// When to use colours (NO_COLOR turns them off under `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Say more (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Say less: only warnings and errors from tend, no program output on the terminal (the
    /// log files still get it)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// tend's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every program of an app (tend.toml) in the foreground until they are done or tend
    /// is stopped (Ctrl-C, SIGTERM)
    #[command(
        after_help = "Exit code: 0 when every program ended by its policy or tend was stopped; \
1 when a program became fatal (crashed more than max_restarts allows).
Processes a crashed earlier run of the same app left behind are ended first.
One instance per app: a second `tend up` of a running app fails, unless --replace.
With -d: exit 0 once the app answers; 1 with the background tend's error and log paths.
TEND_STARTUP_KIND tells programs why they start: first_start, system_reboot, crash_recovery, \
restart, service_restart or start."
    )]
    Up(UpArgs),

    /// Keep one command running in the foreground, without a tend.toml
    #[command(after_help = "Examples:
  tend run -- ./bot --token-file secrets.txt
  tend run --name web --restart always -- python3 -m http.server 8000
  tend run --restart never -- make test        exits with make's exit code

Exit code: the program's own exit code once it ends for good (128+N if killed by signal N); \
0 after a graceful stop (Ctrl-C, SIGTERM); 1 if it cannot be started.")]
    Run(RunArgs),

    /// Show the environment a program would get, one variable per line with its source
    #[command(
        after_help = "Precedence, highest first: tend's own variables, the config's env, tend's own \
environment, the program's env_files, <app folder>/.env, $TEND_HOME/.env. Values from dotenv \
files are secrets: shown as *** unless --show-secrets."
    )]
    Env {
        /// The program (default: every program of the app)
        program: Option<String>,
        /// Show secret values
        #[arg(long)]
        show_secrets: bool,
        /// Print JSON: {"app", "programs": {NAME: [{key, value, source: {kind, file?}, secret}]}}
        #[arg(long)]
        json: bool,
    },

    /// End processes that a crashed tend left behind (all apps, or one)
    #[command(
        after_help = "A process is ended only if its run record still matches it (same pid start time \
and boot) or it carries the record's TEND_RUN_ID token: a recycled pid is never signalled. \
Records of a tend that is still running are left alone."
    )]
    Reap {
        /// Only the app of this name
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },

    /// Show the running app's programs: state, pid, uptime, restarts, last exit, CPU, memory
    #[command(after_help = "Exit code: 3 when the app is not running.")]
    Status(crate::commands::control::StatusArgs),

    /// Restart one program of the running app, all of them (TEND_RESTART_REASON=requested), or
    /// the whole app with tend itself (--app)
    #[command(after_help = "Examples:
  tend restart web                             restart one program
  tend restart --app --reason \"new model\"      stop everything, start tend again
  echo '{\"reason\": \"x\"}' > $TEND_STATE_DIR/restart-requested.tmp && \\
    mv $TEND_STATE_DIR/restart-requested.tmp $TEND_STATE_DIR/restart-requested
                                               the same from a program, without the CLI

Exit code: 3 when the app is not running; 1 for an unknown program.")]
    Restart(crate::commands::control::RestartArgs),

    /// Stop the running app gracefully and wait (up to 60s) until it has exited
    #[command(after_help = "Exit code: 0 once it has stopped; 3 when it is not running.")]
    Down(crate::commands::control::DownArgs),

    /// Print the end of programs' logs (read from the log files, running or not)
    #[command(after_help = "Examples:
  tend logs                  the last 10 lines of every program, prefixed `name | `
  tend logs web -n 100       the last 100 lines of web
  tend logs web -F           ... and follow it (-f is --file)")]
    Logs(crate::commands::logs::LogsArgs),

    /// Run the app as a service of your user: started at login (or boot), restarted when it
    /// fails (systemd on Linux, launchd on macOS, Task Scheduler on Windows)
    #[command(after_help = "Examples:
  tend service install -f ~/bot/tend.toml      install and start it (again: update in place)
  tend service status -f ~/bot/tend.toml       installed? enabled? running? linger?
  tend service logs -f ~/bot/tend.toml -F      follow its logs
  tend service show -f ~/bot/tend.toml         print the unit/plist/task XML install writes
  tend service uninstall -f ~/bot/tend.toml    stop and remove it

`tend down` stops the service first, so that it is not started again at once.
See docs/service.md for what is installed where, and how to debug it.")]
    Service(crate::commands::service::ServiceArgs),

    /// Report work in progress and its end, so that work a crash interrupts is handed over at
    /// the next start (TEND_RECOVERY)
    #[command(after_help = "Examples (from a program under tend, which needs no -f):
  tend inflight begin job-17 --label \"resize photo 17\"
  tend inflight done job-17
  tend inflight list

After a crash, reboot or restart, programs get TEND_RECOVERY: the path of a JSON file with the \
startup kind and the items that were still in flight (younger than [inflight] max_age, default 1h).
Exit code: 3 when the app is not running.")]
    Inflight(crate::commands::inflight::InflightArgs),
}

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

impl RunArgs {
    /// The one-program app these options describe, run from the current folder.
    ///
    /// # Errors
    /// No current folder, a name that cannot be told or is invalid, an unknown policy.
    pub fn config(&self) -> Result<crate::config::Config, CliError> {
        use crate::config::{Config, ProgramConfig, RestartPolicy};
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::error(format!("cannot read the current directory: {e}")))?;
        let name = match &self.name {
            Some(name) => name.clone(),
            None => crate::config::run_name(&self.command).map_err(CliError::error)?,
        };
        let mut program = ProgramConfig::new(name.clone(), self.command.clone(), cwd);
        program.restart = self.restart.parse::<RestartPolicy>().map_err(|_| {
            CliError::error(format!(
                "--restart: unknown policy `{}`; expected always, on-failure or never",
                self.restart
            ))
        })?;
        program.restart_exit_code = Some(self.restart_exit_code);
        program.backoff.initial = self.backoff_initial;
        program.backoff.max = self.backoff_max.max(self.backoff_initial);
        program.stop.grace = self.stop_timeout;
        Config::single(name, program).map_err(|e| CliError::error(e.to_string()))
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a number and a unit, like 500ms, 10s or 2m"))
}

/// Runs the parsed command; returns tend's exit code.
///
/// # Errors
/// A [`CliError`] with the message to print and the exit code to use.
pub async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    let home = crate::home::resolve(cli.home.as_deref()).map_err(CliError::error)?;
    let global = crate::global::Global {
        home,
        color: cli.color.enabled(),
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Up(args) if args.detach && !crate::detach::is_detached_child() => {
            crate::detach::up(&global, &cli.file).await
        }
        Command::Up(args) => {
            crate::app::up(&global, &cli.file, args.replace, args.watch_config).await
        }
        Command::Run(args) => {
            let config = args.config()?;
            crate::app::run(&global, config, args.replace).await
        }
        Command::Env { program, show_secrets, json } => crate::commands::env::show(
            &global,
            &cli.file,
            program.as_deref(),
            crate::commands::env::EnvOptions { show_secrets, json },
        ),
        Command::Reap { name } => crate::reap::reap(&global, name.as_deref()).await,
        Command::Status(args) => crate::commands::control::status(&global, &cli.file, args).await,
        Command::Restart(args) => crate::commands::control::restart(&global, &cli.file, args).await,
        Command::Down(args) => crate::commands::control::down(&global, &cli.file, args).await,
        Command::Logs(args) => crate::commands::logs::logs(&global, &cli.file, args).await,
        Command::Service(args) => crate::commands::service::run(&global, &cli.file, args).await,
        Command::Inflight(args) => crate::commands::inflight::run(&global, &cli.file, args).await,
    }
}
