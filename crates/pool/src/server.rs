//! The pool server: one per pool, poolboy's semantics.
//!
//! State: idle workers (a deque: lifo takes the newest, fifo the oldest), checked-out workers in
//! a private ETS table of `(worker, checkout ref, consumer monitor)` rows (as Pooly keeps its
//! monitors in ETS), waiting consumers in arrival order, and the overflow count. The server
//! traps exits and links every worker, so a worker's death arrives as an `Exit`; a consumer's
//! death arrives as a `Down`.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use ets::{Options, TypedTable};
use runtime::{
    Down, Exit, ExitReason, GenServer, Init, Message, Next, Pid, Ref, Reply, ReplyTo,
    demonitor_flush, link, monitor, self_pid, send_after, unlink_flush,
};
use supervisor::{ChildSpec, DynamicSupervisor};

use crate::api::{PoolState, PoolStats, Status, Strategy};
use crate::error::CheckoutError;

/// What a pool server needs to start.
pub(crate) struct PoolArgs {
    pub(crate) name: String,
    pub(crate) worker: ChildSpec,
    pub(crate) worker_sup: String,
    pub(crate) size: usize,
    pub(crate) max_overflow: usize,
    pub(crate) strategy: Strategy,
}

pub(crate) enum PoolCall {
    /// Checkout with the client's reference (used to cancel) and whether to wait.
    Checkout {
        cref: Ref,
        block: bool,
    },
    Status,
    Stats,
    Workers,
}

pub(crate) enum PoolReply {
    /// A checkout answered at once.
    Checkout(Result<Pid, CheckoutError>),
    /// A worker handed to a checkout that waited in the queue.
    Handed(Pid),
    Status(Status),
    Stats(PoolStats),
    Workers(Vec<Pid>),
}

pub(crate) enum PoolCast {
    Checkin(Pid),
    /// The client gave up waiting (poolboy's `cancel_waiting`): if it got a worker meanwhile,
    /// that worker is checked back in; otherwise it leaves the queue.
    CancelWaiting(Ref),
}

/// Try again to start workers that could not be started.
struct Replenish;

struct Waiter {
    from: ReplyTo<PoolReply>,
    cref: Ref,
    mref: Ref,
    since: Instant,
}

pub(crate) struct PoolServer {
    name: String,
    worker: ChildSpec,
    sup: DynamicSupervisor,
    size: usize,
    max_overflow: usize,
    strategy: Strategy,
    idle: VecDeque<Pid>,
    /// Every worker this server has linked (idle, checked out, overflow).
    workers: HashSet<Pid>,
    /// Checked-out workers: `(worker, checkout ref, consumer monitor)`.
    monitors: TypedTable<(Pid, Ref, Ref)>,
    waiting: VecDeque<Waiter>,
    overflow: usize,
    /// Permanent workers that could not be (re)started; retried on a timer.
    missing: usize,
    replenish_scheduled: bool,
    stats: PoolStats,
}

/// How long to wait before trying again to start workers that failed to start.
const REPLENISH_DELAY: Duration = Duration::from_millis(500);

impl GenServer for PoolServer {
    type Arg = PoolArgs;
    type Call = PoolCall;
    type Reply = PoolReply;
    type Cast = PoolCast;
    type Continue = ();

    fn init(args: PoolArgs) -> Init<Self> {
        runtime::trap_exit(true);
        let monitors =
            match TypedTable::new(format!("{}_monitors", args.name), Options::set().private()) {
                Ok(t) => t,
                Err(e) => {
                    return Init::Stop(ExitReason::custom(format!(
                        "cannot create the monitors table: {e}"
                    )));
                }
            };
        let sup = DynamicSupervisor::named(&args.worker_sup);
        let mut pool = PoolServer {
            name: args.name,
            worker: args.worker,
            sup,
            size: args.size,
            max_overflow: args.max_overflow,
            strategy: args.strategy,
            idle: VecDeque::with_capacity(args.size),
            workers: HashSet::new(),
            monitors,
            waiting: VecDeque::new(),
            overflow: 0,
            missing: 0,
            replenish_scheduled: false,
            stats: PoolStats::default(),
        };
        // Prepopulate synchronously, as poolboy does. A pool whose workers cannot start fails
        // to start with the reason (and its siblings are untouched), instead of crashing.
        for _ in 0..pool.size {
            match pool.new_worker() {
                Ok(w) => pool.idle.push_back(w),
                Err(reason) => {
                    return Init::Stop(ExitReason::custom(format!(
                        "pool {}: a worker failed to start: {reason}",
                        pool.name
                    )));
                }
            }
        }
        Init::Ok(pool)
    }

    fn handle_call(&mut self, req: PoolCall, from: ReplyTo<PoolReply>) -> Reply<PoolReply> {
        match req {
            PoolCall::Checkout { cref, block } => match self.checkout(from, cref, block) {
                Some(r) => Reply::Reply(PoolReply::Checkout(r)),
                None => Reply::NoReply(Next::Wait),
            },
            PoolCall::Status => Reply::Reply(PoolReply::Status(self.status())),
            PoolCall::Stats => Reply::Reply(PoolReply::Stats(self.stats.clone())),
            PoolCall::Workers => {
                let mut all: Vec<Pid> = self.workers.iter().copied().collect();
                all.sort_unstable();
                Reply::Reply(PoolReply::Workers(all))
            }
        }
    }

    fn handle_cast(&mut self, msg: PoolCast) -> Next {
        match msg {
            PoolCast::Checkin(worker) => {
                if let Some((_, _, mref)) = self.take_checked_out(worker) {
                    demonitor_flush(mref);
                    self.handle_checkin(worker);
                }
                // A checkin of a worker that is not checked out is ignored.
            }
            PoolCast::CancelWaiting(cref) => self.cancel_waiting(cref),
        }
        Next::Wait
    }

    fn handle_info(&mut self, msg: Message) -> Next {
        let msg = match msg.downcast::<Exit>() {
            Ok(e) => {
                self.worker_exited(e.from);
                return Next::Wait;
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<Down>() {
            Ok(d) => {
                self.consumer_down(d.monitor);
                return Next::Wait;
            }
            Err(m) => m,
        };
        if msg.is::<Replenish>() {
            self.replenish_scheduled = false;
            self.replenish();
        }
        Next::Wait
    }

    fn terminate(&mut self, _reason: &ExitReason) {
        // The worker supervisor stops the workers; the server only lets go of them.
        for w in self.workers.drain() {
            unlink_flush(w);
        }
    }
}

impl PoolServer {
    /// Starts a worker under the worker supervisor and links it to this server.
    fn new_worker(&mut self) -> Result<Pid, ExitReason> {
        match self.sup.start_child(self.worker.clone()) {
            Ok(Some(pid)) => {
                // If it died already, linking gives an Exit { NoProc } (we trap exits), handled
                // like any worker exit.
                let _ = link(pid);
                self.workers.insert(pid);
                Ok(pid)
            }
            Ok(None) => Err(ExitReason::custom("the worker's start returned ignore")),
            Err(e) => Err(ExitReason::custom(e.to_string())),
        }
    }

    fn dismiss_worker(&mut self, worker: Pid) {
        self.workers.remove(&worker);
        unlink_flush(worker);
        let _ = self.sup.terminate_child(worker);
    }

    fn take_idle(&mut self) -> Option<Pid> {
        match self.strategy {
            Strategy::Lifo => self.idle.pop_back(),
            Strategy::Fifo => self.idle.pop_front(),
        }
    }

    fn take_checked_out(&mut self, worker: Pid) -> Option<(Pid, Ref, Ref)> {
        self.monitors
            .take(&worker)
            .ok()
            .and_then(|mut rows| rows.pop())
    }

    fn record_checkout(&mut self, worker: Pid, cref: Ref, mref: Ref) {
        // The table is private to this process and keyed by pid: inserting cannot fail.
        let _ = self.monitors.insert((worker, cref, mref));
    }

    fn checkout(
        &mut self,
        from: ReplyTo<PoolReply>,
        cref: Ref,
        block: bool,
    ) -> Option<Result<Pid, CheckoutError>> {
        let consumer = from.pid();
        if let Some(w) = self.take_idle() {
            let mref = monitor(consumer);
            self.record_checkout(w, cref, mref);
            self.stats.checkouts_immediate += 1;
            return Some(Ok(w));
        }
        if self.missing > 0 || self.overflow < self.max_overflow {
            // A worker that failed to start earlier is retried here first; then overflow.
            let overflow = self.missing == 0;
            return match self.new_worker() {
                Ok(w) => {
                    if overflow {
                        self.overflow += 1;
                    } else {
                        self.missing -= 1;
                    }
                    let mref = monitor(consumer);
                    self.record_checkout(w, cref, mref);
                    self.stats.checkouts_immediate += 1;
                    Some(Ok(w))
                }
                Err(reason) => Some(Err(CheckoutError::WorkerStart(reason))),
            };
        }
        if !block {
            self.stats.checkouts_full += 1;
            return Some(Err(CheckoutError::Full));
        }
        let mref = monitor(consumer);
        self.waiting.push_back(Waiter {
            from,
            cref,
            mref,
            since: Instant::now(),
        });
        None
    }

    /// A worker comes back: hand it to the first waiter, dismiss it if it is an overflow
    /// worker, or make it idle.
    fn handle_checkin(&mut self, worker: Pid) {
        if let Some(w) = self.waiting.pop_front() {
            self.record_checkout(worker, w.cref, w.mref);
            self.served_after_wait(&w);
            w.from.reply(PoolReply::Handed(worker));
        } else if self.overflow > 0 {
            self.overflow -= 1;
            self.dismiss_worker(worker);
        } else {
            self.idle.push_back(worker);
        }
    }

    fn served_after_wait(&mut self, w: &Waiter) {
        self.stats.checkouts_waited += 1;
        self.stats.total_wait += w.since.elapsed();
    }

    fn cancel_waiting(&mut self, cref: Ref) {
        let got = self
            .monitors
            .select(|row| (row.1 == cref).then_some(row.0))
            .ok()
            .and_then(|v| v.into_iter().next());
        self.stats.checkouts_timed_out += 1;
        if let Some(worker) = got {
            // The worker was handed over just as the client gave up: take it back.
            if let Some((_, _, mref)) = self.take_checked_out(worker) {
                demonitor_flush(mref);
            }
            self.handle_checkin(worker);
        } else if let Some(i) = self.waiting.iter().position(|w| w.cref == cref)
            && let Some(w) = self.waiting.remove(i)
        {
            demonitor_flush(w.mref);
        }
    }

    fn consumer_down(&mut self, mref: Ref) {
        let worker = self
            .monitors
            .select(|row| (row.2 == mref).then_some(row.0))
            .ok()
            .and_then(|v| v.into_iter().next());
        if let Some(worker) = worker {
            // The consumer died holding a worker: the worker is reused, not killed.
            let _ = self.take_checked_out(worker);
            self.handle_checkin(worker);
        } else if let Some(i) = self.waiting.iter().position(|w| w.mref == mref) {
            self.waiting.remove(i);
        }
    }

    fn worker_exited(&mut self, worker: Pid) {
        if !self.workers.remove(&worker) {
            return; // not one of ours (any more)
        }
        if let Some((_, _, mref)) = self.take_checked_out(worker) {
            demonitor_flush(mref);
            if let Some(w) = self.waiting.pop_front() {
                match self.new_worker() {
                    Ok(new) => {
                        self.record_checkout(new, w.cref, w.mref);
                        self.served_after_wait(&w);
                        w.from.reply(PoolReply::Handed(new));
                    }
                    Err(_) => {
                        // Keep the waiter first in line; the slot comes back when the start
                        // succeeds (or a worker is checked in).
                        self.waiting.push_front(w);
                        self.note_missing();
                    }
                }
            } else if self.overflow > 0 {
                self.overflow -= 1;
            } else {
                self.replace();
            }
        } else if let Some(i) = self.idle.iter().position(|w| *w == worker) {
            self.idle.remove(i);
            self.replace();
        }
    }

    fn replace(&mut self) {
        match self.new_worker() {
            Ok(w) => self.handle_checkin(w),
            Err(_) => self.note_missing(),
        }
    }

    fn note_missing(&mut self) {
        self.missing += 1;
        self.schedule_replenish();
    }

    fn schedule_replenish(&mut self) {
        if !self.replenish_scheduled {
            self.replenish_scheduled = true;
            send_after(self_pid(), REPLENISH_DELAY, Replenish);
        }
    }

    fn replenish(&mut self) {
        while self.missing > 0 {
            match self.new_worker() {
                Ok(w) => {
                    self.missing -= 1;
                    self.handle_checkin(w);
                }
                Err(_) => {
                    self.schedule_replenish();
                    return;
                }
            }
        }
    }

    fn status(&self) -> Status {
        let checked_out = self.monitors.len().unwrap_or(0);
        // poolboy's state_name/1.
        let state = if self.overflow < 1 {
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
        };
        Status {
            state,
            idle: self.idle.len(),
            overflow: self.overflow,
            checked_out,
            waiting: self.waiting.len(),
        }
    }
}
