//! The control API closes what does not talk: a connection that sends nothing or half a
//! request head is closed after the head timeout (5 s), past the cap (256 connections, fewer
//! under a tight descriptor limit) the longest-idle connection makes room, and `tend status`
//! answers through it all. Real binary, `TEND_HOME` in a temp dir, every wait bounded.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt as _;
use std::time::{Duration, Instant};

use common::*;

/// The server's request-head timeout.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// `tend up` of app `ctl` with one sleeping program, once its API answers.
fn up(sb: &Sandbox, nofile: Option<u64>) -> Tend {
    sb.write("tend.toml", "name = \"ctl\"\n\n[programs.a]\ncommand = [\"sleep\", \"300\"]\n");
    let tend = sb.spawn_with(&["up"], |cmd| {
        if let Some(limit) = nofile {
            // SAFETY: runs in the forked child before exec; one async-signal-safe call.
            unsafe {
                cmd.pre_exec(move || {
                    nix::sys::resource::setrlimit(
                        nix::sys::resource::Resource::RLIMIT_NOFILE,
                        limit,
                        limit,
                    )
                    .map_err(std::io::Error::from)
                });
            }
        }
    });
    sb.wait_for("tend status to answer", || (sb.run(&["status"]).code() == 0).then_some(()));
    tend
}

fn socket(sb: &Sandbox) -> std::path::PathBuf {
    sb.app("ctl").dir.join("tend.sock")
}

/// Reads from `stream` until the server closes it (bounded); returns how long that took.
fn wait_closed(mut stream: UnixStream) -> Duration {
    let start = Instant::now();
    stream.set_read_timeout(Some(HEAD_TIMEOUT * 3)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return start.elapsed(),
            Err(e) => panic!("still open after {:?}: {e}", start.elapsed()),
        }
    }
}

/// Opens `count` connections that send nothing, non-blocking so that they can be looked at.
fn idle_connections(sb: &Sandbox, count: usize) -> Vec<UnixStream> {
    (0..count)
        .map(|_| {
            let stream = UnixStream::connect(socket(sb)).unwrap();
            stream.set_nonblocking(true).unwrap();
            stream
        })
        .collect()
}

/// How many of `streams` the server still holds open.
fn still_open(streams: &[UnixStream]) -> usize {
    streams
        .iter()
        .filter(|stream| {
            let mut buf = [0u8; 1];
            let mut stream: &UnixStream = stream;
            matches!(stream.read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock)
        })
        .count()
}

#[test]
fn a_silent_connection_is_closed_after_the_head_timeout() {
    let sb = Sandbox::new();
    let _tend = up(&sb, None);
    let took = wait_closed(UnixStream::connect(socket(&sb)).unwrap());
    assert!(took >= HEAD_TIMEOUT - Duration::from_millis(500), "closed too early: {took:?}");
}

#[test]
fn half_a_request_head_is_closed_after_the_head_timeout() {
    let sb = Sandbox::new();
    let _tend = up(&sb, None);
    let mut stream = UnixStream::connect(socket(&sb)).unwrap();
    stream.write_all(b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    let took = wait_closed(stream);
    assert!(took >= HEAD_TIMEOUT - Duration::from_millis(500), "closed too early: {took:?}");
}

#[test]
fn a_kept_alive_connection_is_answered_again_after_a_pause() {
    // The head timeout is for heads: a connection that was answered may pause between
    // requests longer than that.
    let sb = Sandbox::new();
    let _tend = up(&sb, None);
    let mut stream = UnixStream::connect(socket(&sb)).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let request = b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let answer = |stream: &mut UnixStream| {
        stream.write_all(request).unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(answer(&mut stream).starts_with("HTTP/1.1 200"));
    // Waiting out the head timeout is the point of this test: there is no event to await.
    std::thread::sleep(HEAD_TIMEOUT + Duration::from_secs(1));
    assert!(answer(&mut stream).starts_with("HTTP/1.1 200"));
}

#[test]
fn idle_connections_past_the_cap_make_room_and_status_still_answers() {
    let sb = Sandbox::new();
    let _tend = up(&sb, None);
    let opened = Instant::now();
    let streams = idle_connections(&sb, 300);
    // Past 256, the longest-idle ones are closed at once, long before the head timeout.
    sb.wait_for("the connections past the cap to be closed", || {
        (still_open(&streams) <= 256).then_some(())
    });
    let status = sb.run(&["status"]);
    status.assert_code(0);
    // Answered while the silent connections are still held: not after their timeout.
    let open = still_open(&streams);
    assert!(open >= 200, "only {open} of the idle connections are left");
    assert!(opened.elapsed() < HEAD_TIMEOUT, "too slow to tell: {:?}", opened.elapsed());
    // Said once, not once per connection.
    let log = sb.app("ctl").read_tend_log();
    assert_eq!(log.matches("the most allowed").count(), 1, "{log}");
}

#[test]
fn under_a_descriptor_limit_of_128_status_answers_with_many_idle_connections() {
    let sb = Sandbox::new();
    let _tend = up(&sb, Some(128));
    let opened = Instant::now();
    let streams = idle_connections(&sb, 400);
    let status = sb.run(&["status"]);
    status.assert_code(0);
    assert!(status.stdout.contains('a'), "{}", status.stdout);
    let open = still_open(&streams);
    assert!(opened.elapsed() < HEAD_TIMEOUT, "too slow to tell: {:?}", opened.elapsed());
    assert!((20..128).contains(&open), "{open} of the idle connections are held");
    let log = sb.app("ctl").read_tend_log();
    assert!(!log.contains("out of file descriptors"), "{log}");
}
