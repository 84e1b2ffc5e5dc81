//! The supervision mechanism, driven through fake runs on a paused clock.
//!
//! A fake run ends when the test says so (`RunCtl::end`); a graceful stop ends it with
//! `SIGTERM` after the fixture's `stop_delay`. Every wait is bounded by `BOUND`; on a paused
//! clock that costs nothing unless the test is stuck.

#![expect(clippy::expect_used, reason = "a failed expectation is a failed test")]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tend_supervisor::{
    BoxFuture, Event, EventKind, EventReceiver, Exit, LaunchContext, LaunchError, Launcher,
    MaxRestarts, Policy, ProgramHandle, ProgramSpec, ProgramState, RestartPolicy, RestartReason,
    Running, Supervisor,
};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, timeout};

const BOUND: Duration = Duration::from_secs(3600);
const TERM: Exit = Exit::Signal(15);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The test's side of one fake run.
struct RunCtl {
    ctx: LaunchContext,
    pid: u32,
    exit: Arc<watch::Sender<Option<Exit>>>,
}

impl RunCtl {
    /// Ends the run with `exit` (if it has not ended yet).
    fn end(&self, exit: Exit) {
        end(&self.exit, exit);
    }

    /// Resolves once the run has ended, however.
    async fn ended(&self) -> Exit {
        let mut rx = self.exit.subscribe();
        let exit = timeout(BOUND, rx.wait_for(Option::is_some)).await.expect("run never ended");
        exit.expect("sender alive").expect("checked by wait_for")
    }
}

fn end(exit: &watch::Sender<Option<Exit>>, with: Exit) {
    exit.send_if_modified(|e| {
        let first = e.is_none();
        if first {
            *e = Some(with);
        }
        first
    });
}

struct FakeLauncher {
    runs: mpsc::UnboundedSender<RunCtl>,
    fail: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
    next_pid: Arc<AtomicU32>,
    stop_delay: Duration,
}

impl Launcher for FakeLauncher {
    fn launch(&self, ctx: LaunchContext) -> BoxFuture<'_, Result<Box<dyn Running>, LaunchError>> {
        Box::pin(async move {
            if self.fail.load(Ordering::SeqCst) {
                return Err(LaunchError::new(format!("spawning `{}`: not found", ctx.program)));
            }
            let pid = self.next_pid.fetch_add(1, Ordering::SeqCst);
            let exit = Arc::new(watch::Sender::new(None));
            let run = FakeRun {
                name: ctx.program.clone(),
                exit: Arc::clone(&exit),
                log: Arc::clone(&self.log),
                pid,
                stop_delay: self.stop_delay,
            };
            // The test may have stopped listening; that is its business.
            let _ = self.runs.send(RunCtl { ctx, pid, exit });
            Ok(Box::new(run) as Box<dyn Running>)
        })
    }
}

struct FakeRun {
    name: String,
    pid: u32,
    exit: Arc<watch::Sender<Option<Exit>>>,
    log: Arc<Mutex<Vec<String>>>,
    stop_delay: Duration,
}

impl FakeRun {
    fn note(&self, what: &str) {
        self.log.lock().expect("log lock").push(format!("{what} {}", self.name));
    }
}

impl Running for FakeRun {
    fn pid(&self) -> Option<u32> {
        Some(self.pid)
    }

    fn wait(&self) -> BoxFuture<'_, Exit> {
        let mut rx = self.exit.subscribe();
        Box::pin(async move {
            match rx.wait_for(Option::is_some).await.map(|e| *e) {
                Ok(Some(exit)) => exit,
                // `self` holds the sender, so this cannot happen.
                Ok(None) | Err(_) => std::future::pending().await,
            }
        })
    }

    fn stop(&self) -> BoxFuture<'_, Exit> {
        Box::pin(async move {
            self.note("stop");
            // Simulates the grace period of a real stop.
            tokio::time::sleep(self.stop_delay).await;
            end(&self.exit, TERM);
            self.note("stopped");
            self.wait().await
        })
    }
}

struct Fixture {
    supervisor: Supervisor,
    events: EventReceiver,
    runs: mpsc::UnboundedReceiver<RunCtl>,
    runs_tx: mpsc::UnboundedSender<RunCtl>,
    fail: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
    next_pid: Arc<AtomicU32>,
    stop_delay: Duration,
}

impl Fixture {
    fn new() -> Self {
        let (supervisor, events) = Supervisor::new();
        let (runs_tx, runs) = mpsc::unbounded_channel();
        Fixture {
            supervisor,
            events,
            runs,
            runs_tx,
            fail: Arc::new(AtomicBool::new(false)),
            log: Arc::default(),
            next_pid: Arc::new(AtomicU32::new(1000)),
            stop_delay: Duration::ZERO,
        }
    }

    fn add(&self, name: &str, policy: Policy) -> ProgramHandle {
        self.supervisor.add(self.spec(name, policy))
    }

    fn spec(&self, name: &str, policy: Policy) -> ProgramSpec {
        let launcher = FakeLauncher {
            runs: self.runs_tx.clone(),
            fail: Arc::clone(&self.fail),
            log: Arc::clone(&self.log),
            next_pid: Arc::clone(&self.next_pid),
            stop_delay: self.stop_delay,
        };
        ProgramSpec { name: name.into(), policy, launcher: Arc::new(launcher) }
    }

    fn fail_launches(&self, fail: bool) {
        self.fail.store(fail, Ordering::SeqCst);
    }

    async fn event(&mut self) -> Event {
        timeout(BOUND, self.events.recv()).await.expect("no event in time").expect("events open")
    }

    /// The next event's kind (single-program tests).
    async fn kind(&mut self) -> EventKind {
        self.event().await.kind
    }

    async fn run(&mut self) -> RunCtl {
        timeout(BOUND, self.runs.recv()).await.expect("no launch in time").expect("runs open")
    }

    /// The run just launched, checking the `Spawned` event that reports it.
    async fn spawned(&mut self, restart_count: u32, reason: RestartReason) -> RunCtl {
        let run = self.run().await;
        assert_eq!((run.ctx.restart_count, run.ctx.reason), (restart_count, reason));
        assert_eq!(
            self.kind().await,
            EventKind::Spawned { pid: Some(run.pid), restart_count, reason }
        );
        run
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }
}

fn crashes(count: u32) -> Policy {
    Policy { max_restarts: MaxRestarts { count, within: secs(60) }, ..Policy::default() }
}

async fn done<T>(future: impl Future<Output = T>) -> T {
    timeout(BOUND, future).await.expect("did not finish in time")
}

#[tokio::test(start_paused = true)]
async fn crash_backs_off_with_growing_delays_and_resets_after_stable_uptime() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let mut run = f.spawned(0, RestartReason::Start).await;
    assert_eq!(run.ctx.program, "web");

    for (attempt, delay) in [(1, 1), (2, 2), (3, 4)] {
        run.end(Exit::Code(1));
        assert_eq!(
            f.kind().await,
            EventKind::Exited { exit: Exit::Code(1), uptime: Duration::ZERO }
        );
        assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(delay), attempt });
        assert_eq!(web.state(), ProgramState::BackingOff);
        let backing_off = Instant::now();
        run = f.spawned(attempt, RestartReason::Crash).await;
        assert_eq!(backing_off.elapsed(), secs(delay));
    }

    // A run that stays up for `reset_after` starts the backoff over…
    tokio::time::advance(secs(30)).await;
    run.end(Exit::Signal(11));
    assert_eq!(f.kind().await, EventKind::Exited { exit: Exit::Signal(11), uptime: secs(30) });
    assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(1), attempt: 1 });
    run = f.spawned(4, RestartReason::Crash).await;
    // …and a quick crash after it grows it again.
    run.end(Exit::Code(1));
    f.kind().await;
    assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(2), attempt: 2 });
}

#[tokio::test(start_paused = true)]
async fn restart_exit_code_restarts_at_once_and_is_not_a_crash() {
    let mut f = Fixture::new();
    let web = f.add("web", crashes(1));
    let mut run = f.spawned(0, RestartReason::Start).await;
    let start = Instant::now();
    for restart_count in 1..=5 {
        run.end(Exit::Code(42));
        assert_eq!(
            f.kind().await,
            EventKind::Exited { exit: Exit::Code(42), uptime: Duration::ZERO }
        );
        assert_eq!(f.kind().await, EventKind::RestartingNow { reason: RestartReason::ExitCode });
        run = f.spawned(restart_count, RestartReason::ExitCode).await;
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(web.snapshot().restarts, 5);
    // Nor does it grow the backoff: the first real crash waits `initial`.
    run.end(Exit::Code(1));
    f.kind().await;
    assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(1), attempt: 1 });
}

#[tokio::test(start_paused = true)]
async fn too_many_crashes_within_the_window_is_fatal() {
    let mut f = Fixture::new();
    let web = f.add("web", crashes(2));
    let mut run = f.spawned(0, RestartReason::Start).await;
    for restart_count in 1..=2 {
        run.end(Exit::Code(3));
        f.kind().await;
        assert!(matches!(f.kind().await, EventKind::BackingOff { .. }));
        run = f.spawned(restart_count, RestartReason::Crash).await;
    }
    run.end(Exit::Code(3));
    assert_eq!(f.kind().await, EventKind::Exited { exit: Exit::Code(3), uptime: Duration::ZERO });
    assert_eq!(
        f.kind().await,
        EventKind::Fatal { crashes: 3, within: secs(60), last_exit: Some(Exit::Code(3)) }
    );
    let finals = done(f.supervisor.wait_idle()).await;
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].state, ProgramState::Fatal);
    assert_eq!(finals[0].last_exit, Some(Exit::Code(3)));
    assert_eq!(web.state(), ProgramState::Fatal);
    assert!(f.runs.try_recv().is_err(), "a fatal program is not launched again");
}

#[tokio::test(start_paused = true)]
async fn never_policy_ends_a_crashed_program_as_done() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy { restart: RestartPolicy::Never, ..Policy::default() });
    let run = f.spawned(0, RestartReason::Start).await;
    run.end(Exit::Signal(9));
    f.kind().await;
    assert_eq!(f.kind().await, EventKind::Done { exit: Exit::Signal(9) });
    assert_eq!(web.state(), ProgramState::Done);
}

#[tokio::test(start_paused = true)]
async fn exit_zero_is_done_by_default() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    tokio::time::advance(secs(5)).await;
    run.end(Exit::Code(0));
    assert_eq!(f.kind().await, EventKind::Exited { exit: Exit::Code(0), uptime: secs(5) });
    assert_eq!(f.kind().await, EventKind::Done { exit: Exit::Code(0) });
    let snapshot = done(web.wait_idle()).await;
    assert_eq!((snapshot.state, snapshot.last_exit), (ProgramState::Done, Some(Exit::Code(0))));
}

#[tokio::test(start_paused = true)]
async fn always_restarts_clean_exits_with_backoff_but_never_goes_fatal() {
    let mut f = Fixture::new();
    f.add("web", Policy { restart: RestartPolicy::Always, ..crashes(1) });
    let mut run = f.spawned(0, RestartReason::Start).await;
    for (attempt, delay) in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16)] {
        run.end(Exit::Code(0));
        f.kind().await;
        assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(delay), attempt });
        run = f.spawned(attempt, RestartReason::Start).await;
    }
}

#[tokio::test(start_paused = true)]
async fn stop_during_backoff_cancels_the_restart() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    run.end(Exit::Code(1));
    f.kind().await;
    assert!(matches!(f.kind().await, EventKind::BackingOff { .. }));

    let before = Instant::now();
    done(web.stop()).await.expect("stopped");
    assert_eq!(before.elapsed(), Duration::ZERO, "stop does not wait out the backoff");
    assert_eq!(f.kind().await, EventKind::Stopped);
    assert_eq!(web.state(), ProgramState::Stopped);

    tokio::time::advance(BOUND).await;
    // A verb round trip: everything the task had to do before it is done.
    done(web.stop()).await.expect("still supervised");
    assert!(f.runs.try_recv().is_err(), "a stopped program is not launched again");
    assert!(f.events.try_recv().is_err());
    assert_eq!(web.state(), ProgramState::Stopped);
}

#[tokio::test(start_paused = true)]
async fn stop_of_a_running_program_is_graceful_and_final() {
    let mut f = Fixture::new();
    f.stop_delay = secs(2);
    let web = f.add("web", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    tokio::time::advance(secs(10)).await;

    let stopping = web.stop();
    done(stopping).await.expect("stopped");
    assert_eq!(run.ended().await, TERM);
    assert_eq!(f.kind().await, EventKind::Exited { exit: TERM, uptime: secs(12) });
    assert_eq!(f.kind().await, EventKind::Stopped);
    let snapshot = web.snapshot();
    assert_eq!(snapshot.state, ProgramState::Stopped);
    assert_eq!(snapshot.pid, None);
    assert_eq!(snapshot.last_exit, Some(TERM));
    assert_eq!(f.log(), ["stop web", "stopped web"]);

    // And it starts again on request, counting the restart.
    done(web.start()).await.expect("started");
    f.spawned(1, RestartReason::Start).await;
    assert_eq!(web.state(), ProgramState::Running);
}

#[tokio::test(start_paused = true)]
async fn restart_of_a_running_program_stops_it_then_starts_it() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let old = f.spawned(0, RestartReason::Start).await;

    done(web.restart(RestartReason::FileChange)).await.expect("restarted");
    assert_eq!(web.state(), ProgramState::Running);
    assert_eq!(old.ended().await, TERM);
    assert_eq!(f.kind().await, EventKind::RestartingNow { reason: RestartReason::FileChange });
    assert_eq!(f.kind().await, EventKind::Exited { exit: TERM, uptime: Duration::ZERO });
    let new = f.spawned(1, RestartReason::FileChange).await;
    assert_eq!(web.snapshot().pid, Some(new.pid));
    assert_eq!(web.snapshot().restarts, 1);
    assert_eq!(f.log(), ["stop web", "stopped web"]);
}

#[tokio::test(start_paused = true)]
async fn restart_during_backoff_starts_at_once() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    run.end(Exit::Code(1));
    f.kind().await;
    assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(1), attempt: 1 });

    let before = Instant::now();
    done(web.restart(RestartReason::Requested)).await.expect("restarted");
    assert_eq!(f.kind().await, EventKind::RestartingNow { reason: RestartReason::Requested });
    f.spawned(1, RestartReason::Requested).await;
    assert_eq!(before.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn stop_all_stops_every_program_in_one_wave() {
    let mut f = Fixture::new();
    f.stop_delay = secs(1);
    let programs = ["a", "b", "c"].map(|name| f.add(name, Policy::default()));
    for _ in &programs {
        assert!(matches!(f.kind().await, EventKind::Spawned { .. }));
    }

    let before = Instant::now();
    done(f.supervisor.stop_all()).await;
    assert_eq!(before.elapsed(), secs(1), "every stop ran at once: one stop's time in all");
    let log = f.log();
    assert_eq!(&log[..3], ["stop c", "stop b", "stop a"], "each was told before any ended");
    let mut ended: Vec<_> = log[3..].to_vec();
    ended.sort();
    assert_eq!(ended, ["stopped a", "stopped b", "stopped c"]);
    assert!(programs.iter().all(|p| p.state() == ProgramState::Stopped));
    let mut stopped = Vec::new();
    while let Ok(event) = f.events.try_recv() {
        if event.kind == EventKind::Stopped {
            stopped.push(event.program);
        }
    }
    stopped.sort();
    assert_eq!(stopped, ["a", "b", "c"]);
}

#[tokio::test(start_paused = true)]
async fn wait_idle_resolves_once_every_program_has_ended() {
    let mut f = Fixture::new();
    f.add("one", Policy::default());
    f.add("two", Policy { restart: RestartPolicy::Never, ..Policy::default() });
    let (mut one, mut two) = (f.run().await, f.run().await);
    if one.ctx.program == "two" {
        std::mem::swap(&mut one, &mut two);
    }

    assert!(timeout(secs(600), f.supervisor.wait_idle()).await.is_err(), "both still run");
    one.end(Exit::Code(0));
    assert!(timeout(secs(600), f.supervisor.wait_idle()).await.is_err(), "two still runs");
    two.end(Exit::Code(7));
    let finals = done(f.supervisor.wait_idle()).await;
    let states: Vec<_> = finals.iter().map(|s| (s.name.as_str(), s.state, s.last_exit)).collect();
    assert_eq!(
        states,
        [
            ("one", ProgramState::Done, Some(Exit::Code(0))),
            ("two", ProgramState::Done, Some(Exit::Code(7))),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn wait_idle_with_no_program_resolves_at_once() {
    let (supervisor, _events) = Supervisor::new();
    assert!(done(supervisor.wait_idle()).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn first_spawn_failure_is_fatal_at_once() {
    let mut f = Fixture::new();
    f.fail_launches(true);
    let web = f.add("nosuchcmd", Policy::default());
    assert_eq!(
        f.kind().await,
        EventKind::SpawnFailed { error: LaunchError::new("spawning `nosuchcmd`: not found") }
    );
    assert_eq!(f.kind().await, EventKind::Fatal { crashes: 1, within: secs(60), last_exit: None });
    let finals = done(f.supervisor.wait_idle()).await;
    assert_eq!(finals[0].state, ProgramState::Fatal);
    assert_eq!(web.snapshot().restarts, 0);

    // Once the binary is there, a start by hand works.
    f.fail_launches(false);
    done(web.start()).await.expect("started");
    f.spawned(1, RestartReason::Start).await;
}

#[tokio::test(start_paused = true)]
async fn later_spawn_failure_counts_as_a_crash() {
    let mut f = Fixture::new();
    f.add("web", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    f.fail_launches(true);
    run.end(Exit::Code(1));
    f.kind().await;
    assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(1), attempt: 1 });
    assert!(matches!(f.kind().await, EventKind::SpawnFailed { .. }));
    assert_eq!(f.kind().await, EventKind::BackingOff { delay: secs(2), attempt: 2 });
    f.fail_launches(false);
    let before = Instant::now();
    f.spawned(2, RestartReason::Crash).await;
    assert_eq!(before.elapsed(), secs(2));
}

#[tokio::test(start_paused = true)]
async fn snapshot_follows_the_program() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    let snapshot = web.snapshot();
    assert_eq!(snapshot.name, "web");
    assert_eq!(snapshot.state, ProgramState::Running);
    assert_eq!(snapshot.pid, Some(run.pid));
    assert_eq!((snapshot.restarts, snapshot.last_exit, snapshot.restart_at), (0, None, None));

    tokio::time::advance(secs(3)).await;
    run.end(Exit::Code(1));
    f.kind().await;
    f.kind().await;
    let snapshot = web.snapshot();
    assert_eq!(snapshot.state, ProgramState::BackingOff);
    assert_eq!(snapshot.pid, None);
    assert_eq!(snapshot.last_exit, Some(Exit::Code(1)));
    assert_eq!(snapshot.since, Instant::now());
    assert_eq!(snapshot.restart_at, Some(Instant::now() + secs(1)));
    assert_eq!(f.supervisor.program("web").map(|p| p.name().to_owned()), Some("web".into()));
    assert!(f.supervisor.program("api").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_event_receiver_does_not_stop_supervision() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let run = f.run().await;
    let (_, closed) = mpsc::unbounded_channel();
    drop(std::mem::replace(&mut f.events, closed));
    run.end(Exit::Code(1));
    let run = f.run().await;
    assert_eq!(run.ctx.reason, RestartReason::Crash);
    assert_eq!(web.state(), ProgramState::Running);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_supervisor_and_handles_stops_the_programs() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let run = f.run().await;
    drop(web);
    drop(f.supervisor);
    assert_eq!(run.ended().await, TERM);
    let events: Vec<_> =
        [done(f.events.recv()).await, done(f.events.recv()).await, done(f.events.recv()).await]
            .into_iter()
            .map(|e| e.map(|e| e.kind))
            .collect();
    assert_eq!(events.last(), Some(&Some(EventKind::Stopped)));
}

#[tokio::test(start_paused = true)]
async fn remove_stops_the_program_and_drops_it() {
    let mut f = Fixture::new();
    f.stop_delay = secs(1);
    let web = f.add("web", Policy::default());
    f.add("api", Policy::default());
    let run = f.spawned(0, RestartReason::Start).await;
    assert!(matches!(f.kind().await, EventKind::Spawned { .. }));

    let last = done(f.supervisor.remove("web")).await.expect("removed");
    assert_eq!(last.map(|s| s.state), Some(ProgramState::Stopped));
    assert_eq!(run.ended().await, TERM);
    assert_eq!(f.log(), ["stop web", "stopped web"]);
    let names: Vec<String> = f.supervisor.programs().iter().map(|p| p.name().into()).collect();
    assert_eq!(names, ["api"]);
    assert!(f.supervisor.program("web").is_none());
    assert_eq!(done(f.supervisor.remove("web")).await, Ok(None), "already gone");

    drop(web);
}

#[tokio::test(start_paused = true)]
async fn replace_then_restart_runs_the_new_spec_and_keeps_counting() {
    let mut f = Fixture::new();
    let web = f.add("web", crashes(0));
    let old = f.spawned(0, RestartReason::Start).await;

    // The new launcher tags its runs through a separate channel.
    let (runs_tx, mut new_runs) = mpsc::unbounded_channel();
    let launcher = FakeLauncher {
        runs: runs_tx,
        fail: Arc::new(AtomicBool::new(false)),
        log: Arc::clone(&f.log),
        next_pid: Arc::new(AtomicU32::new(5000)),
        stop_delay: Duration::ZERO,
    };
    done(web.replace(crashes(3), Arc::new(launcher))).await.expect("replaced");
    assert_eq!(web.state(), ProgramState::Running, "replace alone does not restart");
    assert!(f.events.try_recv().is_err());

    done(web.restart(RestartReason::ConfigChange)).await.expect("restarted");
    assert_eq!(old.ended().await, TERM, "the old run is stopped by its own launcher's run");
    let new = timeout(BOUND, new_runs.recv()).await.expect("launched").expect("open");
    assert_eq!((new.ctx.restart_count, new.ctx.reason), (1, RestartReason::ConfigChange));
    assert_eq!(new.pid, 5000);
    assert!(f.runs.try_recv().is_err(), "the old launcher is not used any more");

    // The new policy decides: three crashes allowed where none was.
    new.end(Exit::Code(1));
    let mut kinds = Vec::new();
    while kinds.len() < 5 {
        kinds.push(f.kind().await);
    }
    assert_eq!(kinds[0], EventKind::RestartingNow { reason: RestartReason::ConfigChange });
    assert_eq!(kinds[3], EventKind::Exited { exit: Exit::Code(1), uptime: Duration::ZERO });
    assert_eq!(kinds[4], EventKind::BackingOff { delay: secs(1), attempt: 1 });
}

#[tokio::test(start_paused = true)]
async fn replace_of_an_idle_program_takes_effect_at_its_next_start() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy { restart: RestartPolicy::Never, ..Policy::default() });
    let run = f.spawned(0, RestartReason::Start).await;
    run.end(Exit::Code(0));
    done(web.wait_idle()).await;
    let always = Policy { restart: RestartPolicy::Always, ..Policy::default() };
    let launcher = FakeLauncher {
        runs: f.runs_tx.clone(),
        fail: Arc::clone(&f.fail),
        log: Arc::clone(&f.log),
        next_pid: Arc::clone(&f.next_pid),
        stop_delay: Duration::ZERO,
    };
    done(web.replace(always, Arc::new(launcher))).await.expect("replaced");
    assert_eq!(web.state(), ProgramState::Done, "stays idle");
    done(web.start()).await.expect("started");
    let run = f.run().await;
    assert_eq!(run.ctx.restart_count, 1);
    run.end(Exit::Code(0));
    let run = f.run().await;
    assert_eq!(run.ctx.reason, RestartReason::Start, "restart = always now");
}

#[tokio::test(start_paused = true)]
async fn a_hold_keeps_wait_idle_from_resolving() {
    let mut f = Fixture::new();
    f.add("old", Policy::default());
    f.run().await;
    let hold = f.supervisor.hold();
    let nested = f.supervisor.hold();
    let supervisor = f.supervisor.clone();
    let idle = tokio::spawn(async move { supervisor.wait_idle().await });

    // Between the removal of one program and the addition of the next, nothing runs…
    done(f.supervisor.remove("old")).await.expect("removed");
    tokio::time::advance(secs(60)).await;
    assert!(!idle.is_finished(), "held: not idle");
    f.add("new", Policy::default());
    drop(hold);
    drop(nested);
    let new = f.run().await;
    tokio::time::advance(secs(60)).await;
    assert!(!idle.is_finished(), "`new` runs");

    // …and once the hold is gone, the end of `new` is the end.
    new.end(Exit::Code(0));
    let finals = done(idle).await.expect("joined");
    let names: Vec<&str> = finals.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["new"]);
}

#[tokio::test(start_paused = true)]
async fn restart_if_active_leaves_an_idle_program_alone() {
    let mut f = Fixture::new();
    let web = f.add("web", Policy::default());
    let old = f.spawned(0, RestartReason::Start).await;
    done(web.restart_if_active(RestartReason::FileChange)).await.expect("restarted");
    assert_eq!(old.ended().await, TERM);
    assert_eq!(f.run().await.ctx.reason, RestartReason::FileChange);
    done(web.stop()).await.expect("stopped");
    done(web.restart_if_active(RestartReason::FileChange)).await.expect("carried out");
    assert_eq!(web.state(), ProgramState::Stopped);
    assert!(f.runs.try_recv().is_err(), "not started");
}

#[tokio::test(start_paused = true)]
async fn programs_added_once_stop_all_began_are_added_stopped() {
    let mut f = Fixture::new();
    f.stop_delay = secs(1);
    f.add("a", Policy::default());
    f.run().await;
    assert!(!f.supervisor.is_stopping());
    let supervisor = f.supervisor.clone();
    let stopping = tokio::spawn(async move { supervisor.stop_all().await });
    tokio::task::yield_now().await;
    assert!(f.supervisor.is_stopping());
    let late = f.add("late", Policy::default());
    assert_eq!(late.state(), ProgramState::Stopped);
    done(stopping).await.expect("joined");
    let finals = done(f.supervisor.wait_idle()).await;
    assert!(finals.iter().all(|s| s.state == ProgramState::Stopped));
    assert!(f.runs.try_recv().is_err(), "`late` never ran");
}

#[tokio::test(start_paused = true)]
async fn programs_added_stopped_are_listed_and_start_one_by_one_as_a_first_start() {
    let mut f = Fixture::new();
    let a = f.supervisor.add_stopped(f.spec("a", Policy::default()));
    let b = f.supervisor.add_stopped(f.spec("b", Policy::default()));
    let listed: Vec<String> = f.supervisor.snapshots().into_iter().map(|s| s.name).collect();
    assert_eq!(listed, ["a", "b"], "listed before anything starts");
    assert_eq!(b.snapshot().state, ProgramState::Stopped);
    // A start resolves once the launch is done: the first start, reason `start`.
    assert!(done(f.supervisor.start(&a)).await);
    let run_a = f.spawned(0, RestartReason::Start).await;
    assert_eq!(a.snapshot().state, ProgramState::Running);
    assert_eq!(b.snapshot().state, ProgramState::Stopped, "b waits for its turn");
    assert!(done(f.supervisor.start(&b)).await);
    let run_b = f.spawned(0, RestartReason::Start).await;
    // Once the app stops, nothing more is started.
    let c = f.supervisor.add_stopped(f.spec("c", Policy::default()));
    let stopping = tokio::spawn({
        let supervisor = f.supervisor.clone();
        async move { supervisor.stop_all().await }
    });
    run_b.end(TERM);
    run_a.end(TERM);
    done(stopping).await.expect("stop_all");
    assert!(!done(f.supervisor.start(&c)).await, "no start once stopping");
    assert_eq!(c.snapshot().state, ProgramState::Stopped);
}
