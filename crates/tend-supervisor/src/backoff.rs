//! Exponential backoff between crash restarts.

use std::iter::FusedIterator;
use std::time::Duration;

/// How long to wait before restarting a crashed program: `initial × factor^n`, capped at `max`,
/// where `n` counts the consecutive crashes since the last stable run (one that stayed up for
/// at least `reset_after`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first restart after a crash. Default 1s.
    pub initial: Duration,
    /// Upper bound of every delay. Default 1m.
    pub max: Duration,
    /// Growth per consecutive crash. Default 2.0; 1.0 gives a constant delay.
    pub factor: f64,
    /// A run that stays up this long resets the delay to `initial`. Default 30s.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 2.0,
            reset_after: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay after the `n`-th consecutive crash, counting from 0: `initial × factor^n`,
    /// capped at `max`.
    ///
    /// Never panics or overflows, whatever `n` and the fields hold: a result that is not a
    /// number (a NaN factor) or too large is `max`, a negative one (a negative factor) is zero.
    pub fn delay(&self, n: u32) -> Duration {
        let max_nanos = self.max.as_nanos() as f64;
        let nanos = self.initial.as_nanos() as f64 * self.factor.powf(f64::from(n));
        if nanos.is_nan() || nanos >= max_nanos {
            return self.max;
        }
        if nanos <= 0.0 {
            return Duration::ZERO;
        }
        let delay = if nanos < u64::MAX as f64 {
            Duration::from_nanos(nanos.round() as u64)
        } else {
            // Beyond ~584 years of nanoseconds; only reachable with a `max` that large.
            Duration::try_from_secs_f64(nanos / 1e9).unwrap_or(self.max)
        };
        delay.min(self.max)
    }

    /// The delays after the 1st, 2nd, 3rd… consecutive crash: `delay(0)`, `delay(1)`, …
    /// The iterator never ends.
    pub fn iter(&self) -> BackoffIter {
        BackoffIter { backoff: *self, n: 0 }
    }
}

impl IntoIterator for &Backoff {
    type Item = Duration;
    type IntoIter = BackoffIter;

    fn into_iter(self) -> BackoffIter {
        self.iter()
    }
}

/// The endless sequence of backoff delays; see [`Backoff::iter`].
#[derive(Debug, Clone)]
pub struct BackoffIter {
    backoff: Backoff,
    n: u32,
}

impl Iterator for BackoffIter {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.backoff.delay(self.n);
        self.n = self.n.saturating_add(1);
        Some(delay)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl FusedIterator for BackoffIter {}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn defaults_match_the_design() {
        let b = Backoff::default();
        assert_eq!(b.initial, secs(1));
        assert_eq!(b.max, secs(60));
        assert_eq!(b.factor, 2.0);
        assert_eq!(b.reset_after, secs(30));
    }

    #[test]
    fn grows_by_factor_and_caps_at_max() {
        let delays: Vec<_> = Backoff::default().iter().take(9).collect();
        assert_eq!(
            delays,
            [secs(1), secs(2), secs(4), secs(8), secs(16), secs(32), secs(60), secs(60), secs(60)]
        );
    }

    #[test]
    fn factor_one_is_constant() {
        let b = Backoff { factor: 1.0, ..Backoff::default() };
        assert!(b.iter().take(100).all(|d| d == secs(1)));
        assert_eq!(b.delay(u32::MAX), secs(1));
    }

    #[test]
    fn fractional_values_are_exact_enough() {
        let b = Backoff { initial: Duration::from_millis(100), factor: 1.5, ..Backoff::default() };
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(1), Duration::from_millis(150));
        assert_eq!(b.delay(2), Duration::from_millis(225));
    }

    #[test]
    fn huge_n_and_extreme_fields_do_not_panic() {
        let b = Backoff::default();
        assert_eq!(b.delay(u32::MAX), secs(60));
        let huge = Backoff { max: Duration::MAX, factor: 10.0, ..Backoff::default() };
        assert_eq!(huge.delay(u32::MAX), Duration::MAX);
        assert_eq!(huge.delay(10), Duration::from_secs(10_000_000_000));
        assert_eq!(huge.delay(11).as_secs(), 100_000_000_000);
        let nan = Backoff { factor: f64::NAN, ..Backoff::default() };
        assert_eq!(nan.delay(3), secs(60));
        let inf = Backoff { initial: Duration::ZERO, factor: f64::INFINITY, ..Backoff::default() };
        assert_eq!(inf.delay(3), secs(60));
        let negative = Backoff { factor: -2.0, ..Backoff::default() };
        assert_eq!(negative.delay(1), Duration::ZERO);
        let zero = Backoff { initial: Duration::ZERO, ..Backoff::default() };
        assert_eq!(zero.delay(10), Duration::ZERO);
    }

    #[test]
    fn initial_above_max_is_capped() {
        let b = Backoff { initial: secs(120), ..Backoff::default() };
        assert_eq!(b.delay(0), secs(60));
    }

    #[test]
    fn iterator_saturates_instead_of_wrapping() {
        let mut it = BackoffIter { backoff: Backoff::default(), n: u32::MAX - 1 };
        assert_eq!(it.next(), Some(secs(60)));
        assert_eq!(it.next(), Some(secs(60)));
        assert_eq!(it.next(), Some(secs(60)));
    }
}
