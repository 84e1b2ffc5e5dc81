//! The options of the commands that set tend and an app up: `tend service`, `tend prepare`,
//! `tend docker`, `tend version`, `tend update`.

use clap::Args;

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
