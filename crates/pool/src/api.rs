//! The public API: pool configuration, the pools' supervision tree, the `Pool` handle.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use runtime::{CallError, ExitReason, Pid, Server, StartOpts, make_ref};
use supervisor::{
    ChildSpec, DynamicOpts, DynamicSupervisor, IntoChildStart, Restart, StartChildError,
    Strategy as SupStrategy, Supervisor, SupervisorError, SupervisorOpts,
};

use crate::error::{CheckoutError, PoolError, TransactionError};
use crate::server::{PoolArgs, PoolCall, PoolCast, PoolReply, PoolServer};

/// The default checkout timeout: 5 seconds, as poolboy's.
pub const DEFAULT_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which idle worker a checkout takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// The most recently checked-in worker (the default, as poolboy).
    #[default]
    Lifo,
    /// The worker idle the longest.
    Fifo,
}

/// A pool's configuration (poolboy's options).
#[derive(Clone)]
#[must_use]
pub struct PoolConfig {
    pub(crate) name: String,
    pub(crate) worker: ChildSpec,
    pub(crate) size: usize,
    pub(crate) max_overflow: usize,
    pub(crate) strategy: Strategy,
}

impl fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolConfig")
            .field("name", &self.name)
            .field("size", &self.size)
            .field("max_overflow", &self.max_overflow)
            .field("strategy", &self.strategy)
            .finish_non_exhaustive()
    }
}

impl PoolConfig {
    /// A pool called `name` whose workers are started by `start`: it must start one worker
    /// linked to the caller (any GenServer's `start_link`, or a `spawn_link`). Defaults are
    /// poolboy's: size 5, max_overflow 10, lifo.
    pub fn new<R: IntoChildStart>(
        name: impl Into<String>,
        start: impl Fn() -> R + Send + Sync + 'static,
    ) -> Self {
        PoolConfig {
            name: name.into(),
            worker: ChildSpec::worker("worker", start).restart(Restart::Temporary),
            size: 5,
            max_overflow: 10,
            strategy: Strategy::Lifo,
        }
    }
    /// Permanent workers, started with the pool.
    pub fn size(mut self, n: usize) -> Self {
        self.size = n;
        self
    }
    /// Extra workers started on demand when all are busy, dismissed on checkin.
    pub fn max_overflow(mut self, n: usize) -> Self {
        self.max_overflow = n;
        self
    }
    /// Lifo or fifo.
    pub fn strategy(mut self, s: Strategy) -> Self {
        self.strategy = s;
        self
    }
    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Whether a checkout would get a worker at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolState {
    /// Idle workers are available.
    Ready,
    /// No idle worker, but an overflow worker can be started.
    Overflow,
    /// No idle worker and no overflow left: a checkout waits or gets `Full`.
    Full,
}

impl fmt::Display for PoolState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolState::Ready => "ready",
            PoolState::Overflow => "overflow",
            PoolState::Full => "full",
        })
    }
}

/// poolboy's `status/1`, plus the number of waiting consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// ready, overflow or full.
    pub state: PoolState,
    /// Idle workers.
    pub idle: usize,
    /// Overflow workers alive.
    pub overflow: usize,
    /// Workers checked out.
    pub checked_out: usize,
    /// Consumers waiting for a worker.
    pub waiting: usize,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{{}, {}, {}, {}}} waiting {}",
            self.state, self.idle, self.overflow, self.checked_out, self.waiting
        )
    }
}

/// Counters Rust pool users expect (bb8's `Statistics`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Checkouts served at once.
    pub checkouts_immediate: u64,
    /// Checkouts served after waiting.
    pub checkouts_waited: u64,
    /// Checkouts that timed out (and were cancelled).
    pub checkouts_timed_out: u64,
    /// Non-blocking checkouts answered `Full`.
    pub checkouts_full: u64,
    /// Total time waiters waited before being served.
    pub total_wait: Duration,
}

/// The registered names of a pool's processes (Pooly v4's naming).
fn server_name(pool: &str) -> String {
    format!("{pool}Server")
}
fn pool_sup_name(pool: &str) -> String {
    format!("{pool}Supervisor")
}
fn worker_sup_name(pool: &str) -> String {
    format!("{pool}WorkerSupervisor")
}

/// The child spec of one pool: a one_for_all supervisor over its worker supervisor and its
/// server (if either dies, the pool restarts whole, with fresh workers).
fn pool_child_spec(config: PoolConfig) -> ChildSpec {
    let id = config.name.clone();
    ChildSpec::supervisor(id, move || {
        let c = config.clone();
        let worker_sup = worker_sup_name(&c.name);
        let server_args = c.clone();
        let ws = worker_sup.clone();
        let children = vec![
            DynamicSupervisor::<()>::child_spec(
                "worker_supervisor",
                // Workers are temporary: the pool server replaces them itself.
                DynamicOpts::new().name(ws.clone()).max_restarts(0),
            ),
            ChildSpec::worker("server", move || {
                let c = server_args.clone();
                runtime::gen_server::start_link::<PoolServer>(
                    PoolArgs {
                        name: c.name.clone(),
                        worker: c.worker,
                        worker_sup: ws.clone(),
                        size: c.size,
                        max_overflow: c.max_overflow,
                        strategy: c.strategy,
                    },
                    StartOpts::new().name(server_name(&c.name)),
                )
            }),
        ];
        Supervisor::start_link(
            children,
            SupervisorOpts::new()
                .strategy(SupStrategy::OneForAll)
                .name(pool_sup_name(&c.name)),
        )
    })
}

/// Several pools under one tree, as Pooly v4: a top supervisor over the pools supervisor
/// (one_for_one), which has one supervisor per pool (one_for_all over the pool's worker
/// supervisor and its server).
///
/// ```
/// use pool::{Pools, PoolConfig, Pool};
/// let worker = || runtime::spawn_link(|| loop { let _: () = runtime::receive(); });
/// let pools = Pools::start_link(vec![PoolConfig::new("doc_pool", worker).size(2).max_overflow(1)]).unwrap();
/// let pool = Pool::named("doc_pool");
/// let w = pool.checkout().unwrap();
/// assert_eq!(pool.status().unwrap().checked_out, 1);
/// pool.checkin(w);
/// assert_eq!(pool.transaction(|w| w.id() > 0).unwrap(), true);
/// pools.stop().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Pools {
    top: Supervisor,
    pools_sup: Supervisor,
}

impl Pools {
    /// Starts the tree with these pools, linked to the caller. A pool that fails to start
    /// fails the whole start (as a supervisor's child does); use [`Pools::start_pool`] to add
    /// pools one by one and get each one's error.
    pub fn start_link(configs: Vec<PoolConfig>) -> Result<Pools, PoolError> {
        for c in &configs {
            check_config(c)?;
        }
        let pools_children: Vec<ChildSpec> = configs.into_iter().map(pool_child_spec).collect();
        let pools_sup_spec = Supervisor::child_spec(
            "pools_supervisor",
            pools_children,
            SupervisorOpts::new().strategy(SupStrategy::OneForOne),
        );
        let top = Supervisor::start_link(
            vec![pools_sup_spec],
            SupervisorOpts::new().strategy(SupStrategy::OneForAll),
        )
        .map_err(|e| PoolError::StartFailed(e.to_string()))?;
        let pools_sup = match top
            .which_children()
            .map_err(PoolError::Unavailable)?
            .first()
            .map(|c| c.pid)
        {
            Some(supervisor::ChildPid::Pid(p)) => Supervisor::from_pid(p),
            _ => {
                return Err(PoolError::StartFailed(
                    "the pools supervisor did not start".into(),
                ));
            }
        };
        Ok(Pools { top, pools_sup })
    }

    /// Adds a pool. If its workers cannot start, the error says why and the other pools are
    /// untouched (poolboy #122).
    pub fn start_pool(&self, config: PoolConfig) -> Result<Pool, PoolError> {
        check_config(&config)?;
        let name = config.name.clone();
        match self.pools_sup.start_child(pool_child_spec(config)) {
            Ok(_) => Ok(Pool::named(&name)),
            Err(StartChildError::AlreadyStarted(_)) | Err(StartChildError::AlreadyPresent) => {
                Err(PoolError::AlreadyExists(name))
            }
            Err(StartChildError::Supervisor(e)) => Err(PoolError::Unavailable(e)),
            Err(e) => Err(PoolError::StartFailed(e.to_string())),
        }
    }

    /// Stops a pool and removes it.
    pub fn stop_pool(&self, name: &str) -> Result<(), PoolError> {
        self.pools_sup
            .terminate_child(name)
            .and_then(|()| self.pools_sup.delete_child(name))
            .map_err(|e| PoolError::StartFailed(e.to_string()))
    }

    /// The top supervisor (for the tree view).
    pub fn supervisor(&self) -> &Supervisor {
        &self.top
    }

    /// Stops every pool and the tree.
    pub fn stop(&self) -> Result<(), runtime::StopError> {
        self.top.stop()
    }
}

fn check_config(c: &PoolConfig) -> Result<(), PoolError> {
    if c.name.is_empty() {
        return Err(PoolError::InvalidConfig("a pool needs a name".into()));
    }
    Ok(())
}

impl From<SupervisorError> for PoolError {
    fn from(e: SupervisorError) -> Self {
        PoolError::StartFailed(e.to_string())
    }
}

/// A handle to a pool, by name.
#[derive(Clone, Debug)]
pub struct Pool {
    server: Server<PoolServer>,
}

thread_local! {
    /// Whether the last checkout made on this thread (by the process running on it) waited in
    /// a queue. Only a hint for how to wait (see `checkout_with`); stale values cost nothing
    /// but one spin or one wake-up.
    static QUEUED_LAST: Cell<bool> = const { Cell::new(false) };
}

impl Pool {
    /// The pool called `name` (looked up at each request, so it follows restarts).
    pub fn named(name: &str) -> Pool {
        Pool {
            server: Server::named(server_name(name)),
        }
    }

    /// Checks out a worker, waiting up to 5 seconds for one.
    pub fn checkout(&self) -> Result<Pid, CheckoutError> {
        self.checkout_with(true, DEFAULT_CHECKOUT_TIMEOUT)
    }

    /// Checks out a worker, waiting up to `timeout`. On a timeout the request is cancelled: if
    /// a worker was handed over at that very moment, it goes back to the pool.
    pub fn checkout_timeout(&self, timeout: Duration) -> Result<Pid, CheckoutError> {
        self.checkout_with(true, timeout)
    }

    /// Checks out a worker without waiting: `Err(Full)` if none is free.
    pub fn try_checkout(&self) -> Result<Pid, CheckoutError> {
        self.checkout_with(false, DEFAULT_CHECKOUT_TIMEOUT)
    }

    fn checkout_with(&self, block: bool, timeout: Duration) -> Result<Pid, CheckoutError> {
        let cref = make_ref();
        if block && QUEUED_LAST.get() {
            // The last checkout of this process waited in the queue, so this one likely will
            // too: park at once rather than spin on a core the pool's other clients need.
            runtime::expect_long_wait();
        }
        match self
            .server
            .call_timeout(PoolCall::Checkout { cref, block }, Some(timeout))
        {
            Ok(PoolReply::Checkout(r)) => {
                QUEUED_LAST.set(false);
                r
            }
            Ok(PoolReply::Handed(worker)) => {
                QUEUED_LAST.set(true);
                Ok(worker)
            }
            Ok(_) => Err(CheckoutError::Pool(CallError::Exit(ExitReason::custom(
                "bad_reply",
            )))),
            Err(CallError::Timeout) => {
                self.server.cast(PoolCast::CancelWaiting(cref));
                Err(CheckoutError::Timeout)
            }
            Err(e) => Err(CheckoutError::Pool(e)),
        }
    }

    /// Returns a worker to the pool. Returning one that is not checked out does nothing.
    pub fn checkin(&self, worker: Pid) {
        self.server.cast(PoolCast::Checkin(worker));
    }

    /// Checks out a worker that is checked in again when the guard is dropped.
    pub fn get(&self) -> Result<PooledWorker, CheckoutError> {
        Ok(PooledWorker {
            pool: self.clone(),
            worker: self.checkout()?,
        })
    }

    /// Runs `f` with a worker checked out for it (5 s checkout timeout), and checks the worker
    /// in afterwards, even if `f` panics (the panic then continues).
    pub fn transaction<T>(&self, f: impl FnOnce(Pid) -> T) -> Result<T, TransactionError> {
        self.transaction_timeout(DEFAULT_CHECKOUT_TIMEOUT, f)
    }

    /// As [`transaction`](Pool::transaction), with a checkout timeout.
    pub fn transaction_timeout<T>(
        &self,
        timeout: Duration,
        f: impl FnOnce(Pid) -> T,
    ) -> Result<T, TransactionError> {
        let worker = self.checkout_timeout(timeout)?;
        let result = catch_unwind(AssertUnwindSafe(|| f(worker)));
        self.checkin(worker);
        match result {
            Ok(v) => Ok(v),
            Err(payload) => resume_unwind(payload),
        }
    }

    /// poolboy's status: state, idle, overflow, checked out; and waiting.
    pub fn status(&self) -> Result<Status, CallError> {
        match self.server.call(PoolCall::Status)? {
            PoolReply::Status(s) => Ok(s),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// Checkout counters and total wait time.
    pub fn stats(&self) -> Result<PoolStats, CallError> {
        match self.server.call(PoolCall::Stats)? {
            PoolReply::Stats(s) => Ok(s),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// Every worker of the pool (idle, checked out and overflow).
    pub fn workers(&self) -> Result<Vec<Pid>, CallError> {
        match self.server.call(PoolCall::Workers)? {
            PoolReply::Workers(w) => Ok(w),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// The pool server's pid.
    pub fn server_pid(&self) -> Option<Pid> {
        self.server.pid()
    }
}

/// A worker checked out with [`Pool::get`]; checked in when dropped.
#[derive(Debug)]
pub struct PooledWorker {
    pool: Pool,
    worker: Pid,
}

impl PooledWorker {
    /// The worker.
    pub fn pid(&self) -> Pid {
        self.worker
    }
}

impl Deref for PooledWorker {
    type Target = Pid;
    fn deref(&self) -> &Pid {
        &self.worker
    }
}

impl Drop for PooledWorker {
    fn drop(&mut self) {
        self.pool.checkin(self.worker);
    }
}
