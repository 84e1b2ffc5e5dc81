//! A size-rotated log file that never loses or splits a line.
//!
//! [`RotatingFile`] appends whole lines to `x.log`. When the next line would take the file
//! past `max_size`, the files are shifted first (`x.log.3` → `x.log.4`, …, `x.log` →
//! `x.log.1`, the oldest dropped) and the line goes to a fresh `x.log`. A line is never cut
//! in two: a line longer than `max_size` goes whole into a fresh file of its own.
//!
//! Writes are buffered; call [`RotatingFile::flush`] after each batch of lines. The current
//! size is tracked in memory (read from disk once, at open), so a write costs a comparison
//! and a copy into the buffer: no system call per line.
//!
//! A failed write (a full disk) drops what was not known to be on disk: the buffer is
//! emptied and the file cut back to its size after the last flush that worked, so that no
//! line is left half-written. [`RotatingFile::take_dropped`] tells how many bytes that was;
//! the next write tries again.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Size of the write buffer.
const BUFFER_SIZE: usize = 64 * 1024;

/// The path of the `n`-th rotated file of `path`: `x.log` and 2 give `x.log.2`; 0 gives
/// `path` itself.
pub fn rotated_path(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// An append-only log file, rotated by size, written a whole line at a time.
///
/// Not synchronised: wrap it in a `Mutex` to share it. Dropping it flushes the buffer
/// (ignoring errors); call [`flush`](RotatingFile::flush) to see them.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    /// `None` only after a failed rotation; the next write opens `path` again.
    writer: Option<BufWriter<File>>,
    /// Bytes in the current file, including those still buffered.
    size: u64,
    /// Bytes of the current file known to be on disk: its size after the last flush that
    /// worked.
    flushed: u64,
    /// Bytes dropped by failed writes since the last [`RotatingFile::take_dropped`].
    dropped: u64,
    max_size: u64,
    max_files: u32,
}

impl RotatingFile {
    /// Opens `path` for appending, creating it and its folders if needed (the file with mode
    /// 0600 on Unix), and continues from its current size.
    ///
    /// `max_size` is the size in bytes a file may reach before rotation; `max_files` counts
    /// the current file too (5 keeps `x.log` and `x.log.1` to `x.log.4`); 1 (or 0) keeps
    /// only `x.log`, emptied at each rotation.
    ///
    /// # Errors
    /// If the folder cannot be created or the file cannot be opened.
    pub fn open(path: &Path, max_size: u64, max_files: u32) -> io::Result<RotatingFile> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let (writer, size) = open_append(path)?;
        Ok(RotatingFile {
            path: path.to_path_buf(),
            writer: Some(writer),
            size,
            flushed: size,
            dropped: 0,
            max_size,
            max_files: max_files.max(1),
        })
    }

    /// Writes one complete line; the caller includes its trailing newline.
    ///
    /// If the file is not empty and the line would take it past `max_size`, the files are
    /// rotated first, so the line is never split between two files.
    ///
    /// # Errors
    /// If rotating or writing fails. A failed rotation leaves the files as they were where
    /// possible, and the next write tries again to open the current file. On an error, the
    /// line and what was not yet flushed are dropped (see [`RotatingFile::take_dropped`]).
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.write_parts(&[line])
    }

    /// Writes a block of complete lines (each ending with `\n`) in one go when it fits in the
    /// current file, else line by line so that rotation still falls between lines.
    ///
    /// # Errors
    /// As [`RotatingFile::write_line`].
    pub fn write_lines(&mut self, block: &[u8]) -> io::Result<()> {
        if self.size.saturating_add(block.len() as u64) <= self.max_size {
            return self.write_parts(&[block]);
        }
        let mut written = 0;
        for line in block.split_inclusive(|&b| b == b'\n') {
            if let Err(error) = self.write_parts(&[line]) {
                // The lines after it are not tried: dropped too.
                let rest = block.len().saturating_sub(written + line.len()) as u64;
                self.dropped = self.dropped.saturating_add(rest);
                return Err(error);
            }
            written += line.len();
        }
        Ok(())
    }

    /// Writes one complete line given in parts (e.g. the text and its newline), with the same
    /// guarantees as [`RotatingFile::write_line`] and no copy.
    ///
    /// # Errors
    /// As [`RotatingFile::write_line`].
    pub fn write_parts(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        let result = self.try_write_parts(parts, len);
        if result.is_err() {
            self.discard(len);
        }
        result
    }

    fn try_write_parts(&mut self, parts: &[&[u8]], len: u64) -> io::Result<()> {
        if self.size > 0 && self.size.saturating_add(len) > self.max_size {
            self.rotate()?;
        }
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => {
                let (writer, size) = open_append(&self.path)?;
                self.size = size;
                self.flushed = size;
                writer
            }
        };
        let writer = self.writer.insert(writer);
        for part in parts {
            writer.write_all(part)?;
        }
        self.size += len;
        Ok(())
    }

    /// Writes the buffered lines to the file.
    ///
    /// # Errors
    /// If the OS refuses the write: what was not yet flushed is dropped then (see
    /// [`RotatingFile::take_dropped`]).
    pub fn flush(&mut self) -> io::Result<()> {
        let Some(writer) = &mut self.writer else { return Ok(()) };
        match writer.flush() {
            Ok(()) => {
                self.flushed = self.size;
                Ok(())
            }
            Err(error) => {
                self.discard(0);
                Err(error)
            }
        }
    }

    /// The bytes that failed writes dropped since the last call.
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    /// After a failed write of `extra` bytes: drops them and whatever is not known to be on
    /// disk, cutting the file back to its last flushed size so that no line is left torn.
    fn discard(&mut self, extra: u64) {
        let lost = self.size.saturating_sub(self.flushed).saturating_add(extra);
        self.dropped = self.dropped.saturating_add(lost);
        if let Some(writer) = self.writer.take() {
            let (file, _unwritten) = writer.into_parts();
            if file.metadata().is_ok_and(|meta| meta.len() > self.flushed) {
                let _ = file.set_len(self.flushed);
            }
            self.writer = Some(BufWriter::with_capacity(BUFFER_SIZE, file));
        }
        self.size = self.flushed;
    }

    /// Rotates now, whatever the size: shifts the files and starts an empty current file.
    ///
    /// # Errors
    /// If flushing, renaming, removing or opening fails.
    pub fn rotate(&mut self) -> io::Result<()> {
        if let Some(writer) = &mut self.writer {
            writer.flush()?;
        }
        // Closed before renaming: Windows does not rename open files.
        self.writer = None;
        if self.max_files <= 1 {
            let (writer, _) = open_append(&self.path)?;
            writer.get_ref().set_len(0)?;
            self.writer = Some(writer);
            self.size = 0;
            self.flushed = 0;
            return Ok(());
        }
        let oldest = self.max_files - 1;
        ignore_not_found(fs::remove_file(rotated_path(&self.path, oldest)))?;
        for n in (1..oldest).rev() {
            ignore_not_found(fs::rename(
                rotated_path(&self.path, n),
                rotated_path(&self.path, n + 1),
            ))?;
        }
        ignore_not_found(fs::rename(&self.path, rotated_path(&self.path, 1)))?;
        let (writer, size) = open_append(&self.path)?;
        self.writer = Some(writer);
        self.size = size;
        self.flushed = size;
        Ok(())
    }

    /// The path of the current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the current file, counting those not yet flushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The size past which the file is rotated.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// How many files are kept, counting the current one.
    pub fn max_files(&self) -> u32 {
        self.max_files
    }
}

/// Each `write` call is written as one unit with [`RotatingFile::write_line`]: it is never
/// split between two files. Fit for loggers that write one whole record per call (like
/// `tracing-subscriber`'s formatter); `write!` with arguments makes several calls.
impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        RotatingFile::flush(self)
    }
}

/// Opens `path` for appending (creating it, mode 0600 on Unix) and returns its size. Never
/// waits on a FIFO (one is refused, as a socket is: nobody would read the log).
fn open_append(path: &Path) -> io::Result<(BufWriter<File>, u64)> {
    let not_a_log = |kind: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is {kind}, not a log file; remove it", path.display()),
        )
    };
    if let Some(kind) =
        fs::symlink_metadata(path).ok().and_then(|m| crate::os::pipe_kind(&m.file_type()))
    {
        return Err(not_a_log(kind));
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    crate::os::private_file(&mut options);
    // Should one appear meanwhile, the open fails instead of waiting for a reader.
    crate::os::never_wait(&mut options);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if let Some(kind) = crate::os::pipe_kind(&meta.file_type()) {
        return Err(not_a_log(kind));
    }
    let size = meta.len();
    Ok((BufWriter::with_capacity(BUFFER_SIZE, file), size))
}

fn ignore_not_found(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn exists(path: &Path) -> bool {
        path.exists()
    }

    #[test]
    fn is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<RotatingFile>();
    }

    #[test]
    fn rotated_paths() {
        let p = Path::new("/x/logs/web.log");
        assert_eq!(rotated_path(p, 0), PathBuf::from("/x/logs/web.log"));
        assert_eq!(rotated_path(p, 1), PathBuf::from("/x/logs/web.log.1"));
        assert_eq!(rotated_path(p, 12), PathBuf::from("/x/logs/web.log.12"));
    }

    #[test]
    fn creates_folders_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/web.log");
        let mut f = RotatingFile::open(&path, 1000, 3).unwrap();
        f.write_line(b"one\n").unwrap();
        f.write_line(b"two\n").unwrap();
        assert_eq!(f.size(), 8);
        f.flush().unwrap();
        assert_eq!(read(&path), "one\ntwo\n");
        assert!(!exists(&rotated_path(&path, 1)));
    }

    #[cfg(unix)]
    #[test]
    fn mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let _f = RotatingFile::open(&path, 1000, 3).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn rotates_at_the_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        // Lines of 5 bytes, max 10: exactly two lines fit.
        let mut f = RotatingFile::open(&path, 10, 5).unwrap();
        f.write_line(b"aaaa\n").unwrap();
        f.write_line(b"bbbb\n").unwrap();
        assert_eq!(f.size(), 10);
        assert!(!exists(&rotated_path(&path, 1)), "exactly max_size does not rotate");
        f.write_line(b"cccc\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "aaaa\nbbbb\n");
        assert_eq!(read(&path), "cccc\n");
        assert_eq!(f.size(), 5);
    }

    #[test]
    fn never_splits_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 64, 100).unwrap();
        let lines: Vec<String> =
            (0..200).map(|i| format!("line {i} {}\n", "x".repeat(i % 23))).collect();
        for line in &lines {
            f.write_line(line.as_bytes()).unwrap();
        }
        f.flush().unwrap();
        let mut all = Vec::new();
        for n in (0..100).rev() {
            let p = rotated_path(&path, n);
            if !exists(&p) {
                continue;
            }
            let text = read(&p);
            assert!(text.len() <= 64, "{} has {} bytes", p.display(), text.len());
            assert!(text.ends_with('\n'));
            all.extend(text.split_inclusive('\n').map(str::to_owned));
        }
        assert_eq!(all, lines, "every line whole, in order, nothing lost");
    }

    #[test]
    fn blocks_of_lines_never_split_a_line_either() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 64, 100).unwrap();
        let lines: Vec<String> =
            (0..200).map(|i| format!("line {i} {}\n", "x".repeat(i % 23))).collect();
        for block in lines.chunks(7) {
            f.write_lines(block.concat().as_bytes()).unwrap();
        }
        f.flush().unwrap();
        let mut all = Vec::new();
        for n in (0..100).rev() {
            let p = rotated_path(&path, n);
            if exists(&p) {
                let text = read(&p);
                assert!(text.len() <= 64, "{} has {} bytes", p.display(), text.len());
                all.extend(text.split_inclusive('\n').map(str::to_owned));
            }
        }
        assert_eq!(all, lines, "every line whole, in order, nothing lost");
    }

    #[test]
    fn drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 2, 3).unwrap();
        for c in ["a", "b", "c", "d", "e"] {
            f.write_line(format!("{c}\n").as_bytes()).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(read(&path), "e\n");
        assert_eq!(read(&rotated_path(&path, 1)), "d\n");
        assert_eq!(read(&rotated_path(&path, 2)), "c\n");
        assert!(!exists(&rotated_path(&path, 3)), "max_files counts the current file");
    }

    #[test]
    fn max_files_one_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 4, 1).unwrap();
        f.write_line(b"aa\n").unwrap();
        f.write_line(b"bb\n").unwrap();
        f.write_line(b"cc\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&path), "cc\n");
        assert!(!exists(&rotated_path(&path, 1)));
        // 0 behaves as 1.
        let mut f = RotatingFile::open(&path, 4, 0).unwrap();
        assert_eq!(f.max_files(), 1);
        f.write_line(b"dd\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&path), "dd\n");
        assert!(!exists(&rotated_path(&path, 1)));
    }

    #[test]
    fn long_line_goes_whole_into_a_fresh_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 10, 5).unwrap();
        let long = format!("{}\n", "L".repeat(25));
        // Into an empty file: written whole, no rotation needed.
        f.write_line(long.as_bytes()).unwrap();
        f.flush().unwrap();
        assert_eq!(read(&path), long);
        assert!(!exists(&rotated_path(&path, 1)));
        // After it, the next line starts a fresh file.
        f.write_line(b"a\n").unwrap();
        // A long line after a short one: rotated, then written whole.
        f.write_line(long.as_bytes()).unwrap();
        f.write_line(b"b\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&rotated_path(&path, 3)), long);
        assert_eq!(read(&rotated_path(&path, 2)), "a\n");
        assert_eq!(read(&rotated_path(&path, 1)), long);
        assert_eq!(read(&path), "b\n");
    }

    #[test]
    fn reopening_continues_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        {
            let mut f = RotatingFile::open(&path, 10, 3).unwrap();
            f.write_line(b"1234\n").unwrap();
            // Dropped without an explicit flush: the buffer is flushed on drop.
        }
        let mut f = RotatingFile::open(&path, 10, 3).unwrap();
        assert_eq!(f.size(), 5);
        f.write_line(b"5678\n").unwrap();
        assert!(!exists(&rotated_path(&path, 1)));
        f.write_line(b"9\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "1234\n5678\n");
        assert_eq!(read(&path), "9\n");
    }

    #[test]
    fn reopening_an_oversized_file_rotates_on_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        fs::write(&path, "0123456789abcdef\n").unwrap();
        let mut f = RotatingFile::open(&path, 10, 2).unwrap();
        f.write_line(b"x\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "0123456789abcdef\n");
        assert_eq!(read(&path), "x\n");
    }

    #[test]
    fn survives_the_current_file_being_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 4, 3).unwrap();
        f.write_line(b"aa\n").unwrap();
        f.flush().unwrap();
        fs::remove_file(&path).unwrap();
        // Rotation finds no current file to rename, and starts a fresh one.
        f.write_line(b"bbb\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&path), "bbb\n");
        assert!(!exists(&rotated_path(&path, 1)));
    }

    #[test]
    fn write_impl_keeps_each_record_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tend.log");
        let mut f = RotatingFile::open(&path, 8, 3).unwrap();
        f.write_all(b"abcde\n").unwrap();
        f.write_all(b"fghij\nklm\n").unwrap();
        Write::flush(&mut f).unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "abcde\n");
        assert_eq!(read(&path), "fghij\nklm\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_flush_drops_and_counts_what_was_not_written() {
        // /dev/full takes the open and refuses every write with ENOSPC.
        let mut f = RotatingFile::open(Path::new("/dev/full"), 1 << 20, 1).unwrap();
        f.write_line(b"one\n").unwrap();
        f.write_lines(b"two\nthree\n").unwrap();
        let error = f.flush().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(f.take_dropped(), 14);
        assert_eq!(f.take_dropped(), 0, "counted once");
        assert_eq!(f.size(), 0);
        // Nothing is kept for later: the next flush tries only what came after.
        f.write_line(b"four\n").unwrap();
        assert!(f.flush().is_err());
        assert_eq!(f.take_dropped(), 5);
    }

    #[test]
    fn explicit_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut f = RotatingFile::open(&path, 1000, 3).unwrap();
        f.write_line(b"a\n").unwrap();
        f.rotate().unwrap();
        f.write_line(b"b\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "a\n");
        assert_eq!(read(&path), "b\n");
    }
}
