//! A bounded queue in front of a writer that may stall: a terminal nobody reads (stdout into
//! a FIFO without a reader, a pty held by Ctrl-S, a stalled ssh session).
//!
//! [`StallQueue::push`] never waits: it appends to the queue, or, when the queue already holds
//! its capacity in bytes, drops the text and counts its lines. One thread of its own writes
//! the queue out, so only that thread ever blocks on the writer. After lines were dropped, a
//! notice says how many (`… 1234 lines not shown; see tend logs`) where they would have been.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A queue of text for one writer, written out by a thread of its own. Cheap to clone; every
/// clone feeds the same queue.
#[derive(Debug, Clone)]
pub struct StallQueue {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when there is something to write.
    ready: Condvar,
    /// Signalled when the writer has written everything it was given.
    idle: Condvar,
    capacity: usize,
    /// Where the dropped lines can be read, for the notice (`tend logs`).
    hint: String,
}

#[derive(Debug, Default)]
struct State {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes in `chunks`.
    bytes: usize,
    /// Lines dropped since the last notice.
    dropped: u64,
    /// Whether the writer thread is writing a batch it took from the queue.
    busy: bool,
    /// Whether the writer thread sleeps, waiting for text: only then is it woken (no wake-up
    /// per line while it writes).
    waiting: bool,
}

impl StallQueue {
    /// A queue of at most `capacity` bytes in front of `out`, written by a new thread named
    /// `name`. `hint` says where dropped lines can be read (`tend logs`).
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start(
        name: &str,
        out: Box<dyn Write + Send>,
        capacity: usize,
        hint: &str,
    ) -> std::io::Result<StallQueue> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            idle: Condvar::new(),
            capacity,
            hint: hint.to_owned(),
        });
        let writer = Arc::clone(&shared);
        std::thread::Builder::new().name(name.to_owned()).spawn(move || writer.run(out))?;
        Ok(StallQueue { shared })
    }

    /// Queues `len` bytes holding `lines` whole lines, which `fill` appends to the buffer it
    /// is given; when they do not fit, `fill` is not called and the lines are counted as
    /// dropped. Never waits for the writer. Text larger than the capacity is taken when the
    /// queue is empty.
    pub fn push_with(&self, len: usize, lines: u64, fill: impl FnOnce(&mut Vec<u8>)) {
        let mut state = self.shared.lock();
        if state.bytes > 0 && state.bytes.saturating_add(len) > self.shared.capacity {
            state.dropped = state.dropped.saturating_add(lines);
            return;
        }
        if state.dropped > 0 {
            let notice = notice(std::mem::take(&mut state.dropped), &self.shared.hint);
            state.bytes += notice.len();
            state.chunks.push_back(notice);
        }
        let mut chunk = Vec::with_capacity(len);
        fill(&mut chunk);
        state.bytes += chunk.len();
        state.chunks.push_back(chunk);
        let wake = std::mem::take(&mut state.waiting);
        drop(state);
        if wake {
            self.shared.ready.notify_one();
        }
    }

    /// Queues `text` (`lines` whole lines); see [`StallQueue::push_with`].
    pub fn push(&self, text: &[u8], lines: u64) {
        self.push_with(text.len(), lines, |buf| buf.extend_from_slice(text));
    }

    /// Waits until everything queued so far is written, for at most `timeout` (a stalled
    /// writer is not waited for). Returns whether it was.
    pub fn drain(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if state.chunks.is_empty() && !state.busy && state.dropped == 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .idle
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writer thread: takes everything queued, writes it, and again. Write errors (a
    /// closed terminal) are ignored: the text is gone either way, and the programs go on.
    fn run(&self, out: Box<dyn Write + Send>) {
        // A batch of small chunks (single lines) goes out in few writes.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
        loop {
            let batch = {
                let mut state = self.lock();
                state.busy = false;
                loop {
                    if !state.chunks.is_empty() {
                        break;
                    }
                    if state.dropped > 0 {
                        // Dropped lines and nothing after them: say so now, not at the next line.
                        let notice = notice(std::mem::take(&mut state.dropped), &self.hint);
                        state.bytes += notice.len();
                        state.chunks.push_back(notice);
                        break;
                    }
                    self.idle.notify_all();
                    state.waiting = true;
                    state = self.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                    state.waiting = false;
                }
                state.busy = true;
                state.bytes = 0;
                std::mem::take(&mut state.chunks)
            };
            for chunk in &batch {
                let _ = out.write_all(chunk);
            }
            let _ = out.flush();
        }
    }
}

/// `… 1234 lines not shown; see tend logs`, as a line.
fn notice(dropped: u64, hint: &str) -> Vec<u8> {
    let noun = if dropped == 1 { "line" } else { "lines" };
    format!("… {dropped} {noun} not shown (the terminal did not keep up); see {hint}\n")
        .into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A writer that blocks until the gate opens, then collects into a shared buffer.
    struct Gated {
        gate: Arc<(Mutex<bool>, Condvar)>,
        got: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (open, cv) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            self.got.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_writer_never_blocks_the_producer_and_drops_are_counted() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let got = Arc::new(Mutex::new(Vec::new()));
        let out = Gated { gate: Arc::clone(&gate), got: Arc::clone(&got) };
        let queue = StallQueue::start("test", Box::new(out), 100, "tend logs").unwrap();
        let started = Instant::now();
        // 10 000 lines of 10 bytes into a queue of 100 bytes whose writer is stuck.
        for i in 0..10_000 {
            queue.push(format!("line {i:04}\n").as_bytes(), 1);
        }
        assert!(started.elapsed() < Duration::from_secs(5), "pushing never waits");
        assert!(!queue.drain(Duration::from_millis(10)), "a stalled writer is not waited for");
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        assert!(queue.drain(Duration::from_secs(10)));
        let text = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines.iter().filter(|l| l.starts_with("line ")).count();
        let notices: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with('…')).collect();
        // One notice per run of dropped lines (the writer may take a batch while it fills).
        assert!(!notices.is_empty() && notices.len() <= 3, "{text}");
        let dropped: usize =
            notices.iter().map(|n| n.split(' ').nth(1).unwrap().parse::<usize>().unwrap()).sum();
        assert_eq!(shown + dropped, 10_000, "every line is shown or counted: {text}");
        assert!(notices.iter().all(|n| n.ends_with("see tend logs")), "{notices:?}");
        // The first lines (queued before the queue was full) come first, in order.
        assert_eq!(lines[0], "line 0000");
    }
}
