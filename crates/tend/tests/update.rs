//! `tend version`, `tend update` and the background notice, against a loopback index and
//! release host started by the test (never the real registry).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../tend-update/tests/common/mod.rs"]
mod http;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Sandbox;
use http::{Reply, Server, entry};
use sha2::Digest as _;

const ENTRY: &str = "/te/nd/tend-cli";

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `exe ARGS…` with the sandbox's environment, pointed at `server`.
fn at(sb: &Sandbox, exe: &Path, server: &Server, args: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(&sb.cwd)
        .env("TEND_HOME", &sb.home)
        .env("HOME", &sb.cwd)
        .env("NO_COLOR", "1")
        .env("TEND_UPDATE_INDEX", &server.base)
        .env("TEND_UPDATE_RELEASES", &server.base)
        .env("TEND_UPDATE_HEALTH_TIMEOUT", "8s")
        .env_remove("TEND_SUPERVISOR")
        .env_remove("INVOCATION_ID")
        .env_remove("TEND_STATE_DIR")
        .stdin(Stdio::null());
    cmd
}

fn output(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn version_of(sb: &Sandbox, exe: &Path, server: &Server) -> serde_json::Value {
    let (code, stdout, stderr) = output(at(sb, exe, server, &["version", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    json(&stdout)
}

#[test]
fn version_reports_the_build_and_a_build_tree() {
    let sb = Sandbox::new();
    let server = Server::start();
    let info = version_of(&sb, &common::tend_bin(), &server);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["install_mode"], "dev");
    for key in ["commit", "build_date", "target"] {
        assert!(info[key].as_str().is_some_and(|v| !v.is_empty()), "{key}: {info}");
    }
    // dev refuses to upgrade, --check only reports.
    server.set(ENTRY, Reply::Ok(entry(&[("99.0.0", false)])));
    let (code, stdout, _) = output(at(&sb, &common::tend_bin(), &server, &["update", "--check"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("tend 99.0.0 is available"), "{stdout}");
    let (code, _, stderr) = output(at(&sb, &common::tend_bin(), &server, &["update", "--yes"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("build tree"), "{stderr}");
    server.set(ENTRY, Reply::Ok(entry(&[(env!("CARGO_PKG_VERSION"), false)])));
    let (code, stdout, _) = output(at(&sb, &common::tend_bin(), &server, &["update", "--check"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("is the newest"), "{stdout}");
}

/// A standalone copy of tend (install mode `binary`) and a "new" one reporting `version`.
fn binaries(sb: &Sandbox, version: &str) -> (PathBuf, Vec<u8>) {
    let bin = sb.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("tend");
    std::fs::copy(common::tend_bin(), &exe).unwrap();
    let mut new = std::fs::read(&exe).unwrap();
    assert!(tend_update::patch_version(&mut new, version), "the binary holds one version slot");
    (exe, new)
}

fn publish(server: &Server, version: &str, binary: Vec<u8>) {
    let target = tend_update::BuildInfo::current().target;
    let sum: String = sha2::Sha256::digest(&binary).iter().map(|b| format!("{b:02x}")).collect();
    server.set(ENTRY, Reply::Ok(entry(&[("0.0.1", false), (version, false)])));
    server.set(&format!("/v{version}/tend-{target}"), Reply::Ok(binary));
    server.set(&format!("/v{version}/tend-{target}.sha256"), Reply::Ok(sum.into()));
}

fn start_app(sb: &Sandbox, exe: &Path, server: &Server) {
    sb.write(
        "tend.toml",
        "name = \"up\"\n[programs.w]\ncommand = [\"sh\", \"-c\", \"cat \\\"$TEND_RESTART_CONTEXT\\\" >> ctx.log 2>/dev/null; echo >> ctx.log; exec sleep 1000\"]\n",
    );
    let (code, _, stderr) = output(at(sb, exe, server, &["up", "-d"]));
    assert_eq!(code, 0, "{stderr}");
}

fn status(sb: &Sandbox, exe: &Path, server: &Server) -> serde_json::Value {
    let (code, stdout, stderr) = output(at(sb, exe, server, &["status", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    json(&stdout)
}

#[test]
fn a_running_app_is_told_once_and_upgraded_on_the_new_binary() {
    let sb = Sandbox::new();
    let server = Server::start();
    let (exe, new) = binaries(&sb, "9.9.9");
    assert_eq!(version_of(&sb, &exe, &server)["install_mode"], "binary");
    publish(&server, "9.9.9", new);
    start_app(&sb, &exe, &server);
    // Started without the hook: no check yet, so no `update` in the status.
    assert!(status(&sb, &exe, &server).get("update").is_none());
    output(at(&sb, &exe, &server, &["down"]));
    let mut cmd = at(&sb, &exe, &server, &["up", "-d"]);
    cmd.env("TEND_UPDATE_FIRST_CHECK", "100ms");
    assert_eq!(output(cmd).0, 0);
    let notice = sb.wait_for("the update notice", || {
        status(&sb, &exe, &server).get("update").cloned().filter(|u| u.get("available").is_some())
    });
    assert_eq!(notice["available"], "9.9.9");
    let log = sb.app("up").read_tend_log();
    assert_eq!(log.matches("tend 9.9.9 is available").count(), 1, "{log}");

    let (code, stdout, stderr) = output(at(&sb, &exe, &server, &["update", "--yes"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(version_of(&sb, &exe, &server)["version"], "9.9.9");
    assert!(exe.with_file_name("tend.previous").exists());
    let after = status(&sb, &exe, &server);
    assert_eq!(after["update"]["upgraded_from"], env!("CARGO_PKG_VERSION"), "{after}");
    assert_eq!(after["update"]["version"], "9.9.9");
    assert!(sb.app("up").read_tend_log().contains("upgraded from"));
    let ctx = sb.wait_text(&sb.path("ctx.log"), "upgrade");
    assert!(ctx.contains("\"new_version\": \"9.9.9\""), "{ctx}");
    assert!(!sb.app("up").dir.join("upgrade-sentinel.json").exists(), "consumed");
    output(at(&sb, &exe, &server, &["down"]));
}

#[test]
fn a_new_binary_that_exits_at_once_is_rolled_back() {
    let sb = Sandbox::new();
    let server = Server::start();
    let (exe, _) = binaries(&sb, "9.9.9");
    publish(&server, "9.9.9", b"#!/bin/sh\nexit 3\n".to_vec());
    start_app(&sb, &exe, &server);
    let (code, _, stderr) =
        output(at(&sb, &exe, &server, &["inflight", "begin", "job-1", "--name", "up"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = output(at(&sb, &exe, &server, &["update", "--yes"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert_eq!(version_of(&sb, &exe, &server)["version"], env!("CARGO_PKG_VERSION"));
    let after = status(&sb, &exe, &server);
    assert_eq!(after["update"]["rolled_back_from"], "9.9.9", "{after}");
    let items: Vec<String> = ["inflight", "interrupted"]
        .iter()
        .flat_map(|k| after[k].as_array().cloned().unwrap_or_default())
        .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(items.contains(&"job-1".to_owned()), "nothing lost from inflight.json: {after}");
    output(at(&sb, &exe, &server, &["down"]));
}
