//! The restart policy: a pure function from how a run ended (and the tally of earlier ends) to
//! what happens next. No I/O and no clock reads: time comes in as arguments.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Exit;
use crate::backoff::Backoff;
use crate::error::ParseError;
use crate::tally::{DeathKind, DeathTally};

/// When a program that ended by itself is started again (`restart` in `tend.toml`).
///
/// Whatever the policy, an exit with the restart exit code restarts at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RestartPolicy {
    /// Restart after every end, also after exit 0 (then with backoff, so that a program that
    /// exits 0 at once does not spin).
    Always,
    /// Restart after crashes only; exit 0 means done. The default.
    #[default]
    OnFailure,
    /// Never restart by policy; a crash means done.
    Never,
}

impl RestartPolicy {
    /// The config spelling: `always`, `on-failure` or `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RestartPolicy {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "always" => Ok(RestartPolicy::Always),
            "on-failure" => Ok(RestartPolicy::OnFailure),
            "never" => Ok(RestartPolicy::Never),
            _ => Err(ParseError {
                what: "restart policy",
                input: s.to_owned(),
                expected: "always, on-failure, never",
            }),
        }
    }
}

/// Why a program is being started; handed to the program as `TEND_RESTART_REASON`.
///
/// The strings of [`RestartReason::as_str`] are a public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestartReason {
    /// The first start, a start by hand (`start()`), or a policy restart after a clean exit
    /// (`restart = "always"`): `start`.
    Start,
    /// A restart after a crash: `crash`.
    Crash,
    /// A restart because the program exited with the restart exit code: `exit_code`.
    ExitCode,
    /// A restart because a watched file changed: `file_change`.
    FileChange,
    /// A restart asked for from outside (`tend restart`, the `restart-requested` marker):
    /// `requested`.
    Requested,
    /// A restart because the program's configuration changed: `config_change`.
    ConfigChange,
}

impl RestartReason {
    /// Every reason, in declaration order.
    pub const ALL: [RestartReason; 6] = [
        RestartReason::Start,
        RestartReason::Crash,
        RestartReason::ExitCode,
        RestartReason::FileChange,
        RestartReason::Requested,
        RestartReason::ConfigChange,
    ];

    /// The value of `TEND_RESTART_REASON`: `start`, `crash`, `exit_code`, `file_change`,
    /// `requested` or `config_change`.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartReason::Start => "start",
            RestartReason::Crash => "crash",
            RestartReason::ExitCode => "exit_code",
            RestartReason::FileChange => "file_change",
            RestartReason::Requested => "requested",
            RestartReason::ConfigChange => "config_change",
        }
    }
}

impl fmt::Display for RestartReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RestartReason {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        RestartReason::ALL.into_iter().find(|reason| reason.as_str() == s).ok_or_else(|| {
            ParseError {
                what: "restart reason",
                input: s.to_owned(),
                expected: "start, crash, exit_code, file_change, requested, config_change",
            }
        })
    }
}

/// The crash-loop guard: more than `count` crashes within `within` make the program fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxRestarts {
    /// Crashes allowed inside the window. Default 10.
    pub count: u32,
    /// The sliding window. Default 1m.
    pub within: Duration,
}

impl Default for MaxRestarts {
    fn default() -> Self {
        MaxRestarts { count: 10, within: Duration::from_secs(60) }
    }
}

/// Everything that decides whether and when a program is restarted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// When an end by itself is restarted. Default [`RestartPolicy::OnFailure`].
    pub restart: RestartPolicy,
    /// The "restart me now" exit code: no backoff, not a crash. Default `Some(42)`; `None`
    /// turns the protocol off. It is checked before the exit-0 rule, so `Some(0)` makes exit 0
    /// an immediate restart.
    pub restart_exit_code: Option<i32>,
    /// Delays between crash restarts.
    pub backoff: Backoff,
    /// The crash-loop guard.
    pub max_restarts: MaxRestarts,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            restart: RestartPolicy::default(),
            restart_exit_code: Some(42),
            backoff: Backoff::default(),
            max_restarts: MaxRestarts::default(),
        }
    }
}

/// What to do after a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The program is finished for good, by its policy.
    Done,
    /// Start again at once (the program asked for it with the restart exit code).
    RestartNow {
        /// Why: [`RestartReason::ExitCode`].
        reason: RestartReason,
    },
    /// Start again after `delay`.
    RestartAfter {
        /// How long to wait.
        delay: Duration,
        /// 1 for the first end since the last stable run, 2 for the second, …
        attempt: u32,
        /// Why: [`RestartReason::Crash`], or [`RestartReason::Start`] for a clean exit under
        /// `restart = "always"`.
        reason: RestartReason,
    },
    /// Too many crashes (or a program that cannot be spawned): give up.
    Fatal {
        /// The crashes inside the window, including this one.
        crashes: u32,
        /// The window, `max_restarts.within`.
        within: Duration,
    },
}

/// What an `exit` means under `policy`: [`DeathKind::ExitCode`] for the restart exit code,
/// [`DeathKind::Clean`] for exit 0, [`DeathKind::Crash`] for anything else. Never returns
/// [`DeathKind::Stopped`].
pub fn classify(policy: &Policy, exit: Exit) -> DeathKind {
    match exit {
        Exit::Code(code) if policy.restart_exit_code == Some(code) => DeathKind::ExitCode,
        Exit::Code(0) => DeathKind::Clean,
        Exit::Code(_) | Exit::Signal(_) => DeathKind::Crash,
    }
}

/// Decides what happens after a run that was up for `uptime` ended with `exit` at `now` (time
/// since the supervisor's epoch). `tally` holds the earlier ends, not this one.
///
/// | end | decision |
/// |---|---|
/// | restart exit code | [`Decision::RestartNow`], whatever `restart` says; not a crash, no backoff |
/// | exit 0 | [`Decision::Done`]; with `always`, [`Decision::RestartAfter`] the backoff delay (not counted toward `max_restarts`) |
/// | anything else | a crash: `never` → [`Decision::Done`]; more than `max_restarts.count` crashes within `max_restarts.within` (this one included) → [`Decision::Fatal`]; else [`Decision::RestartAfter`] the backoff delay |
///
/// The backoff delay is `backoff.delay(n)`, `n` being [`DeathTally::backoff_streak`], or 0 when
/// this run was itself up for `reset_after` or longer.
pub fn decide(
    policy: &Policy,
    tally: &DeathTally,
    exit: Exit,
    uptime: Duration,
    now: Duration,
) -> Decision {
    match classify(policy, exit) {
        DeathKind::ExitCode => Decision::RestartNow { reason: RestartReason::ExitCode },
        DeathKind::Clean => match policy.restart {
            RestartPolicy::Always => back_off(policy, tally, uptime, RestartReason::Start),
            RestartPolicy::OnFailure | RestartPolicy::Never => Decision::Done,
        },
        DeathKind::Crash => match policy.restart {
            RestartPolicy::Never => Decision::Done,
            RestartPolicy::Always | RestartPolicy::OnFailure => crash(policy, tally, uptime, now),
        },
        // `classify` never says so; a run that tend stopped is not restarted by policy.
        DeathKind::Stopped => Decision::Done,
    }
}

/// Decides what happens when the launcher could not spawn the program at `now`.
///
/// If the program has not run since it was (re)started by hand (`has_run` is false: the very
/// first start, typically a missing binary), it is [`Decision::Fatal`] at once: that will not fix
/// itself. Otherwise the failure is a crash with zero uptime ([`decide`]'s crash row), except
/// that with `restart = "never"` it is fatal too: nothing would ever start the program again.
/// Never returns [`Decision::Done`] or [`Decision::RestartNow`].
pub fn decide_spawn_failure(
    policy: &Policy,
    tally: &DeathTally,
    has_run: bool,
    now: Duration,
) -> Decision {
    let within = policy.max_restarts.within;
    if !has_run || policy.restart == RestartPolicy::Never {
        return Decision::Fatal {
            crashes: tally.crashes_within(now, within).saturating_add(1),
            within,
        };
    }
    crash(policy, tally, Duration::ZERO, now)
}

/// The crash row for a policy that restarts crashes.
fn crash(policy: &Policy, tally: &DeathTally, uptime: Duration, now: Duration) -> Decision {
    let MaxRestarts { count, within } = policy.max_restarts;
    let crashes = tally.crashes_within(now, within).saturating_add(1);
    if crashes > count {
        return Decision::Fatal { crashes, within };
    }
    back_off(policy, tally, uptime, RestartReason::Crash)
}

fn back_off(
    policy: &Policy,
    tally: &DeathTally,
    uptime: Duration,
    reason: RestartReason,
) -> Decision {
    let reset_after = policy.backoff.reset_after;
    let n = if uptime >= reset_after { 0 } else { tally.backoff_streak(reset_after) };
    Decision::RestartAfter { delay: policy.backoff.delay(n), attempt: n.saturating_add(1), reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::Death;

    const CRASH: Exit = Exit::Code(1);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn policy(restart: RestartPolicy) -> Policy {
        Policy { restart, ..Policy::default() }
    }

    /// Runs `ends` (exit, uptime, at) through `decide` like the supervisor does: decide, then
    /// record. Returns every decision.
    fn run(policy: &Policy, ends: &[(Exit, u64, u64)]) -> Vec<Decision> {
        let mut tally = DeathTally::for_max_restarts(policy.max_restarts.count);
        ends.iter()
            .map(|&(exit, uptime, at)| {
                let decision = decide(policy, &tally, exit, secs(uptime), secs(at));
                tally.record(Death {
                    at: secs(at),
                    uptime: secs(uptime),
                    exit: Some(exit),
                    kind: classify(policy, exit),
                });
                decision
            })
            .collect()
    }

    fn after(delay: u64, attempt: u32) -> Decision {
        Decision::RestartAfter { delay: secs(delay), attempt, reason: RestartReason::Crash }
    }

    #[test]
    fn defaults_match_the_design() {
        let p = Policy::default();
        assert_eq!(p.restart, RestartPolicy::OnFailure);
        assert_eq!(p.restart_exit_code, Some(42));
        assert_eq!(p.max_restarts, MaxRestarts { count: 10, within: secs(60) });
        assert_eq!(p.backoff, Backoff::default());
    }

    #[test]
    fn exit_zero_is_done_unless_always() {
        let empty = DeathTally::new();
        for restart in [RestartPolicy::OnFailure, RestartPolicy::Never] {
            assert_eq!(
                decide(&policy(restart), &empty, Exit::Code(0), secs(5), secs(5)),
                Decision::Done
            );
        }
        assert_eq!(
            decide(&policy(RestartPolicy::Always), &empty, Exit::Code(0), secs(0), secs(0)),
            Decision::RestartAfter { delay: secs(1), attempt: 1, reason: RestartReason::Start }
        );
    }

    #[test]
    fn always_backs_off_clean_exits_but_never_goes_fatal() {
        let p = Policy {
            restart: RestartPolicy::Always,
            max_restarts: MaxRestarts { count: 1, within: secs(60) },
            ..Policy::default()
        };
        let ends: Vec<_> = (0..8).map(|i| (Exit::Code(0), 0, i)).collect();
        let delays: Vec<_> = run(&p, &ends)
            .into_iter()
            .map(|d| match d {
                Decision::RestartAfter { delay, reason: RestartReason::Start, .. } => {
                    delay.as_secs()
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn restart_exit_code_restarts_now_whatever_the_policy() {
        for restart in [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never] {
            let decisions = run(&policy(restart), &[(Exit::Code(42), 0, 0)]);
            assert_eq!(decisions, [Decision::RestartNow { reason: RestartReason::ExitCode }]);
        }
    }

    #[test]
    fn restart_exit_code_is_not_a_crash_and_does_not_grow_backoff() {
        let p = Policy {
            max_restarts: MaxRestarts { count: 2, within: secs(60) },
            ..Policy::default()
        };
        let ends = [
            (CRASH, 0, 0),
            (Exit::Code(42), 0, 1),
            (Exit::Code(42), 0, 2),
            (Exit::Code(42), 0, 3),
            (CRASH, 0, 4),
            (Exit::Code(42), 0, 5),
            (CRASH, 0, 6),
        ];
        let restart_now = Decision::RestartNow { reason: RestartReason::ExitCode };
        assert_eq!(
            run(&p, &ends),
            [
                after(1, 1),
                restart_now,
                restart_now,
                restart_now,
                after(2, 2),
                restart_now,
                Decision::Fatal { crashes: 3, within: secs(60) },
            ]
        );
    }

    #[test]
    fn restart_exit_code_can_be_turned_off_or_moved() {
        let off = Policy { restart_exit_code: None, ..Policy::default() };
        assert_eq!(run(&off, &[(Exit::Code(42), 0, 0)]), [after(1, 1)]);
        let moved = Policy { restart_exit_code: Some(3), ..Policy::default() };
        assert_eq!(classify(&moved, Exit::Code(3)), DeathKind::ExitCode);
        assert_eq!(classify(&moved, Exit::Code(42)), DeathKind::Crash);
        let zero = Policy { restart_exit_code: Some(0), ..Policy::default() };
        assert_eq!(classify(&zero, Exit::Code(0)), DeathKind::ExitCode);
    }

    #[test]
    fn crashes_and_signals_back_off_with_growing_delays() {
        let ends = [(CRASH, 0, 0), (Exit::Signal(9), 0, 1), (Exit::Code(-1), 0, 3)];
        assert_eq!(run(&Policy::default(), &ends), [after(1, 1), after(2, 2), after(4, 3)]);
    }

    #[test]
    fn never_makes_a_crash_done() {
        for exit in [CRASH, Exit::Signal(11)] {
            assert_eq!(run(&policy(RestartPolicy::Never), &[(exit, 0, 0)]), [Decision::Done]);
        }
    }

    #[test]
    fn backoff_caps_at_max() {
        let p = Policy {
            max_restarts: MaxRestarts { count: 100, within: secs(1) },
            ..Policy::default()
        };
        let ends: Vec<_> = (0..10).map(|i| (CRASH, 0, i * 100)).collect();
        let last = run(&p, &ends).pop();
        assert_eq!(last, Some(after(60, 10)));
    }

    #[test]
    fn stable_uptime_resets_backoff() {
        let ends = [
            (CRASH, 0, 0),
            (CRASH, 0, 1),
            (CRASH, 0, 3),
            // Up for exactly reset_after: this crash starts over.
            (CRASH, 30, 37),
            (CRASH, 0, 38),
            // Up for a while but less than reset_after: keeps growing.
            (CRASH, 29, 69),
        ];
        assert_eq!(
            run(&Policy::default(), &ends),
            [after(1, 1), after(2, 2), after(4, 3), after(1, 1), after(2, 2), after(4, 3)]
        );
    }

    #[test]
    fn fatal_at_count_plus_one_within_the_window() {
        let p = Policy {
            max_restarts: MaxRestarts { count: 3, within: secs(10) },
            backoff: Backoff { factor: 1.0, ..Backoff::default() },
            ..Policy::default()
        };
        let ends = [(CRASH, 0, 0), (CRASH, 0, 1), (CRASH, 0, 2), (CRASH, 0, 9)];
        assert_eq!(
            run(&p, &ends),
            [
                after(1, 1),
                after(1, 2),
                after(1, 3),
                Decision::Fatal { crashes: 4, within: secs(10) }
            ]
        );
    }

    #[test]
    fn crashes_spread_outside_the_window_are_not_fatal() {
        let p = Policy {
            max_restarts: MaxRestarts { count: 3, within: secs(10) },
            backoff: Backoff { factor: 1.0, ..Backoff::default() },
            ..Policy::default()
        };
        // Four crashes, but the first has left the window (0, 10] by the time of the fourth.
        let ends = [(CRASH, 0, 0), (CRASH, 0, 1), (CRASH, 0, 2), (CRASH, 0, 10)];
        assert!(run(&p, &ends).iter().all(|d| matches!(d, Decision::RestartAfter { .. })));
    }

    #[test]
    fn zero_count_makes_the_first_crash_fatal() {
        let p = Policy {
            max_restarts: MaxRestarts { count: 0, within: secs(60) },
            ..Policy::default()
        };
        assert_eq!(run(&p, &[(CRASH, 0, 0)]), [Decision::Fatal { crashes: 1, within: secs(60) }]);
    }

    #[test]
    fn spawn_failure_before_any_run_is_fatal() {
        let tally = DeathTally::new();
        assert_eq!(
            decide_spawn_failure(&Policy::default(), &tally, false, secs(0)),
            Decision::Fatal { crashes: 1, within: secs(60) }
        );
    }

    #[test]
    fn spawn_failure_after_a_run_is_a_crash() {
        let p = Policy::default();
        let mut tally = DeathTally::new();
        tally.record(Death {
            at: secs(0),
            uptime: secs(0),
            exit: Some(CRASH),
            kind: DeathKind::Crash,
        });
        assert_eq!(decide_spawn_failure(&p, &tally, true, secs(1)), after(2, 2));
        let never = policy(RestartPolicy::Never);
        assert_eq!(
            decide_spawn_failure(&never, &tally, true, secs(1)),
            Decision::Fatal { crashes: 2, within: secs(60) }
        );
        let tight = Policy { max_restarts: MaxRestarts { count: 1, within: secs(60) }, ..p };
        assert_eq!(
            decide_spawn_failure(&tight, &tally, true, secs(1)),
            Decision::Fatal { crashes: 2, within: secs(60) }
        );
    }

    #[test]
    fn stopped_runs_are_neutral() {
        let p = Policy::default();
        let mut tally = DeathTally::new();
        tally.record(Death {
            at: secs(0),
            uptime: secs(0),
            exit: Some(CRASH),
            kind: DeathKind::Crash,
        });
        tally.record(Death {
            at: secs(1),
            uptime: secs(1),
            exit: Some(Exit::Signal(15)),
            kind: DeathKind::Stopped,
        });
        assert_eq!(decide(&p, &tally, CRASH, secs(0), secs(2)), after(2, 2));
    }

    #[test]
    fn policies_parse_and_display() {
        for policy in [RestartPolicy::Always, RestartPolicy::OnFailure, RestartPolicy::Never] {
            assert_eq!(policy.to_string().parse::<RestartPolicy>(), Ok(policy));
        }
        assert_eq!("on-failure".parse::<RestartPolicy>(), Ok(RestartPolicy::OnFailure));
        let err = "sometimes".parse::<RestartPolicy>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown restart policy `sometimes` (expected one of: always, on-failure, never)")
        );
    }

    #[test]
    fn reasons_are_the_public_strings() {
        let strings: Vec<_> = RestartReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            strings,
            ["start", "crash", "exit_code", "file_change", "requested", "config_change"]
        );
        for reason in RestartReason::ALL {
            assert_eq!(reason.to_string().parse::<RestartReason>(), Ok(reason));
        }
        assert!("restart".parse::<RestartReason>().is_err());
    }
}
