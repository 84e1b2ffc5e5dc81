//! The death tally: a bounded record of how a program's recent runs ended.

use std::collections::VecDeque;
use std::time::Duration;

use crate::Exit;

/// What a run's end meant to the restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeathKind {
    /// Any exit other than 0 and the restart exit code, a signal, or a failed spawn. Counts
    /// toward `max_restarts` and grows the backoff.
    Crash,
    /// Exit code 0. Grows the backoff when `restart = "always"` restarts it, but never counts
    /// toward `max_restarts`.
    Clean,
    /// The restart exit code (42 by default): the program asked to be restarted. Neutral: it
    /// neither counts nor grows the backoff.
    ExitCode,
    /// tend stopped the run (a stop or a requested restart). Neutral like [`DeathKind::ExitCode`].
    Stopped,
}

/// One entry of the [`DeathTally`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Death {
    /// When the run ended, as time since the supervisor's epoch.
    pub at: Duration,
    /// How long the run had been up (zero for a failed spawn).
    pub uptime: Duration,
    /// How it ended; `None` when the program could not be spawned at all.
    pub exit: Option<Exit>,
    /// What the end meant to the restart policy.
    pub kind: DeathKind,
}

/// A bounded record of a program's most recent ends, oldest first (after s6's `dtally`).
///
/// The restart policy is a pure function of this tally (see [`decide`](crate::decide)): how many
/// crashes fell inside the `max_restarts` window, and how many consecutive crashes happened since
/// the last stable run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathTally {
    deaths: VecDeque<Death>,
    capacity: usize,
}

impl Default for DeathTally {
    fn default() -> Self {
        DeathTally::with_capacity(DeathTally::DEFAULT_CAPACITY)
    }
}

impl DeathTally {
    /// The number of deaths kept by default.
    pub const DEFAULT_CAPACITY: usize = 64;

    /// The largest capacity [`DeathTally::for_max_restarts`] picks, so that an absurd
    /// `max_restarts.count` cannot make the tally grow without bound.
    pub const MAX_CAPACITY: usize = 65_536;

    /// An empty tally keeping the default number of deaths.
    pub fn new() -> Self {
        DeathTally::default()
    }

    /// An empty tally keeping at most `capacity` deaths (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        DeathTally { deaths: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// An empty tally big enough to tell when `count` crashes have been exceeded: it keeps
    /// `count + 1` deaths, at least [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) and at most
    /// [`MAX_CAPACITY`](Self::MAX_CAPACITY).
    pub fn for_max_restarts(count: u32) -> Self {
        let wanted = usize::try_from(count).unwrap_or(usize::MAX).saturating_add(1);
        DeathTally::with_capacity(wanted.clamp(Self::DEFAULT_CAPACITY, Self::MAX_CAPACITY))
    }

    /// Appends a death, forgetting the oldest one when full.
    pub fn record(&mut self, death: Death) {
        if self.deaths.len() >= self.capacity {
            self.deaths.pop_front();
        }
        self.deaths.push_back(death);
    }

    /// Forgets every death (a program started afresh by hand gets a fresh budget).
    pub fn clear(&mut self) {
        self.deaths.clear();
    }

    /// The recorded deaths, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Death> + ExactSizeIterator {
        self.deaths.iter()
    }

    /// The most recent death.
    pub fn last(&self) -> Option<&Death> {
        self.deaths.back()
    }

    /// The number of recorded deaths.
    pub fn len(&self) -> usize {
        self.deaths.len()
    }

    /// Whether no death is recorded.
    pub fn is_empty(&self) -> bool {
        self.deaths.is_empty()
    }

    /// The most deaths this tally keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of crashes that ended less than `within` before `now`: the window is
    /// `(now - within, now]`.
    pub fn crashes_within(&self, now: Duration, within: Duration) -> u32 {
        let count = self
            .deaths
            .iter()
            .filter(|d| d.kind == DeathKind::Crash && now.saturating_sub(d.at) < within)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The number of consecutive ends that grow the backoff (crashes and clean exits), counted
    /// back from the newest to the most recent run that was up for at least `reset_after`,
    /// that run included: its end is the first of a new streak. Ends that tend caused or the
    /// program asked for ([`DeathKind::Stopped`], [`DeathKind::ExitCode`]) do not count, but a
    /// long enough one still ends the streak.
    pub fn backoff_streak(&self, reset_after: Duration) -> u32 {
        let mut streak = 0u32;
        for death in self.deaths.iter().rev() {
            match death.kind {
                DeathKind::Crash | DeathKind::Clean => streak = streak.saturating_add(1),
                DeathKind::ExitCode | DeathKind::Stopped => {}
            }
            if death.uptime >= reset_after {
                break;
            }
        }
        streak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(at: u64, uptime: u64, kind: DeathKind) -> Death {
        Death {
            at: Duration::from_secs(at),
            uptime: Duration::from_secs(uptime),
            exit: Some(Exit::Code(1)),
            kind,
        }
    }

    #[test]
    fn keeps_only_the_newest() {
        let mut tally = DeathTally::with_capacity(3);
        for at in 0..5 {
            tally.record(death(at, 0, DeathKind::Crash));
        }
        assert_eq!(tally.len(), 3);
        let ats: Vec<_> = tally.iter().map(|d| d.at.as_secs()).collect();
        assert_eq!(ats, [2, 3, 4]);
        assert_eq!(tally.last().map(|d| d.at), Some(Duration::from_secs(4)));
    }

    #[test]
    fn capacity_follows_max_restarts_within_bounds() {
        assert_eq!(DeathTally::new().capacity(), 64);
        assert_eq!(DeathTally::with_capacity(0).capacity(), 1);
        assert_eq!(DeathTally::for_max_restarts(10).capacity(), 64);
        assert_eq!(DeathTally::for_max_restarts(100).capacity(), 101);
        assert_eq!(DeathTally::for_max_restarts(u32::MAX).capacity(), DeathTally::MAX_CAPACITY);
    }

    #[test]
    fn counts_crashes_inside_a_half_open_window() {
        let mut tally = DeathTally::new();
        tally.record(death(0, 0, DeathKind::Crash));
        tally.record(death(10, 0, DeathKind::Crash));
        tally.record(death(20, 0, DeathKind::ExitCode));
        tally.record(death(30, 0, DeathKind::Clean));
        tally.record(death(40, 0, DeathKind::Stopped));
        let minute = Duration::from_secs(60);
        assert_eq!(tally.crashes_within(Duration::from_secs(59), minute), 2);
        assert_eq!(tally.crashes_within(Duration::from_secs(60), minute), 1);
        assert_eq!(tally.crashes_within(Duration::from_secs(70), minute), 0);
        assert_eq!(tally.iter().len(), 5);
        tally.clear();
        assert!(tally.is_empty());
    }

    #[test]
    fn streak_stops_at_a_stable_run_and_skips_neutral_ends() {
        let reset = Duration::from_secs(30);
        let mut tally = DeathTally::new();
        assert_eq!(tally.backoff_streak(reset), 0);
        tally.record(death(0, 0, DeathKind::Crash));
        tally.record(death(1, 0, DeathKind::Crash));
        assert_eq!(tally.backoff_streak(reset), 2);
        // A stable run's crash starts a new streak.
        tally.record(death(40, 35, DeathKind::Crash));
        assert_eq!(tally.backoff_streak(reset), 1);
        tally.record(death(41, 0, DeathKind::Crash));
        tally.record(death(42, 0, DeathKind::ExitCode));
        tally.record(death(43, 0, DeathKind::Stopped));
        tally.record(death(44, 0, DeathKind::Clean));
        assert_eq!(tally.backoff_streak(reset), 3);
        tally.record(death(100, 50, DeathKind::Stopped));
        assert_eq!(tally.backoff_streak(reset), 0);
    }
}
