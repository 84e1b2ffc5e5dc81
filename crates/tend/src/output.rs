//! What commands print: stdout that ends quietly when its reader goes, the status table and
//! the tables of in-flight work.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use tend_api::inflight::Item;
use tend_api::{ProgramStatus, Status};

/// Writes to stdout; a closed pipe (`tend … | head`) ends the output quietly.
#[derive(Debug)]
pub struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
}

impl Printer {
    /// Buffered stdout.
    pub fn stdout() -> Printer {
        Printer { out: std::io::BufWriter::new(std::io::stdout()) }
    }

    /// Writes `prefix`, `line` and a newline; `false` once the reader is gone.
    pub fn line(&mut self, prefix: &str, line: &str) -> bool {
        self.write(prefix) && self.write(line) && self.write("\n")
    }

    /// Writes `text`; `false` once the reader is gone.
    pub fn write(&mut self, text: &str) -> bool {
        self.out.write_all(text.as_bytes()).is_ok()
    }

    /// Flushes; `false` once the reader is gone.
    pub fn flush(&mut self) -> bool {
        self.out.flush().is_ok()
    }
}

/// The status as a table: a heading line, then NAME STATE PID UPTIME RESTARTS LAST EXIT CPU
/// RSS REASON, then the in-flight and interrupted work items, if any.
pub fn status_table(status: &Status) -> String {
    let mut rows = vec![
        ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT", "CPU", "RSS", "REASON"]
            .map(String::from),
    ];
    rows.extend(status.programs.iter().map(row));
    let mut widths = [0; 9];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = format!(
        "app {} (tend pid {}, started {}, {})\n",
        status.app, status.pid, status.started_at, status.startup_kind
    );
    for row in rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            // Numbers align right; the last column needs no padding.
            match i {
                2 | 4 | 6 | 7 => line.push_str(&format!("{cell:>width$}")),
                _ => line.push_str(&format!("{cell:<width$}")),
            }
            line.push_str("  ");
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    // Where programs run that are not plain native ones.
    for p in &status.programs {
        let at = &p.placement;
        if let Some(why) = &at.auto {
            text.push_str(&format!("{}: runner = \"auto\" chose {why}\n", p.name));
        }
        if let Some(flake) = &at.flake {
            let mode = at.mode.as_deref().unwrap_or("not prepared yet");
            text.push_str(&format!("{}: runs in the dev shell of {flake} ({mode})\n", p.name));
            if let Some(why) = &at.fallback {
                text.push_str(&format!(
                    "{}: wrapped: each start goes through `nix develop`, because {why}\n",
                    p.name
                ));
            }
        } else if let Some(why) = &at.fallback {
            text.push_str(&format!("{}: runs natively: {why} (fallback = \"native\")\n", p.name));
        } else if let Some(container) = &at.container {
            let image = at.image.as_deref().unwrap_or("?");
            text.push_str(&format!("{}: runs in container {container}, image {image}\n", p.name));
        }
    }
    // Log files that cannot be written now (a full disk).
    for p in &status.programs {
        if let Some(log) = &p.log_error {
            text.push_str(&format!(
                "{}: {}: {}; dropping output ({} bytes dropped so far)\n",
                p.name, log.path, log.error, log.dropped_bytes
            ));
        }
    }
    // What there is to say about updates: a newer version, an upgrade, a rollback.
    if let Some(update) = &status.update {
        text.push_str(&format!("update: {}\n", update.message));
    }
    // Then the work in flight and the work interrupted at this start, if any.
    text.push_str(&inflight_sections(
        &status.inflight,
        &status.interrupted,
        std::time::SystemTime::now(),
    ));
    text
}

fn row(p: &ProgramStatus) -> [String; 9] {
    let dash = || "-".to_string();
    [
        p.name.clone(),
        p.state.clone(),
        p.pid.map_or_else(dash, |pid| pid.to_string()),
        p.uptime_secs.map_or_else(dash, |s| {
            humantime::format_duration(Duration::from_secs(s)).to_string().replace(' ', "")
        }),
        p.restarts.to_string(),
        p.last_exit.map_or_else(dash, |e| match e {
            tend_supervisor::Exit::Code(code) => format!("code {code}"),
            tend_supervisor::Exit::Signal(signal) => format!("signal {signal}"),
        }),
        p.cpu_secs.map_or_else(dash, |s| format!("{s:.2}s")),
        p.rss_bytes.map_or_else(dash, bytes),
        p.reason.clone().unwrap_or_else(dash),
    ]
}

fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1}G", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.0}K", n / 1024.0)
    }
}

/// The tables of open and interrupted items at `now`, each under its heading; empty when
/// there are none.
///
/// ```text
/// in flight (1):
///   ID     PROGRAM  AGE  LABEL
///   job-2  worker   5s   resize photo 2
/// interrupted at this start (1):
///   ID     PROGRAM  AGE  LABEL
///   job-1  worker   1h   -
/// ```
pub fn inflight_sections(inflight: &[Item], interrupted: &[Item], now: SystemTime) -> String {
    let mut text = String::new();
    for (title, items) in [("in flight", inflight), ("interrupted at this start", interrupted)] {
        if !items.is_empty() {
            text.push_str(&format!("{title} ({}):\n", items.len()));
            text.push_str(&item_table(items, now));
        }
    }
    text
}

fn item_table(items: &[Item], now: SystemTime) -> String {
    let dash = || "-".to_owned();
    let mut rows = vec![["ID", "PROGRAM", "AGE", "LABEL"].map(String::from)];
    rows.extend(items.iter().map(|item| {
        [
            printable(&item.id),
            item.program.as_deref().map_or_else(dash, printable),
            age(item.age(now)),
            item.label.as_deref().map_or_else(dash, printable),
        ]
    }));
    let mut widths = [0; 4];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in rows {
        let mut line = String::from(" ");
        for (cell, width) in row.iter().zip(widths) {
            line.push(' ');
            line.push_str(&format!("{cell:<width$}"));
            line.push(' ');
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Whole seconds, like `tend status` shows uptimes: `1h2m5s`.
fn age(age: Duration) -> String {
    humantime::format_duration(Duration::from_secs(age.as_secs())).to_string().replace(' ', "")
}

/// `text` on one line: control characters become spaces.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tend_supervisor::Exit;

    #[test]
    fn table_lines_up() {
        let status = Status {
            app: "demo".into(),
            pid: 10,
            started_at: "2026-11-22T04:00:00Z".into(),
            startup_kind: "start".into(),
            programs: vec![
                ProgramStatus {
                    name: "web".into(),
                    state: "running".into(),
                    pid: Some(1234),
                    uptime_secs: Some(75),
                    restarts: 2,
                    last_exit: Some(Exit::Signal(15)),
                    cpu_secs: Some(0.5),
                    rss_bytes: Some(3 * 1024 * 1024),
                    placement: tend_api::Placement::of("native"),
                    reason: None,
                    cause: None,
                    log_error: Some(tend_app::program_log::LogError {
                        path: "logs/web.log".into(),
                        error: "no space left".into(),
                        dropped_bytes: 4096,
                    }),
                },
                ProgramStatus {
                    name: "worker".into(),
                    state: "stopped".into(),
                    pid: None,
                    uptime_secs: None,
                    restarts: 0,
                    last_exit: None,
                    cpu_secs: None,
                    rss_bytes: None,
                    placement: tend_api::Placement::of("native"),
                    reason: Some("stopped on request".into()),
                    cause: Some("stop_requested".into()),
                    log_error: None,
                },
            ],
            inflight: Vec::new(),
            interrupted: Vec::new(),
            update: None,
        };
        let text = status_table(&status);
        let expected = "\
app demo (tend pid 10, started 2026-11-22T04:00:00Z, start)
NAME    STATE     PID  UPTIME  RESTARTS  LAST EXIT    CPU   RSS  REASON
web     running  1234  1m15s          2  signal 15  0.50s  3.0M  -
worker  stopped     -  -              0  -              -     -  stopped on request
web: logs/web.log: no space left; dropping output (4096 bytes dropped so far)
";
        assert_eq!(text, expected);
    }

    #[test]
    fn tables_line_up() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let item = |id: &str, program: Option<&str>, label: Option<&str>, age: u64| Item {
            id: id.into(),
            label: label.map(str::to_owned),
            program: program.map(str::to_owned),
            started_at: now - Duration::from_secs(age),
        };
        let open = [
            item("job-2", Some("worker"), Some("resize\nphoto 2"), 5),
            item("a-much-longer-id", None, None, 3725),
        ];
        let interrupted = [item("job-1", Some("web"), None, 7200)];
        let expected = "\
in flight (2):
  ID                PROGRAM  AGE     LABEL
  job-2             worker   5s      resize photo 2
  a-much-longer-id  -        1h2m5s  -
interrupted at this start (1):
  ID     PROGRAM  AGE  LABEL
  job-1  web      2h   -
";
        assert_eq!(inflight_sections(&open, &interrupted, now), expected);
        assert_eq!(inflight_sections(&[], &[], now), "");
        assert!(
            inflight_sections(&[], &interrupted, now)
                .starts_with("interrupted at this start (1):\n")
        );
    }
}
