//! The per-program state machine, pure: `handle(input, now)` moves the phase and returns the
//! actions for the task to carry out. No I/O, no clock reads; the run object `R` is opaque here
//! (the task uses `Box<dyn Running>`, unit tests use plain numbers).
//!
//! Design note. Steady phases (`Running`, `BackingOff`, `Stopped`, `Done`, `Fatal`) wait for
//! outside inputs: a control verb, the run's exit, the backoff timer. Transient phases
//! (`Starting`, `Stopping`) wait only for the result of the action that entered them
//! (`Launch`, `Stop`), which the task carries out at once and feeds back, so verbs queue up
//! meanwhile. Every `(phase, input)` cell is spelled out; the cells that the task never produces
//! keep the phase unchanged.

use std::time::Duration;

use crate::Exit;
use crate::event::EventKind;
use crate::launcher::LaunchError;
use crate::policy::{Decision, Policy, RestartReason, classify, decide, decide_spawn_failure};
use crate::program::ProgramState;
use crate::tally::{Death, DeathKind, DeathTally};

/// Where a program is. Times are durations since the supervisor's epoch.
#[derive(Debug)]
pub(crate) enum Phase<R> {
    /// A launch is in flight.
    Starting { reason: RestartReason, restart_count: u32 },
    /// A run is up.
    Running { run: R, pid: Option<u32>, started: Duration },
    /// A graceful stop is in flight; `started` is when the run being stopped started.
    Stopping { then: AfterStop, started: Duration },
    /// Waiting until `until` to start again.
    BackingOff { until: Duration, reason: RestartReason },
    /// Stopped on request.
    Stopped,
    /// Ended for good by its policy.
    Done,
    /// Gave up.
    Fatal,
}

/// What a stop in flight leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterStop {
    Stop,
    Restart(RestartReason),
}

/// Why a program is where it is: stopped, done, fatal, or backing off after a failed spawn.
///
/// It is what `tend status` says after the state ("cannot start: …", "crashed 5 times within
/// 1m"); a program that runs, or backs off after a crash (its last exit says why), has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Its last launch failed, with this error; it is fatal, or backing off before it tries
    /// again.
    CannotStart(LaunchError),
    /// It crashed more than `max_restarts` allows: `crashes` times within `within`.
    CrashLoop {
        /// The crashes inside the window, the last one included.
        crashes: u32,
        /// The `max_restarts` window.
        within: Duration,
    },
    /// Its last run ended, and its policy does not restart it (its last exit says how).
    Ended,
    /// It was stopped on request.
    StopRequested,
}

/// What happens to a program: control verbs, and the outcomes the task observes.
#[derive(Debug)]
pub(crate) enum Input<R> {
    Start,
    Stop,
    Restart(RestartReason),
    /// [`Restart`](Input::Restart) if the program is active (starting, running, stopping or
    /// backing off); nothing if it is stopped, done or fatal.
    RestartActive(RestartReason),
    /// A new policy, in effect from now on, in any phase: the crash budget and the backoff
    /// start over (the tally is emptied), the launch count goes on. Nothing else happens.
    Replace(Policy),
    /// The run ended by itself.
    Exited(Exit),
    /// The backoff delay is over.
    BackoffElapsed,
    /// The `Launch` action succeeded.
    Launched {
        run: R,
        pid: Option<u32>,
    },
    /// The `Launch` action failed.
    LaunchFailed(LaunchError),
    /// The `Stop` action finished.
    StopFinished(Exit),
}

/// What the task must do. `Launch` and `Stop` come last in a batch; their result is the next input.
#[derive(Debug)]
pub(crate) enum Action<R> {
    Emit(EventKind),
    Launch { reason: RestartReason, restart_count: u32 },
    Stop(R),
}

/// One program's supervision state.
#[derive(Debug)]
pub(crate) struct Core<R> {
    policy: Policy,
    phase: Phase<R>,
    tally: DeathTally,
    /// Launches so far (attempts, successful or not).
    launches: u32,
    /// Whether a run was spawned since the program was last started by hand.
    has_run: bool,
    last_exit: Option<Exit>,
    /// Why the program is where it is, when that needs saying.
    cause: Option<Cause>,
    /// When the current [`ProgramState`] was entered.
    since: Duration,
}

impl<R> Core<R> {
    /// A program that has not been started yet (it reads as stopped).
    pub(crate) fn new(policy: Policy) -> Self {
        Core {
            policy,
            phase: Phase::Stopped,
            tally: DeathTally::for_max_restarts(policy.max_restarts.count),
            launches: 0,
            has_run: false,
            last_exit: None,
            cause: None,
            since: Duration::ZERO,
        }
    }

    pub(crate) fn phase(&self) -> &Phase<R> {
        &self.phase
    }

    pub(crate) fn state(&self) -> ProgramState {
        match self.phase {
            Phase::Starting { .. } => ProgramState::Starting,
            Phase::Running { .. } => ProgramState::Running,
            Phase::Stopping { .. } => ProgramState::Stopping,
            Phase::BackingOff { .. } => ProgramState::BackingOff,
            Phase::Stopped => ProgramState::Stopped,
            Phase::Done => ProgramState::Done,
            Phase::Fatal => ProgramState::Fatal,
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        match self.phase {
            Phase::Running { pid, .. } => pid,
            Phase::Starting { .. }
            | Phase::Stopping { .. }
            | Phase::BackingOff { .. }
            | Phase::Stopped
            | Phase::Done
            | Phase::Fatal => None,
        }
    }

    /// Restarts so far: every launch after the first.
    pub(crate) fn restarts(&self) -> u32 {
        self.launches.saturating_sub(1)
    }

    pub(crate) fn last_exit(&self) -> Option<Exit> {
        self.last_exit
    }

    pub(crate) fn cause(&self) -> Option<&Cause> {
        self.cause.as_ref()
    }

    pub(crate) fn since(&self) -> Duration {
        self.since
    }

    /// When a backing-off program starts again.
    pub(crate) fn restart_at(&self) -> Option<Duration> {
        match self.phase {
            Phase::BackingOff { until, .. } => Some(until),
            Phase::Starting { .. }
            | Phase::Running { .. }
            | Phase::Stopping { .. }
            | Phase::Stopped
            | Phase::Done
            | Phase::Fatal => None,
        }
    }

    /// Applies `input` at `now` and returns what to do.
    pub(crate) fn handle(&mut self, input: Input<R>, now: Duration) -> Vec<Action<R>> {
        let before = self.state();
        let mut out = Vec::new();
        let input = match input {
            Input::RestartActive(reason) if !before.is_idle() => Input::Restart(reason),
            other => other,
        };
        let phase = std::mem::replace(&mut self.phase, Phase::Stopped);
        self.phase = match (phase, input) {
            // Reached only when idle (see above): an idle program stays so.
            (phase, Input::RestartActive(_)) => phase,
            // A new spec is taken in whatever the phase: the run in progress (if any) carries on
            // under it; restarting it is a separate verb.
            (phase, Input::Replace(policy)) => {
                self.policy = policy;
                self.tally = DeathTally::for_max_restarts(policy.max_restarts.count);
                phase
            }
            // Idle: only the verbs do something. A start by hand is a fresh start.
            (Phase::Stopped | Phase::Done | Phase::Fatal, Input::Start) => {
                self.activate(RestartReason::Start, &mut out)
            }
            (Phase::Stopped | Phase::Done | Phase::Fatal, Input::Restart(reason)) => {
                out.push(Action::Emit(EventKind::RestartingNow { reason }));
                self.activate(reason, &mut out)
            }
            (idle @ (Phase::Stopped | Phase::Done | Phase::Fatal), Input::Stop) => idle,

            (running @ Phase::Running { .. }, Input::Start) => running,
            (Phase::Running { run, started, .. }, Input::Stop) => {
                out.push(Action::Stop(run));
                Phase::Stopping { then: AfterStop::Stop, started }
            }
            (Phase::Running { run, started, .. }, Input::Restart(reason)) => {
                out.push(Action::Emit(EventKind::RestartingNow { reason }));
                out.push(Action::Stop(run));
                Phase::Stopping { then: AfterStop::Restart(reason), started }
            }
            (Phase::Running { started, .. }, Input::Exited(exit)) => {
                self.exited(exit, now.saturating_sub(started), now, &mut out)
            }

            (waiting @ Phase::BackingOff { .. }, Input::Start) => waiting,
            (Phase::BackingOff { .. }, Input::Stop) => {
                out.push(Action::Emit(EventKind::Stopped));
                self.cause = Some(Cause::StopRequested);
                Phase::Stopped
            }
            (Phase::BackingOff { .. }, Input::Restart(reason)) => {
                out.push(Action::Emit(EventKind::RestartingNow { reason }));
                self.launch(reason, &mut out)
            }
            (Phase::BackingOff { reason, .. }, Input::BackoffElapsed) => {
                self.launch(reason, &mut out)
            }

            (Phase::Starting { reason, restart_count }, Input::Launched { run, pid }) => {
                self.has_run = true;
                self.cause = None;
                out.push(Action::Emit(EventKind::Spawned { pid, restart_count, reason }));
                Phase::Running { run, pid, started: now }
            }
            (Phase::Starting { .. }, Input::LaunchFailed(error)) => {
                self.launch_failed(error, now, &mut out)
            }

            (Phase::Stopping { then, started }, Input::StopFinished(exit)) => {
                let uptime = now.saturating_sub(started);
                self.tally.record(Death {
                    at: now,
                    uptime,
                    exit: Some(exit),
                    kind: DeathKind::Stopped,
                });
                self.last_exit = Some(exit);
                out.push(Action::Emit(EventKind::Exited { exit, uptime }));
                match then {
                    AfterStop::Stop => {
                        out.push(Action::Emit(EventKind::Stopped));
                        self.cause = Some(Cause::StopRequested);
                        Phase::Stopped
                    }
                    AfterStop::Restart(reason) => self.launch(reason, &mut out),
                }
            }

            // Cells the task never produces: transient phases only get their action's result,
            // exits come only from a run, the timer only runs while backing off, and results
            // only follow their action. A stray run is dropped (which stops it).
            (
                transient @ (Phase::Starting { .. } | Phase::Stopping { .. }),
                Input::Start
                | Input::Stop
                | Input::Restart(_)
                | Input::Exited(_)
                | Input::BackoffElapsed,
            ) => transient,
            (starting @ Phase::Starting { .. }, Input::StopFinished(_)) => starting,
            (
                stopping @ Phase::Stopping { .. },
                Input::Launched { .. } | Input::LaunchFailed(_),
            ) => stopping,
            (
                other @ (Phase::Running { .. }
                | Phase::BackingOff { .. }
                | Phase::Stopped
                | Phase::Done
                | Phase::Fatal),
                Input::Launched { .. } | Input::LaunchFailed(_) | Input::StopFinished(_),
            ) => other,
            (
                other @ (Phase::BackingOff { .. } | Phase::Stopped | Phase::Done | Phase::Fatal),
                Input::Exited(_),
            ) => other,
            (
                other @ (Phase::Running { .. } | Phase::Stopped | Phase::Done | Phase::Fatal),
                Input::BackoffElapsed,
            ) => other,
        };
        if self.state() != before {
            self.since = now;
        }
        out
    }

    /// A start from idle: a fresh crash budget and backoff, and a spawn failure is fatal again.
    fn activate(&mut self, reason: RestartReason, out: &mut Vec<Action<R>>) -> Phase<R> {
        self.tally.clear();
        self.has_run = false;
        self.launch(reason, out)
    }

    fn launch(&mut self, reason: RestartReason, out: &mut Vec<Action<R>>) -> Phase<R> {
        let restart_count = self.launches;
        self.launches = self.launches.saturating_add(1);
        out.push(Action::Launch { reason, restart_count });
        Phase::Starting { reason, restart_count }
    }

    fn exited(
        &mut self,
        exit: Exit,
        uptime: Duration,
        now: Duration,
        out: &mut Vec<Action<R>>,
    ) -> Phase<R> {
        let decision = decide(&self.policy, &self.tally, exit, uptime, now);
        self.tally.record(Death {
            at: now,
            uptime,
            exit: Some(exit),
            kind: classify(&self.policy, exit),
        });
        self.last_exit = Some(exit);
        out.push(Action::Emit(EventKind::Exited { exit, uptime }));
        match decision {
            Decision::Done => {
                out.push(Action::Emit(EventKind::Done { exit }));
                self.cause = Some(Cause::Ended);
                Phase::Done
            }
            Decision::RestartNow { reason } => {
                out.push(Action::Emit(EventKind::RestartingNow { reason }));
                self.launch(reason, out)
            }
            Decision::RestartAfter { delay, attempt, reason } => {
                self.cause = None;
                back_off(delay, attempt, reason, now, out)
            }
            Decision::Fatal { crashes, within } => {
                out.push(Action::Emit(EventKind::Fatal { crashes, within, last_exit: Some(exit) }));
                self.cause = Some(Cause::CrashLoop { crashes, within });
                Phase::Fatal
            }
        }
    }

    fn launch_failed(
        &mut self,
        error: LaunchError,
        now: Duration,
        out: &mut Vec<Action<R>>,
    ) -> Phase<R> {
        let decision = decide_spawn_failure(&self.policy, &self.tally, self.has_run, now);
        self.tally.record(Death {
            at: now,
            uptime: Duration::ZERO,
            exit: None,
            kind: DeathKind::Crash,
        });
        self.cause = Some(Cause::CannotStart(error.clone()));
        out.push(Action::Emit(EventKind::SpawnFailed { error }));
        match decision {
            Decision::RestartAfter { delay, attempt, reason } => {
                back_off(delay, attempt, reason, now, out)
            }
            Decision::Fatal { crashes, within } => {
                out.push(Action::Emit(EventKind::Fatal { crashes, within, last_exit: None }));
                Phase::Fatal
            }
            // `decide_spawn_failure` never decides these; a program that cannot be spawned
            // must not pass for done, so treat them as fatal.
            Decision::Done | Decision::RestartNow { .. } => {
                let within = self.policy.max_restarts.within;
                let crashes = self.tally.crashes_within(now, within);
                out.push(Action::Emit(EventKind::Fatal { crashes, within, last_exit: None }));
                Phase::Fatal
            }
        }
    }
}

fn back_off<R>(
    delay: Duration,
    attempt: u32,
    reason: RestartReason,
    now: Duration,
    out: &mut Vec<Action<R>>,
) -> Phase<R> {
    out.push(Action::Emit(EventKind::BackingOff { delay, attempt }));
    Phase::BackingOff { until: now.saturating_add(delay), reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::RestartPolicy;

    /// Runs are plain numbers here.
    type Core = super::Core<u32>;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// The actions with runs replaced by their number, for comparison.
    fn brief(actions: Vec<Action<u32>>) -> Vec<String> {
        actions
            .into_iter()
            .map(|a| match a {
                Action::Emit(kind) => format!("emit {kind:?}"),
                Action::Launch { reason, restart_count } => {
                    format!("launch {reason} #{restart_count}")
                }
                Action::Stop(run) => format!("stop run {run}"),
            })
            .collect()
    }

    /// A core whose first run (run 1) is up since `at`.
    fn running(policy: Policy, at: u64) -> Core {
        let mut core = Core::new(policy);
        assert_eq!(brief(core.handle(Input::Start, secs(at))), ["launch start #0"]);
        assert_eq!(core.state(), ProgramState::Starting);
        core.handle(Input::Launched { run: 1, pid: Some(100) }, secs(at));
        assert_eq!(core.state(), ProgramState::Running);
        assert_eq!(core.pid(), Some(100));
        core
    }

    #[test]
    fn start_launches_and_reports_the_spawn() {
        let mut core = Core::new(Policy::default());
        assert_eq!(core.state(), ProgramState::Stopped);
        core.handle(Input::Start, secs(0));
        let actions = brief(core.handle(Input::Launched { run: 1, pid: Some(7) }, secs(0)));
        assert_eq!(actions, ["emit Spawned { pid: Some(7), restart_count: 0, reason: Start }"]);
        assert_eq!(core.restarts(), 0);
    }

    #[test]
    fn crash_backs_off_then_relaunches_when_the_timer_fires() {
        let mut core = running(Policy::default(), 0);
        let actions = brief(core.handle(Input::Exited(Exit::Code(1)), secs(5)));
        assert_eq!(
            actions,
            [
                "emit Exited { exit: Code(1), uptime: 5s }",
                "emit BackingOff { delay: 1s, attempt: 1 }",
            ]
        );
        assert_eq!(core.state(), ProgramState::BackingOff);
        assert_eq!(core.restart_at(), Some(secs(6)));
        assert_eq!(core.since(), secs(5));
        assert_eq!(core.last_exit(), Some(Exit::Code(1)));
        assert_eq!(brief(core.handle(Input::BackoffElapsed, secs(6))), ["launch crash #1"]);
        assert_eq!(core.restarts(), 1);
    }

    #[test]
    fn stop_of_a_running_program_stops_the_run_and_stays_stopped() {
        let mut core = running(Policy::default(), 0);
        assert_eq!(brief(core.handle(Input::Stop, secs(3))), ["stop run 1"]);
        assert_eq!(core.state(), ProgramState::Stopping);
        let actions = brief(core.handle(Input::StopFinished(Exit::Signal(15)), secs(4)));
        assert_eq!(actions, ["emit Exited { exit: Signal(15), uptime: 4s }", "emit Stopped"]);
        assert_eq!(core.state(), ProgramState::Stopped);
        assert!(core.handle(Input::Stop, secs(5)).is_empty());
    }

    #[test]
    fn restart_of_a_running_program_stops_then_launches() {
        let mut core = running(Policy::default(), 0);
        let actions = brief(core.handle(Input::Restart(RestartReason::FileChange), secs(1)));
        assert_eq!(actions, ["emit RestartingNow { reason: FileChange }", "stop run 1"]);
        let actions = brief(core.handle(Input::StopFinished(Exit::Signal(15)), secs(1)));
        assert_eq!(
            actions,
            ["emit Exited { exit: Signal(15), uptime: 1s }", "launch file_change #1"]
        );
    }

    #[test]
    fn start_while_active_does_nothing() {
        let mut core = running(Policy::default(), 0);
        assert!(core.handle(Input::Start, secs(1)).is_empty());
        core.handle(Input::Exited(Exit::Code(1)), secs(1));
        assert!(core.handle(Input::Start, secs(1)).is_empty());
        assert_eq!(core.state(), ProgramState::BackingOff);
    }

    #[test]
    fn restart_from_fatal_starts_with_a_fresh_budget() {
        let policy = Policy {
            max_restarts: crate::MaxRestarts { count: 0, within: secs(60) },
            ..Policy::default()
        };
        let mut core = running(policy, 0);
        core.handle(Input::Exited(Exit::Code(1)), secs(1));
        assert_eq!(core.state(), ProgramState::Fatal);
        let actions = brief(core.handle(Input::Restart(RestartReason::Requested), secs(2)));
        assert_eq!(actions, ["emit RestartingNow { reason: Requested }", "launch requested #1"]);
        // The failed launch counts as the first start again: fatal at once.
        let actions = brief(core.handle(Input::LaunchFailed(LaunchError::new("gone")), secs(2)));
        assert_eq!(
            actions,
            [
                "emit SpawnFailed { error: LaunchError { message: \"gone\" } }",
                "emit Fatal { crashes: 1, within: 60s, last_exit: None }",
            ]
        );
    }

    #[test]
    fn spawn_failure_after_a_run_backs_off() {
        let mut core = running(Policy { restart: RestartPolicy::Always, ..Policy::default() }, 0);
        core.handle(Input::Exited(Exit::Code(1)), secs(1));
        core.handle(Input::BackoffElapsed, secs(2));
        let actions = brief(core.handle(Input::LaunchFailed(LaunchError::new("busy")), secs(2)));
        assert_eq!(
            actions,
            [
                "emit SpawnFailed { error: LaunchError { message: \"busy\" } }",
                "emit BackingOff { delay: 2s, attempt: 2 }",
            ]
        );
    }

    #[test]
    fn replace_takes_the_new_policy_with_a_fresh_budget_and_keeps_counting() {
        let mut core = running(crashes_allowed(0), 0);
        // Under the old policy the first crash would be fatal; the new one allows two.
        assert!(core.handle(Input::Replace(crashes_allowed(2)), secs(1)).is_empty());
        assert_eq!(core.state(), ProgramState::Running, "the run carries on");
        assert_eq!(core.since(), secs(0));
        let actions = brief(core.handle(Input::Exited(Exit::Code(1)), secs(2)));
        assert_eq!(
            actions,
            [
                "emit Exited { exit: Code(1), uptime: 2s }",
                "emit BackingOff { delay: 1s, attempt: 1 }"
            ]
        );
        assert_eq!(brief(core.handle(Input::BackoffElapsed, secs(3))), ["launch crash #1"]);
    }

    #[test]
    fn replace_clears_the_crash_history() {
        let mut core = running(crashes_allowed(1), 0);
        core.handle(Input::Exited(Exit::Code(1)), secs(1));
        core.handle(Input::BackoffElapsed, secs(2));
        core.handle(Input::Launched { run: 2, pid: None }, secs(2));
        // One crash so far: a second one would be fatal, but the new spec starts over.
        core.handle(Input::Replace(crashes_allowed(1)), secs(2));
        let actions = brief(core.handle(Input::Exited(Exit::Code(1)), secs(2)));
        assert_eq!(actions[1], "emit BackingOff { delay: 1s, attempt: 1 }");
    }

    #[test]
    fn restart_active_restarts_only_an_active_program() {
        let mut core = running(Policy::default(), 0);
        let actions = brief(core.handle(Input::RestartActive(RestartReason::FileChange), secs(1)));
        assert_eq!(actions, ["emit RestartingNow { reason: FileChange }", "stop run 1"]);
        core.handle(Input::StopFinished(Exit::Signal(15)), secs(1));
        core.handle(Input::Launched { run: 2, pid: None }, secs(1));
        // Backing off: restarted at once.
        core.handle(Input::Exited(Exit::Code(1)), secs(2));
        assert_eq!(core.state(), ProgramState::BackingOff);
        let actions = brief(core.handle(Input::RestartActive(RestartReason::FileChange), secs(2)));
        assert_eq!(actions, ["emit RestartingNow { reason: FileChange }", "launch file_change #2"]);
        core.handle(Input::Launched { run: 3, pid: None }, secs(2));
        // Stopped: left so.
        core.handle(Input::Stop, secs(3));
        core.handle(Input::StopFinished(Exit::Signal(15)), secs(3));
        assert!(core.handle(Input::RestartActive(RestartReason::FileChange), secs(4)).is_empty());
        assert_eq!(core.state(), ProgramState::Stopped);
        assert_eq!(core.since(), secs(3));
    }

    fn crashes_allowed(count: u32) -> Policy {
        Policy { max_restarts: crate::MaxRestarts { count, within: secs(60) }, ..Policy::default() }
    }

    #[test]
    fn stray_inputs_leave_the_phase_alone() {
        let mut core = running(Policy::default(), 0);
        assert!(core.handle(Input::BackoffElapsed, secs(1)).is_empty());
        assert!(core.handle(Input::StopFinished(Exit::Code(0)), secs(1)).is_empty());
        assert!(core.handle(Input::Launched { run: 2, pid: None }, secs(1)).is_empty());
        assert_eq!(core.state(), ProgramState::Running);
        assert_eq!(core.since(), secs(0));
        core.handle(Input::Stop, secs(1));
        assert!(core.handle(Input::Exited(Exit::Code(0)), secs(1)).is_empty());
        assert!(core.handle(Input::Restart(RestartReason::Requested), secs(1)).is_empty());
        assert_eq!(core.state(), ProgramState::Stopping);
    }
}
