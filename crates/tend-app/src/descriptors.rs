//! The file descriptors an app needs, against the limit (`RLIMIT_NOFILE`).
//!
//! At start tend raises its soft limit to the hard limit (its programs get back the limit tend
//! was started with: see [`tend_runner::raise_fd_limit`]), counts what the app needs, and
//! refuses an app that cannot fit before anything starts — never program by program. What is
//! left after the programs bounds the control API's connections.

use std::fmt;

use tend_runner::FdLimit;

use crate::config::{Config, ProgramConfig};

/// Descriptors tend holds for itself, whatever the app: its runtime (epoll, wakers), its lock,
/// its own log, the terminal, the control API's listener and reserve, the state folder's
/// watcher, and the pipes that starting a program holds for a moment (a few starts at once).
pub const BASE: u64 = 64;
/// Descriptors each running program holds: its stdout and stderr pipes, its log file, and the
/// pidfd its end is awaited on.
pub const PER_PROGRAM: u64 = 4;
/// Descriptors more for a program with `watch`: its watcher (an inotify instance, its poller
/// and its waker).
pub const PER_WATCH: u64 = 3;
/// The control API's connections at most (`docs/control-api.md`).
pub const API_CONNECTIONS: u64 = 256;
/// The control API's connections at least: when fewer fit, the app does not start.
pub const MIN_API_CONNECTIONS: u64 = 16;

/// What an app needs, counted from its programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// How many programs.
    pub programs: u64,
    /// How many of them have `watch`.
    pub watched: u64,
}

impl Needs {
    /// The needs of `programs`.
    pub fn of(programs: &[ProgramConfig]) -> Needs {
        Needs {
            programs: programs.len() as u64,
            watched: programs.iter().filter(|p| p.watch.is_some()).count() as u64,
        }
    }

    /// Descriptors for the programs alone.
    pub fn for_programs(self) -> u64 {
        self.programs * PER_PROGRAM + self.watched * PER_WATCH
    }

    /// Descriptors the app needs at least: tend, the programs and the smallest control API.
    pub fn minimum(self) -> u64 {
        BASE + self.for_programs() + MIN_API_CONNECTIONS
    }

    /// How many control API connections fit under a soft limit of `soft` descriptors, or why
    /// the app does not fit at all.
    ///
    /// # Errors
    /// [`TooMany`] when the app needs more than `limit` allows.
    pub fn fit(self, limit: FdLimit) -> Result<usize, TooMany> {
        let spare = limit.soft.saturating_sub(BASE + self.for_programs());
        if spare < MIN_API_CONNECTIONS {
            return Err(TooMany { needs: self, limit });
        }
        Ok(usize::try_from(spare.min(API_CONNECTIONS)).unwrap_or(usize::MAX))
    }
}

/// An app that cannot fit under the descriptor limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany {
    /// What it needs.
    pub needs: Needs,
    /// The limit it met.
    pub limit: FdLimit,
}

impl fmt::Display for TooMany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Needs { programs, watched } = self.needs;
        let needed = self.needs.minimum();
        write!(
            f,
            "the app needs at least {needed} file descriptors ({programs} program(s) × \
             {PER_PROGRAM}"
        )?;
        if watched > 0 {
            write!(f, ", {watched} with `watch` × {PER_WATCH}")?;
        }
        // A round figure with room to grow.
        let suggested = needed.div_ceil(1024) * 1024 * 2;
        write!(
            f,
            ", {} for tend and its control API), but its limit is {} (hard limit {}); nothing \
             was started. Raise the hard limit of open files to at least {needed}: \
             `ulimit -Hn {suggested}` (as root) in the shell that starts tend, `LimitNOFILE=\
             {suggested}` in its systemd unit, or `prlimit --nofile={suggested}:{suggested} -- \
             tend up`; or split the app",
            BASE + MIN_API_CONNECTIONS,
            self.limit.soft,
            self.limit.hard
        )
    }
}

/// Raises tend's descriptor limit, and checks that `config` fits under it. Returns how many
/// control API connections to allow.
///
/// # Errors
/// The message for people when the app cannot fit.
pub fn prepare(config: &Config) -> Result<usize, String> {
    match tend_runner::raise_fd_limit() {
        Ok(Some(raised)) if raised.now != raised.original => tracing::debug!(
            "descriptor limit raised from {} to {}; programs get {}",
            raised.original.soft,
            raised.now.soft,
            raised.original.soft
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot raise the limit of open files: {e}"),
    }
    check(config)
}

/// How many control API connections fit beside `config`'s programs under the current limit.
///
/// # Errors
/// The message for people when the app cannot fit.
pub fn check(config: &Config) -> Result<usize, String> {
    let Some(limit) = tend_runner::fd_limit() else {
        return Ok(usize::try_from(API_CONNECTIONS).unwrap_or(usize::MAX));
    };
    Needs::of(&config.programs).fit(limit).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limit(soft: u64, hard: u64) -> FdLimit {
        FdLimit { soft, hard }
    }

    #[test]
    fn a_roomy_limit_gives_the_api_its_full_share() {
        let needs = Needs { programs: 500, watched: 0 };
        assert_eq!(needs.fit(limit(20_000, 20_000)).unwrap(), 256);
    }

    #[test]
    fn a_tight_limit_shrinks_the_api_first() {
        // 64 + 4 + 60 = 128: sixty connections are left for the API.
        let needs = Needs { programs: 1, watched: 0 };
        assert_eq!(needs.fit(limit(128, 128)).unwrap(), 60);
    }

    #[test]
    fn an_app_that_cannot_fit_says_what_it_needs_and_how_to_fix_it() {
        let needs = Needs { programs: 500, watched: 2 };
        let e = needs.fit(limit(1024, 1024)).unwrap_err();
        assert_eq!(needs.minimum(), 64 + 2000 + 6 + 16);
        let text = e.to_string();
        for part in
            ["at least 2086", "500 program(s)", "limit is 1024", "ulimit -Hn", "LimitNOFILE"]
        {
            assert!(text.contains(part), "{part:?} in {text}");
        }
    }
}
