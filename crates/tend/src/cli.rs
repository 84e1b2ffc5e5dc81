//! The command line: what `tend` accepts, and the dispatch to each command.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
files are secrets: shown as *** unless --show-secrets.
A runner = \"docker\" program gets, highest first: tend's own variables (paths as the container \
sees them: TEND_STATE_DIR=/tend/state), the program's env, the [docker] env, the dotenv files; \
all over the image's own variables (not shown). tend's own environment is not passed in.
A runner = \"nix\" program gets its flake's dev shell over tend's own environment, under the \
rest, and the shell's PATH before its own: to show it, its shell is prepared (from the cache \
under $TEND_HOME/cache/nix, else evaluated once). A runner = \"auto\" program is shown as the \
runner chosen for it, with why."
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
    Status(StatusArgs),

    /// Restart one program of the running app, all of them (TEND_RESTART_REASON=requested), or
    /// the whole app with tend itself (--app)
    #[command(after_help = "Examples:
  tend restart web                             restart one program
  tend restart --app --reason \"new model\"      stop everything, start tend again
  echo '{\"reason\": \"x\"}' > $TEND_STATE_DIR/restart-requested.tmp && \\
    mv $TEND_STATE_DIR/restart-requested.tmp $TEND_STATE_DIR/restart-requested
                                               the same from a program, without the CLI

Exit code: 3 when the app is not running; 1 for an unknown program.")]
    Restart(RestartArgs),

    /// Stop the running app gracefully and wait (up to 60s) until it has exited
    #[command(after_help = "Exit code: 0 once it has stopped; 3 when it is not running.")]
    Down(DownArgs),

    /// Print the end of programs' logs (read from the log files, running or not)
    #[command(after_help = "Examples:
  tend logs                  the last 10 lines of every program, prefixed `name | `
  tend logs web -n 100       the last 100 lines of web
  tend logs web -F           ... and follow it (-f is --file)")]
    Logs(LogsArgs),

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
    Service(ServiceArgs),

    /// Report work in progress and its end, so that work a crash interrupts is handed over at
    /// the next start (TEND_RECOVERY)
    #[command(after_help = "Examples (from a program under tend, which needs no -f):
  tend inflight begin job-17 --label \"resize photo 17\"
  tend inflight done job-17
  tend inflight list

After a crash, reboot or restart, programs get TEND_RECOVERY: the path of a JSON file with the \
startup kind and the items that were still in flight (younger than [inflight] max_age, default 1h).
Exit code: 3 when the app is not running.")]
    Inflight(InflightArgs),

    /// Build what the app needs ahead of time: its Docker image, its programs' Nix dev shells
    #[command(after_help = "Examples:
  tend prepare                                 build the image if missing, evaluate dev shells not cached
  tend prepare --refresh                       rebuild the image and evaluate every dev shell again
  tend prepare -f bot/tend.toml

What it prepares: the image of [docker] build (when a program runs in Docker), with a progress \
bar over the build's steps and the build's output above it; the dev shell of the flake of each \
runner = \"nix\" program (runner = \"auto\" ones as chosen now), cached under \
$TEND_HOME/cache/nix for every later start. `tend up` does the same on first use; preparing \
first makes that start fast. Without a terminal it prints plain lines instead of bars.
Exit code: 0 when everything is ready; 1 with the error (a failed build shows its failing step \
and last lines; a failed evaluation nix's last lines).")]
    Prepare(PrepareArgs),

    /// The app's Docker container, as the `[docker]` table of tend.toml describes it
    #[command(after_help = "Examples:
  tend docker dockerfile                       the Dockerfile of [docker] build, on stdout
  tend docker dockerfile -f bot/tend.toml > Dockerfile

Every runner = \"docker\" program of an app runs in its one container, with the app's folder \
mounted at /app and its state folder ($TEND_HOME/apps/<app>) at /tend/state.
`tend prepare` builds the image of [docker] build ahead of time.")]
    Docker(DockerArgs),

    /// Show tend's version, commit, build date, target and install mode
    #[command(
        after_help = "Install modes: cargo (cargo install tend-cli), binary (a file tend can \
replace), package (a package manager owns it: use its command), dev (a build tree: no upgrades)."
    )]
    Version(VersionArgs),

    /// Look for a newer tend and install it; running apps of this TEND_HOME restart on it
    #[command(after_help = "Examples:
  tend update --check        only say whether a newer version exists
  tend update --yes          upgrade without asking

cargo installs run `cargo install --locked tend-cli@VERSION`; binary installs download the release \
([update] releases, TEND_UPDATE_RELEASES), verify its SHA-256, and swap it in keeping tend.previous. \
Each running app then restarts through the restart protocol (TEND_RESTART_REASON=requested, \
context reason \"upgrade\"); one that does not come up healthy is rolled back to tend.previous.
Exit code: 1 when the check fails, the install mode cannot be upgraded, or a rollback happened.")]
    Update(UpdateArgs),
}

/// Options of `tend version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON: {"version", "commit", "build_date", "target", "install_mode", ...}
    #[arg(long)]
    pub json: bool,
}

/// Options of `tend update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Only report whether a newer version exists
    #[arg(long)]
    pub check: bool,
    /// Upgrade without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
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

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; expected a number and a unit, like 500ms, 10s or 2m"))
}

/// Options of `tend status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print the control API's JSON (`GET /v1/status`, see docs/control-api.md)
    #[arg(long)]
    pub json: bool,

    /// The app by name (an app of `tend run` has no tend.toml), instead of -f FILE
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Options of `tend restart`.
#[derive(Debug, clap::Args)]
pub struct RestartArgs {
    /// The program to restart (default: every program)
    #[arg(conflicts_with = "app")]
    pub program: Option<String>,

    /// Restart the whole app: every program is stopped, then tend itself starts again (in place,
    /// or by its service manager) and programs see TEND_STARTUP_KIND=restart
    #[arg(long)]
    pub app: bool,

    /// With --app: why, recorded in restart-sentinel.json and the log
    #[arg(long, value_name = "TEXT", requires = "app")]
    pub reason: Option<String>,

    /// With --app: JSON handed to the programs of the next start (TEND_RESTART_CONTEXT)
    #[arg(long, value_name = "JSON", requires = "app", value_parser = parse_json)]
    pub context: Option<serde_json::Value>,

    /// The app by name (an app of `tend run` has no tend.toml), instead of -f FILE
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Options of `tend down`.
#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// The app by name (an app of `tend run` has no tend.toml), instead of -f FILE
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Options of `tend inflight`.
#[derive(Debug, clap::Args)]
pub struct InflightArgs {
    /// What to report or show.
    #[command(subcommand)]
    pub command: InflightCommand,

    /// The app by name (an app of `tend run` has no tend.toml), instead of -f FILE; a program
    /// under tend needs neither: TEND_STATE_DIR names its own app
    #[arg(long, value_name = "NAME", global = true)]
    pub name: Option<String>,
}

/// The `tend inflight` commands.
#[derive(Debug, clap::Subcommand)]
pub enum InflightCommand {
    /// Report that the unit of work ID is in progress (again: keeps its start, updates its
    /// label)
    Begin {
        /// The work's ID: 1 to 200 bytes, no control characters
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// A description for people (at most 1000 bytes)
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
    },

    /// Report that the unit of work ID is finished (an ID not in flight is no error)
    Done {
        /// The work's ID
        #[arg(allow_hyphen_values = true)]
        id: String,
    },

    /// List the work in flight and the work interrupted at this start of the app
    List {
        /// Print the control API's JSON (`GET /v1/inflight`, see docs/control-api.md)
        #[arg(long)]
        json: bool,
    },
}

/// Options of `tend prepare`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PrepareArgs {
    /// Build the image even if it is there, and evaluate every dev shell again even if it is
    /// cached
    #[arg(long)]
    pub refresh: bool,
}

/// Options of `tend docker`.
#[derive(Debug, clap::Args)]
pub struct DockerArgs {
    /// What to show.
    #[command(subcommand)]
    pub command: DockerCommand,
}

/// The `tend docker` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DockerCommand {
    /// Print the Dockerfile tend builds the app's image from (`[docker] build`: FROM base, the
    /// extras' apt and pip packages, then steps), changing nothing
    #[command(
        after_help = "The extras install in dependency order (`needs` first): one apt layer \
with every apt package, then pip packages, those from a custom pip_index first, so that the \
default index cannot replace them. Built-in extras: build-tools, ffmpeg, git, node, python, \
pytorch-cpu, tesseract; [docker.extras.NAME] defines more (or replaces one).
Exit code: 1 when tend.toml has no [docker] table, or uses an image as it is (image = ...)."
    )]
    Dockerfile,
}

/// Options of `tend logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The program (default: every program, each line prefixed `name | `)
    pub program: Option<String>,

    /// Keep printing lines as they are appended, across rotations (like `tail -F`; `-f` is
    /// tend's `--file`)
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// How many lines to print from the end of each program's log
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    pub lines: usize,

    /// The app by name (an app of `tend run` has no tend.toml), instead of -f FILE
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Options of `tend service`.
#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ServiceCommand,

    /// The app by name instead of -f FILE (for status, logs, start, stop and uninstall when its
    /// tend.toml is gone)
    #[arg(long, value_name = "NAME", global = true)]
    pub name: Option<String>,
}

/// The `tend service` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Print the definition `install` would write (unit file, plist or task XML), changing
    /// nothing
    #[command(after_help = "Examples:
  tend service show -f app/tend.toml           the definition, on stdout (its location on stderr)
  tend service show -f app/tend.toml --plan    the files and commands install would write and run")]
    Show {
        /// Print the steps `install` would take instead (files written, commands run)
        #[arg(long)]
        plan: bool,
    },

    /// Install the app as a service of your user and start it; run again to update it in place
    #[command(
        after_help = "Linux: a systemd user unit ~/.config/systemd/user/tend-<app>.service, \
enabled (WantedBy=default.target) and started; it starts at login, and at boot once linger is \
on (tend tries `loginctl enable-linger` and otherwise prints the command to run).
macOS: a launchd agent ~/Library/LaunchAgents/dev.tend.<app>.plist, loaded at once and at login.
Windows: a Task Scheduler task tend-<app>, run at logon; no administrator rights needed.
Everywhere: tend is started again when it crashes or exits non-zero, not after a clean stop.

Examples:
  tend service install -f ~/bot/tend.toml
  tend service status -f ~/bot/tend.toml
  tend service logs -f ~/bot/tend.toml -F"
    )]
    Install {
        /// Do not try to turn on systemd linger; only say whether it is needed
        #[arg(long)]
        no_linger: bool,

        /// When the app already runs outside the service (`tend up`, `tend up -d`), stop it
        /// first and hand it over to the service (without this, install refuses)
        #[arg(long)]
        replace: bool,
    },

    /// Stop the service and remove its definition
    Uninstall,

    /// Start the installed service
    Start,

    /// Stop the service (it starts again at the next login, or with `tend service start`)
    Stop,

    /// Say whether the service is installed, enabled, running (and, on Linux, whether linger is
    /// on), then the service manager's own account
    #[command(after_help = "Exit code: 0 when it is running; 3 when it is not installed or not \
running.")]
    Status,

    /// Print the service's logs: the journal on Linux (when there is one), else tend's log
    /// files (tend.log, the programs' logs, and service.log/service.err on macOS)
    #[command(after_help = "Examples:
  tend service logs -f app/tend.toml           the last 50 lines
  tend service logs -f app/tend.toml -F        ... and keep following (Ctrl-C to stop)")]
    Logs {
        /// How many lines to print from the end
        #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 50)]
        lines: usize,
        /// Keep printing lines as they come (`-f` is tend's `--file`)
        #[arg(short = 'F', long)]
        follow: bool,
    },
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("not JSON: {e}; e.g. '{{\"version\": \"1.2\"}}'"))
}
