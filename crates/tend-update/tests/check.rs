//! The version check against a loopback index: never the real registry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Reply, Server, entry};
use tend_update::{Channel, Checker, UpdateError};

const ENTRY: &str = "/te/nd/tend-cli";

fn checker(server: &Server, home: &std::path::Path, channel: Channel) -> Checker {
    let mut checker = Checker::new(&server.base, channel, home);
    checker.current = semver::Version::new(0, 2, 0);
    checker.timeout = Duration::from_millis(600);
    checker
}

fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).unwrap()
}

#[test]
fn a_new_version_is_found_and_cached_for_a_day() {
    let server = Server::start();
    server.set(ENTRY, Reply::Ok(entry(&[("0.1.0", false), ("0.2.0", false), ("0.3.1", false)])));
    let home = tempfile::tempdir().unwrap();
    let checker = checker(&server, home.path(), Channel::Stable);
    let check = checker.check(false).unwrap();
    assert_eq!(check.newer(), Some(&v("0.3.1")));
    assert!(!check.cached);
    let (_, agent) = server.seen.lock().unwrap()[0].clone();
    assert!(agent.starts_with("tend/") && agent.contains("tend-cli"), "{agent}");
    // Within the day: the cache answers; the index is not asked again.
    let again = checker.check(false).unwrap();
    assert!(again.cached);
    assert_eq!(again.newer(), Some(&v("0.3.1")));
    assert_eq!(server.hits(ENTRY), 1);
    let cache: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("update.json")).unwrap()).unwrap();
    assert_eq!(cache["latest"], "0.3.1");
    // Asked for fresh: the index again.
    checker.check(true).unwrap();
    assert_eq!(server.hits(ENTRY), 2);
}

#[test]
fn the_same_version_is_not_newer() {
    let server = Server::start();
    server.set(ENTRY, Reply::Ok(entry(&[("0.1.0", false), ("0.2.0", false)])));
    let home = tempfile::tempdir().unwrap();
    let check = checker(&server, home.path(), Channel::Stable).check(false).unwrap();
    assert_eq!(check.latest, Some(v("0.2.0")));
    assert_eq!(check.newer(), None);
}

#[test]
fn pre_releases_only_on_the_pre_channel() {
    let server = Server::start();
    server.set(ENTRY, Reply::Ok(entry(&[("0.2.0", false), ("0.3.0-rc.1", false)])));
    let home = tempfile::tempdir().unwrap();
    let stable = checker(&server, home.path(), Channel::Stable).check(false).unwrap();
    assert_eq!(stable.newer(), None);
    // Another channel does not reuse the stable channel's cache.
    let pre = checker(&server, home.path(), Channel::Pre).check(false).unwrap();
    assert_eq!(pre.newer(), Some(&v("0.3.0-rc.1")));
}

#[test]
fn a_yanked_newest_is_skipped() {
    let server = Server::start();
    server.set(ENTRY, Reply::Ok(entry(&[("0.2.0", false), ("0.2.5", false), ("0.4.0", true)])));
    let home = tempfile::tempdir().unwrap();
    let check = checker(&server, home.path(), Channel::Stable).check(false).unwrap();
    assert_eq!(check.newer(), Some(&v("0.2.5")));
}

#[test]
fn garbage_is_an_error_and_not_cached() {
    let server = Server::start();
    server.set(ENTRY, Reply::Ok(b"<html>captive portal</html>".to_vec()));
    let home = tempfile::tempdir().unwrap();
    let err = checker(&server, home.path(), Channel::Stable).check(false).unwrap_err();
    assert!(matches!(err, UpdateError::BadIndex { .. }), "{err}");
    assert!(!home.path().join("update.json").exists());
}

#[test]
fn a_404_is_an_error() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let err = checker(&server, home.path(), Channel::Stable).check(false).unwrap_err();
    assert!(err.to_string().contains("HTTP 404"), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out_quickly() {
    let server = Server::start();
    server.set(ENTRY, Reply::Hang);
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = checker(&server, home.path(), Channel::Stable).check(false).unwrap_err();
    assert!(matches!(err, UpdateError::Http { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn nothing_listening_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let home = tempfile::tempdir().unwrap();
    let mut checker = Checker::new(base, Channel::Stable, home.path());
    checker.timeout = Duration::from_millis(600);
    assert!(checker.check(false).is_err());
}
