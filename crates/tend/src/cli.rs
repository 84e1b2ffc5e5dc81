//! The command line: what `tend` accepts (every clap type is here or in `cli/`: `run` for
//! `up`/`run`, `control` for the commands that talk to a running app, `setup` for service,
//! prepare, docker, version and update); `commands::dispatch` runs it.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod control;
mod run;
mod setup;

pub use control::{DownArgs, InflightArgs, InflightCommand, LogsArgs, RestartArgs, StatusArgs};
pub use run::{RunArgs, UpArgs};
pub use setup::{
    DockerArgs, DockerCommand, PrepareArgs, ServiceArgs, ServiceCommand, UpdateArgs, VersionArgs,
};

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
