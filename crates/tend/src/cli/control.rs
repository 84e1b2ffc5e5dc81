//! The options of the commands that talk to a running app: `tend status`, `tend restart`,
//! `tend down`, `tend logs`, `tend inflight`.

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

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("not JSON: {e}; e.g. '{{\"version\": \"1.2\"}}'"))
}
