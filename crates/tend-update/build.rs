//! Build info for `tend version`: the commit (git, else `TEND_BUILD_COMMIT`, else `unknown`), the
//! build date (`SOURCE_DATE_EPOCH`, else today) and the target. Works without git (a crates.io
//! tarball): the commit is then `unknown`.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=TEND_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=TEND_BUILD_VERSION");
    println!("cargo:rerun-if-env-changed=TEND_MINISIGN_PUBLIC_KEY");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = std::env::var("TEND_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
        });
    let stamp = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds));
    let date: String = stamp.to_string().chars().take(10).collect();
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=TEND_BUILD_COMMIT_INFO={commit}");
    println!("cargo:rustc-env=TEND_BUILD_DATE_INFO={date}");
    println!("cargo:rustc-env=TEND_BUILD_TARGET_INFO={target}");
}

/// The short commit of the checkout being built, when it is a git checkout; reruns when HEAD
/// moves.
fn git_commit() -> Option<String> {
    let out = |args: &[&str]| {
        let output = Command::new("git").args(args).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let commit = out(&["rev-parse", "--short=12", "HEAD"])?;
    if let Some(head) = out(&["rev-parse", "--path-format=absolute", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(refs) = out(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
        println!("cargo:rerun-if-changed={refs}/refs/heads");
        println!("cargo:rerun-if-changed={refs}/packed-refs");
    }
    Some(commit)
}
