//! A tiny HTTP/1.1 server on loopback standing in for the index and the release host.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// What a path answers.
#[derive(Clone)]
pub enum Reply {
    /// 200 with this body.
    Ok(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// Accepts, reads the request, never answers.
    Hang,
}

/// A running server: its base URL, what it answers, and the requests it saw.
pub struct Server {
    pub base: String,
    pub routes: Arc<Mutex<HashMap<String, Reply>>>,
    pub seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let (r, s) = (routes.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (r, s) = (r.clone(), s.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let mut agent = String::new();
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("user-agent:") {
                            agent = v.trim().to_owned();
                        }
                    }
                    s.lock().unwrap().push((path.clone(), agent));
                    let reply = r.lock().unwrap().get(&path).cloned().unwrap_or(Reply::Status(404));
                    let (code, body) = match reply {
                        Reply::Ok(body) => (200, body),
                        Reply::Status(code) => (code, Vec::new()),
                        Reply::Hang => {
                            std::thread::sleep(std::time::Duration::from_secs(30));
                            return;
                        }
                    };
                    let head = format!(
                        "HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&body);
                });
            }
        });
        Server { base, routes, seen }
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_owned(), reply);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.seen.lock().unwrap().iter().filter(|(p, _)| p == path).count()
    }
}

/// An index entry of these `(version, yanked)`.
pub fn entry(versions: &[(&str, bool)]) -> Vec<u8> {
    versions
        .iter()
        .map(|(v, y)| {
            format!(
                r#"{{"name":"tend-cli","vers":"{v}","deps":[],"cksum":"00","features":{{}},"yanked":{y}}}"#
            ) + "\n"
        })
        .collect::<String>()
        .into_bytes()
}
