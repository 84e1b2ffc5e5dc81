//! Benchmarks of tend-fs: parsing a 10,000-line dotenv file, and saving (and loading) a 1 MB
//! JSON state file with every fsync included.
//!
//! Run with `cargo bench -p tend-fs`. Each figure is the median of [`RUNS`] runs, after one
//! warm-up run.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

const RUNS: usize = 20;
const DOTENV_LINES: usize = 10_000;

/// Times `f` [`RUNS`] times after a warm-up run; returns the median.
fn median_of<T>(
    mut f: impl FnMut() -> Result<T, Box<dyn Error>>,
) -> Result<Duration, Box<dyn Error>> {
    black_box(f()?);
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        black_box(f()?);
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[RUNS / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A dotenv file of exactly `lines` lines mixing every form: comments, blank lines, `export`,
/// unquoted values with comments, single quotes, double quotes with escapes, and two-line
/// double-quoted values.
fn dotenv_text(lines: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    let mut i = 0;
    while n < lines {
        i += 1;
        let line = match i % 10 {
            0 => "# a comment line, explaining the next setting".to_owned(),
            1 if i % 50 == 1 => String::new(),
            1 => format!("KEY_{i}=plain-value-{i}"),
            2 => format!("export EXPORTED_{i}=value{i}"),
            3 => format!("WITH_COMMENT_{i}=some words here # and a comment"),
            4 => format!("SINGLE_{i}='literal $value {i} with \\ backslash'"),
            5 => format!("DOUBLE_{i}=\"escaped \\\"quote\\\" and \\n newline {i}\""),
            6 => format!("URL_{i}=https://user:pass@example.invalid:8080/path?q={i}#frag"),
            7 if n + 2 <= lines => {
                n += 1; // this entry takes two lines
                format!("MULTI_{i}=\"first line {i}\nsecond line\"")
            }
            7 => format!("SHORT_{i}=x"),
            8 => format!("  SPACED_{i} = value with = inside {i}  "),
            _ => format!("TOKEN_{i}=0123456789abcdef0123456789abcdef{i}"),
        };
        text.push_str(&line);
        text.push('\n');
        n += 1;
    }
    text
}

/// A state-file-like JSON value of about `bytes` bytes when pretty-printed.
fn json_value(bytes: usize) -> serde_json::Value {
    let record = |i: usize| {
        serde_json::json!({
            "id": format!("item-{i:08}"),
            "program": "worker",
            "started_at": 1_700_000_000u64 + i as u64,
            "pid": 10_000 + i,
            "argv": ["python3", "-m", "worker", "--queue", format!("q{}", i % 7)],
        })
    };
    let state = |n: usize| {
        let records: Vec<_> = (0..n).map(record).collect();
        serde_json::json!({ "version": 1, "records": records })
    };
    // Measure what a record takes in place, then size the value to match.
    let per_record = serde_json::to_vec_pretty(&state(100)).map(|v| v.len() / 100).unwrap_or(250);
    state(bytes / per_record.max(1))
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    println!("tend-fs benchmarks: median of {RUNS} runs; files in {}", dir.path().display());

    // Dotenv parsing.
    let text = dotenv_text(DOTENV_LINES);
    assert_eq!(text.lines().count(), DOTENV_LINES);
    let env_path = dir.path().join(".env");
    tend_fs::write_text(&env_path, &text)?;
    let parsed = tend_fs::dotenv::parse(&text);
    if !parsed.problems.is_empty() {
        return Err(format!("the generated file has problems: {:?}", parsed.problems).into());
    }
    let entries = parsed.entries.len();
    let in_memory = median_of(|| Ok(tend_fs::dotenv::parse(&text)))?;
    let from_file = median_of(|| Ok(tend_fs::dotenv::parse_file(&env_path)?))?;
    let per_sec = |d: Duration| DOTENV_LINES as f64 / d.as_secs_f64();
    println!(
        "dotenv parse, {DOTENV_LINES} lines ({} KiB, {entries} entries): {:.2} ms ({:.1} M lines/s) in memory; \
         {:.2} ms ({:.1} M lines/s) with parse_file (read included)",
        text.len() / 1024,
        ms(in_memory),
        per_sec(in_memory) / 1e6,
        ms(from_file),
        per_sec(from_file) / 1e6,
    );

    // JSON state file.
    let value = json_value(1024 * 1024);
    let json_path = dir.path().join("state.json");
    tend_fs::write_json(&json_path, &value)?;
    let size = std::fs::metadata(&json_path)?.len();
    let save = median_of(|| Ok(tend_fs::write_json(&json_path, &value)?))?;
    let bytes = std::fs::read(&json_path)?;
    let write_only = median_of(|| Ok(tend_fs::write_bytes(&json_path, &bytes)?))?;
    let load =
        median_of(|| Ok(tend_fs::load_json_or_default::<serde_json::Value>(&json_path)?.value))?;
    println!(
        "JSON state file of {:.2} MB: write_json {:.2} ms (serialise + temp file + fsync + rename + \
         directory fsync); of which write_bytes {:.2} ms; load_json_or_default {:.2} ms",
        size as f64 / 1e6,
        ms(save),
        ms(write_only),
        ms(load),
    );
    Ok(())
}
