//! The helper binary answers a bad mode with its usage and exit code 2 (and this test makes
//! `cargo test --workspace` build the binary for the other crates' tests).

#[test]
fn unknown_mode_prints_usage() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tend-testbin"))
        .arg("no-such-mode")
        .output()
        .expect("run tend-testbin");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: tend-testbin"));
}
