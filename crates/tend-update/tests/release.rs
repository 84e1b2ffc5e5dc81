//! Downloading and verifying a release binary from a loopback host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Reply, Server};
use sha2::Digest;
use tend_update::release;

fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_verified_download_is_swapped_in() {
    let server = Server::start();
    let version = semver::Version::new(9, 0, 0);
    server.set("/v9.0.0/tend-t", Reply::Ok(b"new binary".to_vec()));
    server.set(
        "/v9.0.0/tend-t.sha256",
        Reply::Ok(format!("{}  tend-t\n", hex(b"new binary")).into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("tend");
    std::fs::write(&exe, "old binary").unwrap();
    let verified =
        release::download(&server.base, &version, "t", &exe, Duration::from_secs(5)).unwrap();
    assert!(!verified.signed);
    assert_eq!(std::fs::read_to_string(&exe).unwrap(), "old binary", "nothing replaced yet");
    release::swap(&exe, &verified.path).unwrap();
    assert_eq!(std::fs::read_to_string(&exe).unwrap(), "new binary");
    assert_eq!(std::fs::read_to_string(dir.path().join("tend.previous")).unwrap(), "old binary");
}

#[test]
fn a_wrong_checksum_installs_nothing() {
    let server = Server::start();
    let version = semver::Version::new(9, 0, 0);
    server.set("/v9.0.0/tend-t", Reply::Ok(b"tampered".to_vec()));
    server.set("/v9.0.0/tend-t.sha256", Reply::Ok(hex(b"original").into()));
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("tend");
    std::fs::write(&exe, "old").unwrap();
    let err =
        release::download(&server.base, &version, "t", &exe, Duration::from_secs(5)).unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
    let left: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, ["tend"], "the download is removed");
    // No checksum published: refused too.
    server.set("/v9.0.0/tend-t.sha256", Reply::Status(404));
    assert!(release::download(&server.base, &version, "t", &exe, Duration::from_secs(5)).is_err());
}
