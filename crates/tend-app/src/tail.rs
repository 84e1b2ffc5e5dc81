//! Reading the end of log files and following them as they grow, across rotations: the one
//! tail and follow used by `tend logs`, `tend service logs` and the control API's
//! `GET /v1/logs`.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often following looks at the files where no file-system watch can be set up.
pub const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// The last `n` lines of the file at `path` (only the current file, not its rotated ones),
/// read from its end. Invalid UTF-8 is replaced.
///
/// # Errors
/// When the file cannot be read.
pub fn tail_lines(path: &Path, n: usize) -> io::Result<Vec<String>> {
    const CHUNK: u64 = 64 * 1024;
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut pos = len;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if pos == 0 || body.iter().filter(|&&b| b == b'\n').count() >= n {
            break;
        }
        let start = pos.saturating_sub(CHUNK);
        let mut chunk = vec![0; usize::try_from(pos - start).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        pos = start;
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n)..].iter().map(|l| (*l).to_owned()).collect())
}

/// Follows one log file: each [`poll`](Follower::poll) returns the complete lines appended
/// since the last one. A file that shrinks or is replaced (rotation) is read again from its
/// start.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    offset: u64,
    id: Option<u64>,
    partial: Vec<u8>,
}

impl Follower {
    /// Follows `path` from its current end (from its start once it appears, if it is missing).
    pub fn at_end(path: PathBuf) -> Follower {
        let meta = std::fs::metadata(&path).ok();
        Follower {
            offset: meta.as_ref().map_or(0, std::fs::Metadata::len),
            id: meta.as_ref().and_then(crate::os::file_id),
            path,
            partial: Vec::new(),
        }
    }

    /// The lines appended since the last poll; none if the file is missing or unreadable.
    pub fn poll(&mut self) -> Vec<String> {
        let Ok(meta) = std::fs::metadata(&self.path) else { return Vec::new() };
        let id = crate::os::file_id(&meta);
        if meta.len() < self.offset || id != self.id {
            self.offset = 0;
            self.partial.clear();
            self.id = id;
        }
        if meta.len() == self.offset {
            return Vec::new();
        }
        let Ok(mut file) = File::open(&self.path) else { return Vec::new() };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut new = Vec::new();
        let Ok(read) = file.read_to_end(&mut new) else { return Vec::new() };
        self.offset += read as u64;
        self.partial.extend_from_slice(&new);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else { return Vec::new() };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        String::from_utf8_lossy(&complete).lines().map(str::to_owned).collect()
    }
}

/// Several log files followed together, each with the prefix its lines are shown with.
///
/// It waits for file-system events on the files' folders (inotify, FSEvents,
/// ReadDirectoryChangesW through `notify`): no timer while nothing is written. Where no watch
/// can be set up (the inotify limit is reached, say), it looks every [`FOLLOW_POLL`] instead.
#[derive(Default)]
pub struct Tail {
    followed: Vec<(String, Follower)>,
    events: Option<Events>,
    watched: Vec<PathBuf>,
}

/// The watcher of the followed files' folders and the wake-up it gives: one stored permit
/// however many events came, so a follower that is slow to come back holds nothing more.
struct Events {
    watcher: notify::RecommendedWatcher,
    woken: std::sync::Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tail")
            .field("followed", &self.followed)
            .field("event_driven", &self.events.is_some())
            .finish()
    }
}

impl Tail {
    /// Nothing followed yet.
    pub fn new() -> Tail {
        Tail::default()
    }

    /// The last `n` lines of `path` (none when it does not exist yet), which is followed from
    /// here on, its lines shown with `prefix`.
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub fn add(&mut self, prefix: String, path: PathBuf, n: usize) -> io::Result<Vec<String>> {
        let lines = match tail_lines(&path, n) {
            Ok(lines) => lines,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        self.followed.push((prefix, Follower::at_end(path)));
        Ok(lines)
    }

    /// Watches the folder of `path` (once per folder; a rotation renames the file in it).
    fn watch_folder_of(&mut self, path: &Path) {
        use notify::Watcher as _;
        let Some(folder) = path.parent().map(Path::to_path_buf) else { return };
        if self.watched.contains(&folder) {
            return;
        }
        if self.events.is_none() {
            let woken = std::sync::Arc::new(tokio::sync::Notify::new());
            let wake = std::sync::Arc::clone(&woken);
            let watcher =
                notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                    if event.is_ok() {
                        wake.notify_one();
                    }
                });
            match watcher {
                Ok(watcher) => self.events = Some(Events { watcher, woken }),
                Err(e) => {
                    tracing::debug!("following by looking every {FOLLOW_POLL:?}: {e}");
                    return;
                }
            }
        }
        if let Some(events) = &mut self.events {
            match events.watcher.watch(&folder, notify::RecursiveMode::NonRecursive) {
                Ok(()) => self.watched.push(folder),
                Err(e) => {
                    tracing::debug!("following by looking every {FOLLOW_POLL:?}: {e}");
                    self.events = None;
                }
            }
        }
    }

    /// Waits for the next lines appended to any of the files, and returns them with their
    /// prefixes, in the order the files were added.
    pub async fn next(&mut self) -> Vec<(&str, String)> {
        // Watches are set up only once following begins (a plain tail needs none); the first
        // look below comes after them, so nothing written meanwhile is missed.
        let folders: Vec<PathBuf> = self.followed.iter().map(|(_, f)| f.path.clone()).collect();
        for path in folders {
            self.watch_folder_of(&path);
        }
        loop {
            let mut any = false;
            let mut batches = Vec::with_capacity(self.followed.len());
            for (_, follower) in &mut self.followed {
                let lines = follower.poll();
                any |= !lines.is_empty();
                batches.push(lines);
            }
            if any {
                return self
                    .followed
                    .iter()
                    .zip(batches)
                    .flat_map(|((prefix, _), lines)| {
                        lines.into_iter().map(move |line| (prefix.as_str(), line))
                    })
                    .collect();
            }
            self.wait().await;
        }
    }

    /// Until something may have been written: a file-system event since the last look (all of
    /// them at once), or [`FOLLOW_POLL`] without a watcher.
    async fn wait(&mut self) {
        match &self.events {
            Some(events) => events.woken.notified().await,
            None => tokio::time::sleep(FOLLOW_POLL).await,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write as _;

    #[test]
    fn tail_reads_the_last_lines_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("line {i}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        assert_eq!(tail_lines(&path, 2).unwrap(), vec!["line 19998", "line 19999"]);
        assert_eq!(tail_lines(&path, 20_000).unwrap().len(), 20_000);
        assert_eq!(tail_lines(&path, 30_000).unwrap().len(), 20_000);
        assert!(tail_lines(&path, 0).unwrap().is_empty());
        std::fs::write(&path, "a\nb").unwrap();
        assert_eq!(tail_lines(&path, 1).unwrap(), vec!["b"]);
    }

    #[test]
    fn follower_returns_complete_new_lines_and_survives_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, "old\n").unwrap();
        let mut follower = Follower::at_end(path.clone());
        assert!(follower.poll().is_empty());
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"one\ntw").unwrap();
        assert_eq!(follower.poll(), vec!["one"]);
        file.write_all(b"o\n").unwrap();
        assert_eq!(follower.poll(), vec!["two"]);
        std::fs::rename(&path, dir.path().join("x.log.1")).unwrap();
        std::fs::write(&path, "fresh\n").unwrap();
        assert_eq!(follower.poll(), vec!["fresh"]);
    }

    #[tokio::test]
    async fn a_tail_gives_the_last_lines_then_what_is_appended_with_prefixes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
        std::fs::write(&a, "1\n2\n3\n").unwrap();
        let mut tail = Tail::new();
        assert_eq!(tail.add("a | ".into(), a.clone(), 2).unwrap(), ["2", "3"]);
        assert!(tail.add("b | ".into(), b.clone(), 2).unwrap().is_empty(), "not there yet");
        std::fs::OpenOptions::new().append(true).open(&a).unwrap().write_all(b"4\n").unwrap();
        std::fs::write(&b, "x\n").unwrap();
        let next = tail.next().await;
        assert_eq!(next, [("a | ", "4".to_owned()), ("b | ", "x".to_owned())]);
    }
}
