//! A model-based test of the pool, after poolboy's QuickCheck state machine
//! (devinus/poolboy `test/poolboy_eqc.erl`), extended with what that model leaves out: a queue
//! of waiters, consumers that die, checkouts that time out (including a zero timeout racing
//! its own answer), and idle workers that die.
//!
//! Each case starts a pool of random size, overflow and strategy, and runs a random sequence of
//! steps against it. Consumers are processes the test drives by messages: check out (not
//! blocking, blocking, blocking with a short timeout, or with a zero timeout), check in, or be
//! killed. The test also kills idle and checked-out workers and sends spurious messages to the
//! pool server (junk, an `Exit` and a `Down` nobody caused, the `Exit` of a process linked to
//! the server, checkins of workers that are not checked out). After every step:
//!
//! - `status()` equals the model's (state, idle, overflow, checked out, waiting);
//! - `workers()` is exactly the model's idle workers plus its checked-out workers, all alive;
//!   a worker that appears is one never seen before, and a dismissed worker is dead;
//! - every worker a consumer got is the one the model predicted (lifo or fifo order, or a new
//!   worker), and no worker is ever held by two consumers;
//! - the pool server is the same process (a crash and restart would hide bugs).
//!
//! Every step is made synchronous before the comparison, without sleeping: a consumer's cast is
//! sent before it reports, so the test's next call to the server is ordered after it; `exit`
//! returns once the victim's links and monitors have fired, so its `Exit` or `Down` is in the
//! server's mailbox before the test's next call; a waiter that gets served replies to its own
//! process, so the test waits for that consumer's report; a consumer that queues is waited for
//! by asking for the status until it shows in the queue.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pool::{CheckoutError, Pool, PoolConfig, PoolState, Pools, Status, Strategy as PoolStrategy};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use runtime::{
    Down, Exit, ExitReason, Pid, exit, is_alive, link, make_ref, receive, receive_match_timeout,
    receive_timeout, self_pid, send, spawn,
};

/// Consumer processes per case: enough to take every worker (size 4 + overflow 3) and queue.
const CONSUMERS: usize = 9;
/// How long the test waits for anything that must happen (a report, a consumer to queue).
const PATIENCE: Duration = Duration::from_secs(10);
/// The timeout of a checkout that is meant to succeed or to wait until served.
const LONG: Duration = Duration::from_secs(60);
/// The timeout of a queued checkout that is meant to time out.
const SHORT: Duration = Duration::from_millis(5);

/// How a consumer checks out.
#[derive(Clone, Copy, Debug)]
enum How {
    /// `try_checkout`: a worker or `Full`.
    NonBlock,
    /// Blocking: a worker at once, or queue until served.
    Block,
    /// Blocking with a short timeout: a worker at once, or queue and time out.
    BlockShort,
    /// A zero timeout: the answer races the timeout; either outcome is fine, and a worker
    /// handed over too late must come back (poolboy #70).
    Zero,
}

#[derive(Clone, Copy, Debug)]
enum Spurious {
    /// Messages of types the server does not know.
    Junk,
    /// An `Exit` from a process that is not a worker, sent as a plain message.
    FakeExit,
    /// A `Down` for a monitor the server never set.
    FakeDown,
    /// A real `Exit`: a process linked to the server is killed (poolboy_eqc's spurious_exit).
    LinkedExit,
    /// A checkin of a pid that is not checked out (the test's, an idle worker's, a dead one's).
    StaleCheckin(usize),
}

#[derive(Clone, Copy, Debug)]
enum Cmd {
    Checkout { c: usize, how: How },
    Checkin { c: usize },
    KillConsumer { c: usize, kill: bool },
    KillCheckedOut { i: usize },
    KillIdle { i: usize },
    Spurious(Spurious),
}

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        2 => Just(How::NonBlock),
        3 => Just(How::Block),
        1 => Just(How::BlockShort),
        1 => Just(How::Zero),
    ]
}

fn spurious() -> impl Strategy<Value = Spurious> {
    prop_oneof![
        Just(Spurious::Junk),
        Just(Spurious::FakeExit),
        Just(Spurious::FakeDown),
        Just(Spurious::LinkedExit),
        (0..8usize).prop_map(Spurious::StaleCheckin),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        6 => (0..CONSUMERS, how()).prop_map(|(c, how)| Cmd::Checkout { c, how }),
        4 => (0..CONSUMERS).prop_map(|c| Cmd::Checkin { c }),
        3 => (0..CONSUMERS, any::<bool>()).prop_map(|(c, kill)| Cmd::KillConsumer { c, kill }),
        1 => (0..8usize).prop_map(|i| Cmd::KillCheckedOut { i }),
        1 => (0..8usize).prop_map(|i| Cmd::KillIdle { i }),
        1 => spurious().prop_map(Cmd::Spurious),
    ]
}

/// What the test tells a consumer to do.
enum Order {
    Checkout(How, Duration),
    Checkin(Pid),
}

/// A process linked to the pool server says it is.
struct Linked(Pid);

/// What a consumer tells the test.
struct Report {
    from: Pid,
    what: Outcome,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    CheckedOut(Result<Pid, CheckoutError>),
    CheckedIn,
}

fn consumer(pool: Pool, test: Pid) {
    loop {
        let what = match receive::<Order>() {
            Order::Checkout(how, timeout) => Outcome::CheckedOut(match how {
                How::NonBlock => pool.try_checkout(),
                How::Block | How::BlockShort => pool.checkout_timeout(timeout),
                How::Zero => pool.checkout_timeout(Duration::ZERO),
            }),
            Order::Checkin(w) => {
                pool.checkin(w);
                Outcome::CheckedIn
            }
        };
        // The report is sent after the checkin cast or the cancel cast of a timed-out
        // checkout, so the test's next call to the server is ordered after them.
        send(
            test,
            Report {
                from: runtime::self_pid(),
                what,
            },
        );
    }
}

/// An idle worker in the model: known, or started by the step under way (its pid is learned
/// from `workers()` afterwards).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Idle {
    Known(Pid),
    New,
}

/// The model: poolboy's state, worker by worker.
struct Model {
    size: usize,
    max_overflow: usize,
    strategy: PoolStrategy,
    idle: VecDeque<Idle>,
    overflow: usize,
    /// Waiting consumers, first come first.
    waiting: VecDeque<usize>,
    /// The worker each consumer holds (a consumer holds at most one: the order in which a
    /// dead consumer's several monitors fire is not specified, so one worker per consumer keeps
    /// the model exact).
    held: [Option<Pid>; CONSUMERS],
}

/// Where a worker checked in goes, as the model says.
enum CheckinTo {
    Waiter(usize),
    Dismissed,
    Idle,
}

impl Model {
    fn state(&self) -> PoolState {
        // poolboy's state_name/1.
        if self.overflow < 1 {
            if self.idle.is_empty() {
                if self.max_overflow < 1 {
                    PoolState::Full
                } else {
                    PoolState::Overflow
                }
            } else {
                PoolState::Ready
            }
        } else if self.overflow == self.max_overflow {
            PoolState::Full
        } else {
            PoolState::Overflow
        }
    }

    fn status(&self) -> Status {
        Status {
            state: self.state(),
            idle: self.idle.len(),
            overflow: self.overflow,
            checked_out: self.held.iter().flatten().count(),
            waiting: self.waiting.len(),
        }
    }

    /// poolboy's handle_checkin: the first waiter, else dismiss an overflow worker, else idle.
    fn checkin(&mut self, w: Pid) -> CheckinTo {
        if let Some(c) = self.waiting.pop_front() {
            self.held[c] = Some(w);
            CheckinTo::Waiter(c)
        } else if self.overflow > 0 {
            self.overflow -= 1;
            CheckinTo::Dismissed
        } else {
            self.idle.push_back(Idle::Known(w));
            CheckinTo::Idle
        }
    }

    fn take_idle(&mut self) -> Option<Idle> {
        match self.strategy {
            PoolStrategy::Lifo => self.idle.pop_back(),
            PoolStrategy::Fifo => self.idle.pop_front(),
        }
    }

    fn known_workers(&self) -> BTreeSet<Pid> {
        let mut s: BTreeSet<Pid> = self.held.iter().flatten().copied().collect();
        s.extend(self.idle.iter().filter_map(|i| match i {
            Idle::Known(p) => Some(*p),
            Idle::New => None,
        }));
        s
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One test case: the pool, its consumers, the model, and what has been seen.
struct Case {
    pools: Option<Pools>,
    pool: Pool,
    server: Pid,
    consumers: [Option<Pid>; CONSUMERS],
    model: Model,
    /// Every worker pid ever seen in this case.
    seen: BTreeSet<Pid>,
    /// Workers that have died or been dismissed.
    gone: Vec<Pid>,
    /// Workers the step under way dismissed (checked dead after it).
    dismissed: Vec<Pid>,
}

type Check = Result<(), TestCaseError>;

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

impl Case {
    fn start(
        size: usize,
        max_overflow: usize,
        strategy: PoolStrategy,
    ) -> Result<Case, TestCaseError> {
        let name = format!("pool_model_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let worker = || {
            runtime::spawn_link(|| {
                let () = receive();
            })
        };
        let cfg = PoolConfig::new(&name, worker)
            .size(size)
            .max_overflow(max_overflow)
            .strategy(strategy);
        let pools = Pools::start_link(vec![cfg]).map_err(|e| fail(format!("start: {e}")))?;
        let pool = Pool::named(&name);
        let server = pool.server_pid().ok_or_else(|| fail("no server".into()))?;
        // Pids come from a global counter, so sorted pids are in start order: the order in
        // which the pool filled its idle queue.
        let initial = pool.workers().map_err(|e| fail(format!("workers: {e}")))?;
        let model = Model {
            size,
            max_overflow,
            strategy,
            idle: initial.iter().map(|p| Idle::Known(*p)).collect(),
            overflow: 0,
            waiting: VecDeque::new(),
            held: [None; CONSUMERS],
        };
        Ok(Case {
            pools: Some(pools),
            pool,
            server,
            consumers: [None; CONSUMERS],
            seen: initial.iter().copied().collect(),
            model,
            gone: Vec::new(),
            dismissed: Vec::new(),
        })
    }

    fn consumer(&mut self, c: usize) -> Pid {
        *self.consumers[c].get_or_insert_with(|| {
            let pool = self.pool.clone();
            let test = self_pid();
            spawn(move || consumer(pool, test))
        })
    }

    fn report(&self, c: usize) -> Result<Outcome, TestCaseError> {
        let pid = self.consumers[c].ok_or_else(|| fail(format!("consumer {c} is not running")))?;
        receive_match_timeout(PATIENCE, |r: &Report| r.from == pid)
            .map(|r| r.what)
            .ok_or_else(|| fail(format!("consumer {c} did not report")))
    }

    fn status(&self) -> Result<Status, TestCaseError> {
        self.pool.status().map_err(|e| fail(format!("status: {e}")))
    }

    /// A worker the pool has just started: never seen before.
    fn fresh(&mut self, w: Pid, what: &str) -> Check {
        if !self.seen.insert(w) {
            return Err(fail(format!("{what}: {w} is not a new worker")));
        }
        Ok(())
    }

    /// Checks a worker the model checked in: if it went to a waiter, that waiter reports it.
    fn checked_in(&mut self, w: Pid) -> Check {
        match self.model.checkin(w) {
            CheckinTo::Waiter(c) => {
                let got = self.report(c)?;
                prop_assert_eq!(got, Outcome::CheckedOut(Ok(w)), "waiter {} served", c);
            }
            CheckinTo::Dismissed => {
                self.dismissed.push(w);
                self.gone.push(w);
            }
            CheckinTo::Idle => {}
        }
        Ok(())
    }

    /// Waits until the server has queued a consumer (the queue is as long as the model's).
    fn queued(&self) -> Check {
        let want = self.model.waiting.len();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.status()?.waiting == want {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(fail(format!("the queue never reached {want}")));
            }
            std::thread::yield_now();
        }
    }

    fn step(&mut self, cmd: Cmd) -> Check {
        match cmd {
            Cmd::Checkout { c, how } => {
                if self.model.waiting.contains(&c) || self.model.held[c].is_some() {
                    return Ok(()); // busy: blocked in a checkout, or holding its one worker
                }
                let pid = self.consumer(c);
                // The model's prediction: a worker from the idle queue, a new overflow worker,
                // or none.
                let from_idle = self.model.take_idle();
                let overflow = from_idle.is_none() && self.model.overflow < self.model.max_overflow;
                let available = from_idle.is_some() || overflow;
                let timeout = match how {
                    How::BlockShort if !available => SHORT,
                    _ => LONG,
                };
                send(pid, Order::Checkout(how, timeout));
                if !available && matches!(how, How::Block) {
                    self.model.waiting.push_back(c);
                    return self.queued();
                }
                let got = match self.report(c)? {
                    Outcome::CheckedOut(r) => r,
                    other => return Err(fail(format!("unexpected report {other:?}"))),
                };
                match (got, from_idle, overflow) {
                    (Ok(w), Some(expected), _) => {
                        if let Idle::Known(e) = expected {
                            prop_assert_eq!(w, e, "{:?} order", self.model.strategy);
                        } else {
                            self.fresh(w, "a replacement worker")?;
                        }
                        self.model.held[c] = Some(w);
                    }
                    (Ok(w), None, true) => {
                        self.fresh(w, "an overflow worker")?;
                        self.model.overflow += 1;
                        self.model.held[c] = Some(w);
                    }
                    (Err(CheckoutError::Timeout), Some(taken), _) if matches!(how, How::Zero) => {
                        // Taken, then given back by the cancel: poolboy's handle_checkin.
                        let w = match taken {
                            Idle::Known(w) => w,
                            Idle::New => {
                                return Err(fail(
                                    "a zero-timeout checkout took a worker not yet known".into(),
                                ));
                            }
                        };
                        prop_assert!(matches!(self.model.checkin(w), CheckinTo::Idle));
                    }
                    (Err(CheckoutError::Timeout), None, true) if matches!(how, How::Zero) => {
                        // A new overflow worker, started and then dismissed by the cancel.
                    }
                    (Err(CheckoutError::Full), None, false) if matches!(how, How::NonBlock) => {}
                    (Err(CheckoutError::Timeout), None, false)
                        if matches!(how, How::BlockShort | How::Zero) => {}
                    (got, from_idle, overflow) => {
                        return Err(fail(format!(
                            "{how:?} checkout gave {got:?}; the model expected {from_idle:?} \
                             from the idle queue, overflow {overflow}"
                        )));
                    }
                }
            }
            Cmd::Checkin { c } => {
                let Some(w) = self.model.held[c].take() else {
                    return Ok(());
                };
                let pid = self.consumer(c);
                send(pid, Order::Checkin(w));
                prop_assert_eq!(self.report(c)?, Outcome::CheckedIn);
                self.checked_in(w)?;
            }
            Cmd::KillConsumer { c, kill } => {
                let Some(pid) = self.consumers[c].take() else {
                    return Ok(());
                };
                let reason = if kill {
                    ExitReason::Kill
                } else {
                    ExitReason::custom("consumer crashed")
                };
                // Returns once the consumer's monitors have fired: the pool's Down is queued.
                exit(pid, reason);
                self.model.waiting.retain(|w| *w != c);
                if let Some(w) = self.model.held[c].take() {
                    self.checked_in(w)?;
                }
            }
            Cmd::KillCheckedOut { i } => {
                let holders: Vec<usize> = (0..CONSUMERS)
                    .filter(|c| self.model.held[*c].is_some())
                    .collect();
                if holders.is_empty() {
                    return Ok(());
                }
                let c = holders[i % holders.len()];
                let Some(w) = self.model.held[c].take() else {
                    return Ok(());
                };
                // Returns once the worker's links have fired: the pool's Exit is queued.
                exit(w, ExitReason::Kill);
                self.gone.push(w);
                // poolboy's handle_worker_exit.
                if let Some(next) = self.model.waiting.pop_front() {
                    match self.report(next)? {
                        Outcome::CheckedOut(Ok(new)) => {
                            self.fresh(new, "a worker started for a waiter")?;
                            self.model.held[next] = Some(new);
                        }
                        other => return Err(fail(format!("waiter {next} got {other:?}"))),
                    }
                } else if self.model.overflow > 0 {
                    self.model.overflow -= 1;
                } else {
                    // A replacement, checked in: there are no waiters and no overflow.
                    self.model.idle.push_back(Idle::New);
                }
            }
            Cmd::KillIdle { i } => {
                let known: Vec<(usize, Pid)> = self
                    .model
                    .idle
                    .iter()
                    .enumerate()
                    .filter_map(|(k, x)| match x {
                        Idle::Known(p) => Some((k, *p)),
                        Idle::New => None,
                    })
                    .collect();
                if known.is_empty() {
                    return Ok(());
                }
                let (k, w) = known[i % known.len()];
                exit(w, ExitReason::Kill);
                self.gone.push(w);
                self.model.idle.remove(k);
                // Replaced, and the replacement checked in (idle workers mean no waiters and
                // no overflow, so it becomes idle).
                prop_assert!(self.model.waiting.is_empty() && self.model.overflow == 0);
                self.model.idle.push_back(Idle::New);
            }
            Cmd::Spurious(s) => self.spurious(s),
        }
        Ok(())
    }

    fn spurious(&mut self, s: Spurious) {
        let server = self.server;
        match s {
            Spurious::Junk => {
                send(server, "junk");
                send(server, 42u64);
                send(server, ());
            }
            Spurious::FakeExit => send(
                server,
                Exit {
                    from: self_pid(),
                    reason: ExitReason::custom("not from a worker"),
                },
            ),
            Spurious::FakeDown => send(
                server,
                Down {
                    monitor: make_ref(),
                    pid: self_pid(),
                    reason: ExitReason::Normal,
                },
            ),
            Spurious::LinkedExit => {
                let me = self_pid();
                let p = spawn(move || {
                    let _ = link(server);
                    send(me, Linked(self_pid()));
                    let () = receive();
                });
                let _ = receive_match_timeout(PATIENCE, |m: &Linked| m.0 == p);
                exit(p, ExitReason::Kill);
            }
            Spurious::StaleCheckin(i) => {
                let mut candidates = vec![self_pid()];
                candidates.extend(self.model.idle.iter().filter_map(|x| match x {
                    Idle::Known(p) => Some(*p),
                    Idle::New => None,
                }));
                candidates.extend(self.gone.iter().copied());
                self.pool.checkin(candidates[i % candidates.len()]);
            }
        }
    }

    /// Compares the pool with the model, and learns the pid of a worker the step started.
    fn compare(&mut self, step: usize, cmd: Cmd) -> Check {
        let status = self.status()?;
        prop_assert_eq!(
            status,
            self.model.status(),
            "status after step {} ({:?})",
            step,
            cmd
        );
        prop_assert_eq!(
            self.pool.server_pid(),
            Some(self.server),
            "the server restarted"
        );
        let workers: BTreeSet<Pid> = self
            .pool
            .workers()
            .map_err(|e| fail(format!("workers: {e}")))?
            .into_iter()
            .collect();
        let known = self.model.known_workers();
        let mut new: Vec<Pid> = workers.difference(&known).copied().collect();
        let missing: Vec<Pid> = known.difference(&workers).copied().collect();
        prop_assert!(
            missing.is_empty(),
            "workers lost after step {} ({:?}): {:?}",
            step,
            cmd,
            missing
        );
        match self.model.idle.iter().position(|x| *x == Idle::New) {
            Some(k) => {
                prop_assert_eq!(new.len(), 1, "one new worker after step {}", step);
                let w = new.remove(0);
                self.fresh(w, "a replacement worker")?;
                self.model.idle[k] = Idle::Known(w);
            }
            None => prop_assert!(new.is_empty(), "unknown workers {:?}", new),
        }
        for w in &workers {
            prop_assert!(is_alive(*w), "worker {} is dead", w);
        }
        for w in self.dismissed.drain(..) {
            prop_assert!(!is_alive(w), "dismissed worker {} is alive", w);
        }
        // One holder per worker.
        let held: Vec<Pid> = self.model.held.iter().flatten().copied().collect();
        let distinct: BTreeSet<Pid> = held.iter().copied().collect();
        prop_assert_eq!(held.len(), distinct.len(), "a worker held twice");
        Ok(())
    }

    /// Kills the consumers, checks that every worker came back, stops the pool and checks that
    /// every worker is gone.
    fn finish(&mut self) -> Check {
        for c in 0..CONSUMERS {
            if let Some(pid) = self.consumers[c].take() {
                exit(pid, ExitReason::Kill);
            }
        }
        // A waiter may have been served by an earlier consumer's death and reported before
        // it was killed in turn.
        while receive_timeout::<Report>(Duration::ZERO).is_some() {}
        // Every worker came back: overflow workers dismissed, the others idle.
        let s = self.status()?;
        prop_assert_eq!(
            (s.idle, s.overflow, s.checked_out, s.waiting),
            (self.model.size, 0, 0, 0),
            "after every consumer died: {}",
            s
        );
        let workers = self.pool.workers().map_err(|e| fail(format!("{e}")))?;
        let pools = self
            .pools
            .take()
            .ok_or_else(|| fail("stopped twice".into()))?;
        pools.stop().map_err(|e| fail(format!("stop: {e}")))?;
        for w in workers {
            prop_assert!(!is_alive(w), "worker {} outlived the pool", w);
        }
        prop_assert!(!is_alive(self.server));
        Ok(())
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        // After a failure: leave nothing running for the next case.
        for pid in self.consumers.iter_mut().filter_map(Option::take) {
            exit(pid, ExitReason::Kill);
        }
        if let Some(pools) = self.pools.take() {
            let _ = pools.stop();
        }
        while receive_timeout::<Report>(Duration::ZERO).is_some() {}
    }
}

fn run(size: usize, max_overflow: usize, fifo: bool, cmds: Vec<Cmd>) -> Check {
    let strategy = if fifo {
        PoolStrategy::Fifo
    } else {
        PoolStrategy::Lifo
    };
    let mut case = Case::start(size, max_overflow, strategy)?;
    prop_assert_eq!(case.status()?, case.model.status(), "at start");
    for (i, cmd) in cmds.into_iter().enumerate() {
        case.step(cmd)?;
        case.compare(i, cmd)?;
    }
    // Nothing was left over: every report was expected.
    prop_assert!(receive_timeout::<Report>(Duration::ZERO).is_none());
    case.finish()
}

proptest! {
    // A failing case shrinks for at most a minute (a step that waits in vain takes PATIENCE).
    #![proptest_config(ProptestConfig {
        cases: 64,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_pool_behaves_like_the_model(
        size in 0..=4usize,
        max_overflow in 0..=3usize,
        fifo in any::<bool>(),
        cmds in prop::collection::vec(cmd(), 1..40),
    ) {
        run(size, max_overflow, fifo, cmds)?;
    }
}
