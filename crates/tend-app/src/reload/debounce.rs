//! Debouncing a stream of changed paths: one batch per burst of changes.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

/// The longest a burst may last before its batch is delivered anyway (a file rewritten without
/// pause, say a log inside a watched folder, must not hold a restart back forever):
/// [`MAX_BURST_FACTOR`] times the quiet time, and at least [`MIN_MAX_BURST`].
pub const MAX_BURST_FACTOR: u32 = 10;
/// See [`MAX_BURST_FACTOR`].
pub const MIN_MAX_BURST: Duration = Duration::from_secs(2);

/// Waits for the next burst of changes and returns its paths (each once, in order of first
/// change) once `quiet` has passed without another change, or once the burst has lasted its
/// maximum (see [`MAX_BURST_FACTOR`]); `None` when the sender is gone.
///
/// No timer runs while nothing changes: the wait for the first change of a burst is a plain
/// channel receive; the quiet-time timer exists only while a burst is in progress, and every
/// change inside it starts it over (a trailing debounce).
pub async fn next_batch(
    changes: &mut UnboundedReceiver<PathBuf>,
    quiet: Duration,
) -> Option<Vec<PathBuf>> {
    let first = changes.recv().await?;
    let deadline = tokio::time::Instant::now() + (quiet * MAX_BURST_FACTOR).max(MIN_MAX_BURST);
    // A checkout can change thousands of files at once: a set keeps each path once cheaply.
    let mut seen = HashSet::from([first.clone()]);
    let mut batch = vec![first];
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Some(batch);
        }
        match tokio::time::timeout(quiet.min(left), changes.recv()).await {
            Ok(Some(path)) => {
                if seen.insert(path.clone()) {
                    batch.push(path);
                }
            }
            // Quiet long enough, or the sender is gone: this burst is complete.
            Ok(None) | Err(_) => return Some(batch),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tokio::sync::mpsc;
    use tokio::time::Instant;

    use super::*;

    const QUIET: Duration = Duration::from_millis(200);

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_one_batch_after_the_quiet_time() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for (i, name) in ["a", "b", "a", "c"].into_iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                tx.send(PathBuf::from(name)).unwrap();
            }
            tx
        });
        let batch = next_batch(&mut rx, QUIET).await.unwrap();
        assert_eq!(batch, ["a", "b", "c"].map(PathBuf::from));
        // The last change came at 450ms; the batch 200ms after it.
        assert_eq!(start.elapsed(), Duration::from_millis(650));
        let tx = sender.await.unwrap();

        // The next change starts a new batch.
        tx.send(PathBuf::from("d")).unwrap();
        assert_eq!(next_batch(&mut rx, QUIET).await.unwrap(), [PathBuf::from("d")]);
        drop(tx);
        assert_eq!(next_batch(&mut rx, QUIET).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_burst_is_cut_at_its_maximum() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let start = Instant::now();
        let _writer = tokio::spawn(async move {
            loop {
                if tx.send(PathBuf::from("log")).is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        assert_eq!(next_batch(&mut rx, QUIET).await.unwrap(), [PathBuf::from("log")]);
        // 10 × 200ms is under the 2s floor.
        assert_eq!(start.elapsed(), MIN_MAX_BURST);
    }

    #[tokio::test(start_paused = true)]
    async fn changes_further_apart_than_the_quiet_time_are_separate_batches() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(PathBuf::from("a")).unwrap();
        assert_eq!(next_batch(&mut rx, QUIET).await.unwrap(), [PathBuf::from("a")]);
        tokio::time::advance(Duration::from_secs(1)).await;
        tx.send(PathBuf::from("b")).unwrap();
        assert_eq!(next_batch(&mut rx, QUIET).await.unwrap(), [PathBuf::from("b")]);
    }
}
