//! Line-by-line output forwarding.
//!
//! A program's stdout and stderr are read concurrently, cut into lines and handed to an
//! [`OutputSink`] one line at a time. Lines keep their bytes exactly, invalid UTF-8 included
//! (a sink that needs text converts them itself); lines up to [`MAX_LINE`] arrive whole,
//! longer ones are split into pieces of at most that size (never dropped); a last line
//! without a newline is delivered when the stream ends.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt as _};

/// The longest line delivered whole (1 MiB, without its newline).
pub const MAX_LINE: usize = 1024 * 1024;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Where a program's output lines go.
///
/// `line` is called once per line, without the line's newline; `flush` after each batch of lines
/// read in one go, so an implementation may buffer in between. Lines are bytes as the program
/// wrote them: they need not be UTF-8.
pub trait OutputSink: Send + Sync {
    /// One line of output, without its trailing newline.
    fn line(&self, stream: Stream, line: &[u8]);

    /// Several complete lines at once: `block` is one or more lines, each ending with `\n`,
    /// none longer than [`MAX_LINE`]. The forwarder passes runs of ordinary lines this way so
    /// that a sink can write them in one go; the default hands them to
    /// [`line`](OutputSink::line) one by one.
    fn lines(&self, stream: Stream, block: &[u8]) {
        let block = block.strip_suffix(b"\n").unwrap_or(block);
        for line in block.split(|&b| b == b'\n') {
            self.line(stream, line);
        }
    }
    /// The end of a batch: make the lines so far visible.
    fn flush(&self) {}
}

/// An [`OutputSink`] that writes lines to tend's own stdout and stderr unchanged.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdioSink;

impl OutputSink for StdioSink {
    fn line(&self, stream: Stream, line: &[u8]) {
        // A closed terminal must not stop the program: errors are ignored.
        let _ = match stream {
            Stream::Stdout => write_line(&mut std::io::stdout().lock(), line),
            Stream::Stderr => write_line(&mut std::io::stderr().lock(), line),
        };
    }
}

fn write_line(out: &mut impl std::io::Write, line: &[u8]) -> std::io::Result<()> {
    out.write_all(line)?;
    out.write_all(b"\n")
}

/// An [`OutputSink`] that keeps every line in memory; useful in tests and for short commands.
#[derive(Debug, Default, Clone)]
pub struct MemorySink {
    lines: Arc<Mutex<Vec<RawLine>>>,
}

/// A line as a [`MemorySink`] received it.
type RawLine = (Stream, Vec<u8>);

impl MemorySink {
    /// The lines received so far, as text (invalid UTF-8 replaced).
    pub fn lines(&self) -> Vec<(Stream, String)> {
        self.raw_lines()
            .into_iter()
            .map(|(stream, line)| (stream, String::from_utf8_lossy(&line).into_owned()))
            .collect()
    }

    /// The lines received so far, as the bytes they were.
    pub fn raw_lines(&self) -> Vec<RawLine> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl OutputSink for MemorySink {
    fn line(&self, stream: Stream, line: &[u8]) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push((stream, line.to_vec()));
        }
    }
}

/// Cuts a byte stream into lines. Pure: feed it bytes, it calls back with each complete line.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    max: usize,
}

impl LineSplitter {
    /// A splitter delivering lines of at most `max` bytes whole.
    pub fn new(max: usize) -> Self {
        LineSplitter { pending: Vec::new(), max: max.max(4) }
    }

    /// Feeds `data`; calls `emit` for every complete line (without its newline) and for every
    /// `max`-sized piece of an over-long line.
    pub fn push(&mut self, mut data: &[u8], emit: &mut impl FnMut(&[u8])) {
        while let Some(pos) = memchr::memchr(b'\n', data) {
            let (line, rest) = (&data[..pos], &data[pos + 1..]);
            if self.pending.is_empty() {
                self.emit_bounded(line, emit);
            } else {
                self.pending.extend_from_slice(line);
                let whole = std::mem::take(&mut self.pending);
                self.emit_bounded(&whole, emit);
                self.pending = whole;
                self.pending.clear();
            }
            data = rest;
        }
        self.pending.extend_from_slice(data);
        // Deliver full pieces of an over-long line as soon as they are complete.
        while self.pending.len() > self.max {
            let cut = char_boundary(&self.pending, self.max);
            emit(&self.pending[..cut]);
            self.pending.drain(..cut);
        }
    }

    /// Whether part of a line is waiting for its end.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Delivers what is left (a last line without newline), if anything.
    pub fn finish(&mut self, emit: &mut impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit_bounded(&rest, emit);
        }
    }

    fn emit_bounded(&self, mut line: &[u8], emit: &mut impl FnMut(&[u8])) {
        while line.len() > self.max {
            let cut = char_boundary(line, self.max);
            emit(&line[..cut]);
            line = &line[cut..];
        }
        emit(line);
    }
}

/// The largest cut ≤ `max` that does not split a UTF-8 sequence (or `max` if there is none
/// within 3 bytes, as in binary data).
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    (max.saturating_sub(3)..=max)
        .rev()
        .find(|&i| i < bytes.len() && (bytes[i] & 0xC0) != 0x80)
        .filter(|&i| i > 0)
        .unwrap_or(max)
}

/// Reads `reader` to its end, forwarding each line to `sink`.
pub(crate) async fn forward<R: AsyncRead + Unpin>(
    mut reader: R,
    stream: Stream,
    sink: Arc<dyn OutputSink>,
) {
    // Start small (an idle program costs little memory) and grow while reads fill the buffer
    // (a chatty one gets large reads).
    const FIRST: usize = 4 * 1024;
    const LARGEST: usize = 256 * 1024;
    let mut splitter = LineSplitter::new(MAX_LINE);
    let mut buf = vec![0u8; FIRST];
    let mut deliver = |line: &[u8]| sink.line(stream, line);
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                let mut data = &buf[..n];
                // Finish a line begun in an earlier read, then pass the complete lines of this
                // read as one block (a read is shorter than MAX_LINE, so no line in it is too
                // long); the rest goes line by line.
                if splitter.has_pending() {
                    let end = memchr::memchr(b'\n', data).map_or(data.len(), |p| p + 1);
                    splitter.push(&data[..end], &mut deliver);
                    data = &data[end..];
                }
                if let Some(last) = memchr::memrchr(b'\n', data) {
                    let (block, rest) = data.split_at(last + 1);
                    if block.len() <= MAX_LINE {
                        sink.lines(stream, block);
                    } else {
                        splitter.push(block, &mut deliver);
                    }
                    data = rest;
                }
                splitter.push(data, &mut deliver);
                sink.flush();
                if n == buf.len() && buf.len() < LARGEST {
                    buf.resize(buf.len() * 2, 0);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    splitter.finish(&mut deliver);
    sink.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(max);
        for c in chunks {
            s.push(c, &mut |l| out.push(l.to_vec()));
        }
        s.finish(&mut |l| out.push(l.to_vec()));
        out
    }

    #[tokio::test]
    async fn forwarding_matches_line_by_line_splitting_across_read_sizes() {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for i in 0..20_000usize {
            let line = match i % 997 {
                0 => vec![b'z'; 70_000], // longer than one read
                1 => b"bad \xff utf8".to_vec(),
                _ => format!("line {i} {}", "x".repeat(i % 150)).into_bytes(),
            };
            input.extend_from_slice(&line);
            expected.push(line);
            input.push(b'\n');
        }
        input.extend_from_slice(b"tail without newline");
        expected.push(b"tail without newline".to_vec());
        let sink = MemorySink::default();
        forward(std::io::Cursor::new(input), Stream::Stdout, Arc::new(sink.clone())).await;
        let got: Vec<Vec<u8>> = sink.raw_lines().into_iter().map(|(_, l)| l).collect();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "forwarded lines differ");
    }

    #[test]
    fn lines_across_chunks() {
        let out = split(&[b"ab", b"c\nde", b"f\n", b"tail"], 100);
        assert_eq!(out, vec![b"abc".to_vec(), b"def".to_vec(), b"tail".to_vec()]);
    }

    #[test]
    fn empty_lines_are_kept() {
        assert_eq!(split(&[b"\n\nx\n"], 10), vec![b"".to_vec(), b"".to_vec(), b"x".to_vec()]);
    }

    #[test]
    fn long_lines_are_split_not_dropped() {
        let line = vec![b'x'; 25];
        let mut input = line.clone();
        input.push(b'\n');
        let out = split(&[&input], 10);
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 5]);
        assert_eq!(out.concat(), line);
    }

    #[test]
    fn long_lines_across_chunks() {
        let out = split(&[b"xxxxxxx", b"xxxxxxx", b"x\nyy"], 10);
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 5, 2]);
    }

    #[test]
    fn exact_max_is_whole() {
        let mut input = vec![b'a'; 10];
        input.push(b'\n');
        assert_eq!(split(&[&input], 10), vec![vec![b'a'; 10]]);
    }

    #[test]
    fn splits_on_char_boundaries() {
        let text = "ééééé\n"; // 2 bytes each
        let out = split(&[text.as_bytes()], 5);
        for piece in &out {
            assert!(std::str::from_utf8(piece).is_ok(), "{piece:?}");
        }
        assert_eq!(out.concat(), "ééééé".as_bytes());
    }
}
