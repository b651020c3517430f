//! `GenServer`: OTP's generic server, with typed calls, casts and replies.
//!
//! The implementing type *is* the server's state: `init` builds it, callbacks take `&mut self`.
//!
//! ```
//! use runtime::gen_server::{self, GenServer, Init, Next, Reply, ReplyTo, StartOpts};
//!
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Arg = u64;
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = u64;
//!     type Continue = ();
//!
//!     fn init(start: u64) -> Init<Self> {
//!         Init::Ok(Counter(start))
//!     }
//!     fn handle_call(&mut self, _req: (), _from: ReplyTo<u64>) -> Reply<u64> {
//!         Reply::Reply(self.0)
//!     }
//!     fn handle_cast(&mut self, n: u64) -> Next {
//!         self.0 += n;
//!         Next::Wait
//!     }
//! }
//!
//! let server = gen_server::start::<Counter>(40, StartOpts::new()).unwrap();
//! server.cast(2);
//! assert_eq!(server.call(()).unwrap(), 42);
//! server.stop(runtime::ExitReason::Normal, None).unwrap();
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::crash::panic_message;
use crate::error::{RegisterError, SpawnError};
use crate::ids::{Pid, Ref, make_ref};
use crate::mailbox::{close_slot, open_slot, recv, recv_timeout, wait_slot};
use crate::message::Message;
use crate::process::{DeadUnwind, ExitUnwind, SlotValue, current_alive, with_proc};
use crate::reason::{Down, Exit, ExitReason};
use crate::signals::{
    demonitor_flush, demonitor_from, exit, exit_self, monitor_with_ref, unlink_flush,
};
use crate::spawn::{SpawnOpts, Spawned};

/// The default timeout of [`Server::call`]: 5 seconds, as in OTP.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What `init` returns.
pub enum Init<S: GenServer> {
    /// Started, with this state (`{:ok, state}`).
    Ok(S),
    /// Started, then `next` (`{:ok, state, timeout | {:continue, c}}`).
    OkThen(S, Next<S::Continue>),
    /// Not started: `start` returns `StartError::Init(reason)` (`{:stop, reason}`).
    Stop(ExitReason),
    /// Not started, without an error: `start` returns `StartError::Ignore` (`:ignore`) and the
    /// process exits `normal`.
    Ignore,
}

/// What the server does after a callback (the tail of OTP's return tuples).
#[derive(Debug)]
pub enum Next<C = ()> {
    /// Wait for the next message (`{:noreply, state}`).
    Wait,
    /// Wait at most this long; if no message comes, `handle_timeout` runs (`{:noreply, state, t}`).
    /// Any message cancels the timeout.
    WaitTimeout(Duration),
    /// Run `handle_continue(c)` before taking any message (`{:noreply, state, {:continue, c}}`).
    Continue(C),
    /// Stop with this reason: `terminate` runs, then the process exits (`{:stop, reason, state}`).
    Stop(ExitReason),
}

/// What `handle_call` returns.
#[derive(Debug)]
pub enum Reply<R, C = ()> {
    /// Reply and wait for the next message (`{:reply, r, state}`).
    Reply(R),
    /// Reply, then `next`. With `Next::Stop`, `terminate` runs before the reply is sent
    /// (`{:stop, reason, r, state}`).
    ReplyThen(R, Next<C>),
    /// Do not reply now; someone replies later through the [`ReplyTo`] (`{:noreply, ...}`).
    /// With `Next::Stop`, the server stops without replying.
    NoReply(Next<C>),
}

/// A generic server. The implementing type is the server's state.
pub trait GenServer: Send + Sized + 'static {
    /// The argument of `init`.
    type Arg: Send + 'static;
    /// The request type of calls.
    type Call: Send + 'static;
    /// The reply type of calls.
    type Reply: Send + 'static;
    /// The message type of casts.
    type Cast: Send + 'static;
    /// The value passed to `handle_continue` (use `()` if unused).
    type Continue: Send + 'static;

    /// Builds the state. Runs in the new process before `start` returns.
    fn init(arg: Self::Arg) -> Init<Self>;

    /// Handles a call. The default stops the server, as OTP does for an unexpected call.
    fn handle_call(
        &mut self,
        request: Self::Call,
        from: ReplyTo<Self::Reply>,
    ) -> Reply<Self::Reply, Self::Continue> {
        let _ = (request, from);
        Reply::NoReply(Next::Stop(ExitReason::custom("bad_call")))
    }

    /// Handles a cast. The default stops the server, as OTP does for an unexpected cast.
    fn handle_cast(&mut self, message: Self::Cast) -> Next<Self::Continue> {
        let _ = message;
        Next::Stop(ExitReason::custom("bad_cast"))
    }

    /// Handles any other message: an [`Exit`] (when trapping exits, from a process other than
    /// the parent), a [`Down`], a timer message, anything sent with [`send`](crate::send). The
    /// default ignores it.
    fn handle_info(&mut self, message: Message) -> Next<Self::Continue> {
        let _ = message;
        Next::Wait
    }

    /// Runs right after a callback that returned `Next::Continue(c)`, before any message.
    fn handle_continue(&mut self, cont: Self::Continue) -> Next<Self::Continue> {
        let _ = cont;
        Next::Wait
    }

    /// Runs when a `Next::WaitTimeout` passed without a message. The default keeps waiting.
    fn handle_timeout(&mut self) -> Next<Self::Continue> {
        Next::Wait
    }

    /// Runs before the server stops: after a callback asked to stop, after a callback panicked,
    /// on [`Server::stop`], and on the parent's exit signal when the server traps exits.
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = reason;
    }
}

/// Where a call's reply goes (OTP's `From`). Reply with [`ReplyTo::reply`], now or later, from
/// any process. A reply to a caller that has given up (timed out, or died) is dropped.
pub struct ReplyTo<R> {
    pid: Pid,
    tag: Ref,
    _reply: PhantomData<fn(R)>,
}

impl<R> Clone for ReplyTo<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for ReplyTo<R> {}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplyTo({}, {})", self.pid, self.tag)
    }
}

impl<R: Send + 'static> ReplyTo<R> {
    /// The calling process.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Sends the reply. Never fails; a reply nobody waits for any more is dropped.
    pub fn reply(self, value: R) {
        // A process that has been killed stops here instead of replying.
        let _ = current_alive();
        let undelivered = with_proc(self.pid, |p| {
            p.fill_slot(self.tag, SlotValue::Reply(Message::new(value)))
        });
        // A late reply is destroyed here, outside the table's lock: its destructor may use
        // the runtime.
        drop(undelivered);
    }
}

/// Sends `value` to the caller behind `from` (OTP's `GenServer.reply/2`).
pub fn reply<R: Send + 'static>(from: ReplyTo<R>, value: R) {
    from.reply(value);
}

/// Options for starting a server.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct StartOpts {
    name: Option<String>,
    link: bool,
    trap_exit: bool,
    timeout: Option<Duration>,
    stack_size: Option<usize>,
}

impl StartOpts {
    /// No name, not linked, no start timeout.
    pub fn new() -> Self {
        Self::default()
    }
    /// Register the server under `name` (before `init` runs).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Link the server to the caller (`start_link`). The caller becomes the server's parent:
    /// when the server traps exits, the parent's exit signal ends it through `terminate`.
    /// A server started without a link is its own parent.
    pub fn link(mut self) -> Self {
        self.link = true;
        self
    }
    /// The server traps exits from the start (it can also call `trap_exit(true)` in `init`).
    /// An `Exit` from its parent then runs `terminate` with the parent's reason and ends the
    /// server with it; every other `Exit` goes to `handle_info`. Without it, an exit signal
    /// with an abnormal reason (a supervisor's `shutdown`) ends the server without `terminate`.
    pub fn trap_exit(mut self) -> Self {
        self.trap_exit = true;
        self
    }
    /// Give up if `init` has not returned after `t`: the half-started server is killed and
    /// `start` returns `StartError::Timeout`. The default is to wait as long as it takes.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// The stack size of the server's thread.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }
}

/// Why a server did not start.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// A process is already registered under the name (`{:error, {:already_started, pid}}`).
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// `init` returned `Init::Stop(reason)` or panicked (`{:error, reason}`).
    #[error("init failed: {0}")]
    Init(ExitReason),
    /// `init` returned `Init::Ignore` (`:ignore`).
    #[error("init returned ignore")]
    Ignore,
    /// `init` did not return within the start timeout; the process was killed.
    #[error("init timed out")]
    Timeout,
    /// The process could not be spawned.
    #[error(transparent)]
    Spawn(SpawnError),
}

/// Why a call failed. OTP makes the caller exit with these; here they are values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// The server is not alive, or no process has the name (`noproc`).
    #[error("no process")]
    NoProc,
    /// No reply in time (`timeout`). A reply that comes later is dropped.
    #[error("call timed out")]
    Timeout,
    /// A process called itself (`calling_self`).
    #[error("a process cannot call itself")]
    CallingSelf,
    /// The server died before replying, with this reason.
    #[error("server exited: {0}")]
    Exit(ExitReason),
}

/// Why `stop` failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopError {
    /// The server is not alive.
    #[error("no process")]
    NoProc,
    /// The server did not stop in time.
    #[error("stop timed out")]
    Timeout,
    /// The server exited with another reason than the one asked for.
    #[error("server exited: {0}")]
    Exit(ExitReason),
    /// A server tried to stop itself this way, which would wait for its own exit forever
    /// (`calling_self`); a callback returns `Next::Stop` instead.
    #[error("a process cannot stop itself with stop")]
    CallingSelf,
}

/// A typed handle to a server: by pid, or by name (looked up at each call, so it follows a
/// server restarted under the same name).
pub struct Server<S: GenServer> {
    dest: Dest,
    _server: PhantomData<fn(S)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Dest {
    Pid(Pid),
    Name(Arc<str>),
}

impl<S: GenServer> Clone for Server<S> {
    fn clone(&self) -> Self {
        Server {
            dest: self.dest.clone(),
            _server: PhantomData,
        }
    }
}

impl<S: GenServer> fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.dest {
            Dest::Pid(p) => write!(f, "Server({p})"),
            Dest::Name(n) => write!(f, "Server({n:?})"),
        }
    }
}

impl<S: GenServer> PartialEq for Server<S> {
    fn eq(&self, other: &Self) -> bool {
        self.dest == other.dest
    }
}

/// The call message a server receives.
pub(crate) struct CallMsg<Q, R> {
    request: Q,
    from: ReplyTo<R>,
}

/// The cast message a server receives.
pub(crate) struct CastMsg<M>(M);

/// The system message of `stop`.
struct StopMsg(ExitReason);

/// The acknowledgement a starting server sends its starter.
enum InitAck {
    Ok,
    Stop(ExitReason),
    Ignore,
}

impl<S: GenServer> Server<S> {
    /// A handle to the server with this pid.
    pub fn from_pid(pid: Pid) -> Self {
        Server {
            dest: Dest::Pid(pid),
            _server: PhantomData,
        }
    }

    /// A handle to the server registered as `name`, resolved at each call.
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Server {
            dest: Dest::Name(name.into()),
            _server: PhantomData,
        }
    }

    /// The server's pid now (for a named handle, whoever has the name now).
    pub fn pid(&self) -> Option<Pid> {
        match &self.dest {
            Dest::Pid(p) => Some(*p),
            Dest::Name(n) => crate::registry::whereis(n),
        }
    }

    /// Calls the server and waits up to 5 seconds for the reply.
    pub fn call(&self, request: S::Call) -> Result<S::Reply, CallError> {
        self.call_timeout(request, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// Calls the server and waits up to `timeout` for the reply (`None`: as long as it takes).
    ///
    /// The caller monitors the server for the call, so a server that dies (or does not exist)
    /// ends the wait at once. The wait looks only at a reply slot for this call, never at the
    /// caller's mailbox, and a reply that arrives after a timeout is dropped.
    pub fn call_timeout(
        &self,
        request: S::Call,
        timeout: Option<Duration>,
    ) -> Result<S::Reply, CallError> {
        let pid = self.pid().ok_or(CallError::NoProc)?;
        call_pid::<S::Call, S::Reply>(pid, request, timeout)
    }

    /// Sends a cast. Never fails, even if the server is not there.
    pub fn cast(&self, message: S::Cast) {
        if let Some(pid) = self.pid() {
            crate::send(pid, CastMsg(message));
        }
    }

    /// Stops the server with `reason` and waits (at most `timeout`, `None` for as long as it
    /// takes) until it has exited; `terminate` runs first.
    pub fn stop(&self, reason: ExitReason, timeout: Option<Duration>) -> Result<(), StopError> {
        let pid = self.pid().ok_or(StopError::NoProc)?;
        let me = current_alive();
        if pid == me.pid {
            return Err(StopError::CallingSelf);
        }
        // The same reply slot as a call: the wait never looks at the mailbox, and nothing is
        // left in it whatever the outcome.
        let tag = make_ref();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        open_slot(&me, tag);
        monitor_with_ref(&me, pid, tag, true);
        crate::send(pid, StopMsg(reason.clone()));
        let outcome = wait_slot(&me, deadline);
        demonitor_from(&me, tag);
        close_slot(&me);
        match outcome {
            None => Err(StopError::Timeout),
            Some(SlotValue::Down(ExitReason::NoProc)) => Err(StopError::NoProc),
            Some(SlotValue::Down(r)) if r == reason => Ok(()),
            Some(SlotValue::Down(r)) => Err(StopError::Exit(r)),
            // Nobody replies to a stop's tag.
            Some(SlotValue::Reply(_)) => Err(StopError::Exit(ExitReason::custom("bad_reply"))),
        }
    }
}

/// The call protocol, shared by servers and agents: monitor with the call's tag, send, wait on
/// the reply slot.
pub(crate) fn call_pid<Q: Send + 'static, R: Send + 'static>(
    pid: Pid,
    request: Q,
    timeout: Option<Duration>,
) -> Result<R, CallError> {
    let me = current_alive();
    if pid == me.pid {
        return Err(CallError::CallingSelf);
    }
    let tag = make_ref();
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    open_slot(&me, tag);
    monitor_with_ref(&me, pid, tag, true);
    crate::send(
        pid,
        CallMsg {
            request,
            from: ReplyTo::<R> {
                pid: me.pid,
                tag,
                _reply: PhantomData,
            },
        },
    );
    let outcome = wait_slot(&me, deadline);
    demonitor_from(&me, tag);
    close_slot(&me);
    match outcome {
        Some(SlotValue::Reply(m)) => m.downcast::<R>().map_err(|_| {
            // The slot is tagged per call and typed by the server's handle, so a reply of
            // another type would be a bug in this module.
            CallError::Exit(ExitReason::custom("bad_reply_type"))
        }),
        Some(SlotValue::Down(ExitReason::NoProc)) => Err(CallError::NoProc),
        Some(SlotValue::Down(reason)) => Err(CallError::Exit(reason)),
        None => Err(CallError::Timeout),
    }
}

/// Starts a server: spawns it, runs `init` in it, and returns once `init` has returned.
///
/// With a name, the server registers before `init` (a taken name gives
/// `StartError::AlreadyStarted`) and unregisters before `start` returns if `init` fails.
pub fn start<S: GenServer>(arg: S::Arg, opts: StartOpts) -> Result<Server<S>, StartError> {
    let me = current_alive();
    let starter = me.pid;
    // gen.erl: the parent of a linked server is its starter; a server started without a link
    // is its own parent, so an exit signal from the starter is just information for it.
    let parent = opts.link.then_some(starter);
    let tag = make_ref();
    let mut spawn = SpawnOpts::new();
    if opts.link {
        spawn = spawn.link();
    }
    if opts.trap_exit {
        spawn = spawn.trap_exit();
    }
    if let Some(n) = &opts.name {
        spawn = spawn.name(n.clone());
    }
    if let Some(s) = opts.stack_size {
        spawn = spawn.stack_size(s);
    }
    let ack = ReplyTo::<InitAck> {
        pid: starter,
        tag,
        _reply: PhantomData,
    };
    let name = opts.name.clone();
    open_slot(&me, tag);
    // The spawn's own monitor exists before the server runs. The reply slot's monitor can
    // only be set up once the pid is known, and a server that dies before that (an exit
    // signal during init) would read as `noproc` there; the spawn's monitor has its reason.
    let spawned = spawn
        .monitor()
        .spawn(move || server_main::<S>(arg, parent, ack, name));
    let (pid, early) = match spawned {
        Ok(Spawned {
            pid,
            monitor: Some(m),
        }) => (pid, m),
        Ok(Spawned { monitor: None, .. }) => unreachable!("a monitor was asked for"),
        Err(e) => {
            close_slot(&me);
            return Err(match e {
                SpawnError::Register(RegisterError::NameTaken { pid, .. }) => {
                    StartError::AlreadyStarted(pid)
                }
                e => StartError::Spawn(e),
            });
        }
    };
    monitor_with_ref(&me, pid, tag, true);
    let deadline = opts.timeout.and_then(|t| Instant::now().checked_add(t));
    let outcome = wait_slot(&me, deadline);
    demonitor_from(&me, tag);
    close_slot(&me);
    let outcome = match outcome {
        Some(SlotValue::Down(ExitReason::NoProc)) => {
            // Dead before the slot's monitor: its Down is on its way from the death procedure.
            let d = crate::receive_match(|d: &Down| d.monitor == early);
            Some(SlotValue::Down(d.reason))
        }
        other => {
            // Still active unless the server is already exiting (a failed init); then the
            // flush also removes its Down from the mailbox.
            demonitor_flush(early);
            other
        }
    };
    match outcome {
        Some(SlotValue::Reply(m)) => match m.downcast::<InitAck>() {
            Ok(InitAck::Ok) => Ok(Server::from_pid(pid)),
            Ok(InitAck::Stop(reason)) => Err(StartError::Init(reason)),
            Ok(InitAck::Ignore) => Err(StartError::Ignore),
            Err(_) => Err(StartError::Init(ExitReason::custom("bad_init_ack"))),
        },
        Some(SlotValue::Down(reason)) => Err(StartError::Init(reason)),
        None => {
            // proc_lib's sync_wait: unlink, kill, flush the Exit, report a timeout.
            unlink_flush(pid);
            exit(pid, ExitReason::Kill);
            Err(StartError::Timeout)
        }
    }
}

/// `start` with `link()`: the server is linked to the caller.
pub fn start_link<S: GenServer>(arg: S::Arg, opts: StartOpts) -> Result<Server<S>, StartError> {
    start(arg, opts.link())
}

/// Runs `f`, catching a panic (or an `exit_self`) to run `terminate` before the process ends
/// with it. The death of the process itself (a kill) is never caught.
fn guarded<S: GenServer, T>(state: &mut S, f: impl FnOnce(&mut S) -> T) -> T {
    match catch_unwind(AssertUnwindSafe(|| f(state))) {
        Ok(v) => v,
        Err(payload) => {
            if !payload.is::<DeadUnwind>() {
                let reason = match payload.downcast_ref::<ExitUnwind>() {
                    Some(e) => e.0.clone(),
                    None => ExitReason::Panic(panic_message(&*payload).into()),
                };
                // A panic inside terminate itself ends the process with the first reason.
                let _ = catch_unwind(AssertUnwindSafe(|| state.terminate(&reason)));
            }
            resume_unwind(payload)
        }
    }
}

fn server_main<S: GenServer>(
    arg: S::Arg,
    parent: Option<Pid>,
    ack: ReplyTo<InitAck>,
    name: Option<String>,
) {
    let parent = parent.unwrap_or_else(crate::self_pid);
    let unregister = |name: &Option<String>| {
        if let Some(n) = name {
            // OTP unregisters before acknowledging a failed start, so a retry can take the name.
            let _ = crate::registry::unregister(n);
        }
    };
    let init = catch_unwind(AssertUnwindSafe(|| S::init(arg)));
    let (mut state, next) = match init {
        Ok(Init::Ok(s)) => (s, Next::Wait),
        Ok(Init::OkThen(s, next)) => (s, next),
        Ok(Init::Stop(reason)) => {
            unregister(&name);
            ack.reply(InitAck::Stop(reason.clone()));
            exit_self(reason);
        }
        Ok(Init::Ignore) => {
            unregister(&name);
            ack.reply(InitAck::Ignore);
            return;
        }
        Err(payload) => {
            if !payload.is::<DeadUnwind>() {
                let reason = match payload.downcast_ref::<ExitUnwind>() {
                    Some(e) => e.0.clone(),
                    None => ExitReason::Panic(panic_message(&*payload).into()),
                };
                unregister(&name);
                ack.reply(InitAck::Stop(reason));
            }
            resume_unwind(payload);
        }
    };
    ack.reply(InitAck::Ok);
    run_loop(&mut state, parent, next);
}

/// The server loop: take a message, dispatch it to the callback, follow the callback's `Next`.
fn run_loop<S: GenServer>(state: &mut S, parent: Pid, mut next: Next<S::Continue>) {
    loop {
        let msg = match next {
            Next::Wait => recv(),
            Next::WaitTimeout(t) => match recv_timeout(t) {
                Some(m) => m,
                None => {
                    next = guarded(state, S::handle_timeout);
                    continue;
                }
            },
            Next::Continue(c) => {
                next = guarded(state, |s| s.handle_continue(c));
                continue;
            }
            Next::Stop(reason) => stop_with(state, reason),
        };
        next = dispatch(state, msg, parent);
    }
}

fn dispatch<S: GenServer>(state: &mut S, msg: Message, parent: Pid) -> Next<S::Continue> {
    let msg = match msg.downcast::<CallMsg<S::Call, S::Reply>>() {
        Ok(CallMsg { request, from }) => {
            return match guarded(state, |s| s.handle_call(request, from)) {
                Reply::Reply(r) => {
                    from.reply(r);
                    Next::Wait
                }
                Reply::ReplyThen(r, Next::Stop(reason)) => {
                    // OTP runs terminate before the reply of `{:stop, reason, reply, state}`,
                    // and sends the reply even if terminate crashes (in an `after`); the
                    // server then exits with the crash.
                    let ended = catch_unwind(AssertUnwindSafe(|| state.terminate(&reason)));
                    from.reply(r);
                    match ended {
                        Ok(()) => exit_self(reason),
                        Err(payload) => resume_unwind(payload),
                    }
                }
                Reply::ReplyThen(r, next) => {
                    from.reply(r);
                    next
                }
                Reply::NoReply(next) => next,
            };
        }
        Err(m) => m,
    };
    let msg = match msg.downcast::<CastMsg<S::Cast>>() {
        Ok(CastMsg(m)) => return guarded(state, |s| s.handle_cast(m)),
        Err(m) => m,
    };
    let msg = match msg.downcast::<StopMsg>() {
        Ok(StopMsg(reason)) => stop_with(state, reason),
        Err(m) => m,
    };
    if let Some(e) = msg.downcast_ref::<Exit>() {
        // The parent's exit signal ends a trapping server through terminate; other processes'
        // Exits are ordinary information.
        if e.from == parent {
            let reason = e.reason.clone();
            stop_with(state, reason);
        }
    }
    guarded(state, |s| s.handle_info(msg))
}

fn stop_with<S: GenServer>(state: &mut S, reason: ExitReason) -> ! {
    // A panic inside terminate ends the process with that panic, as in OTP.
    state.terminate(&reason);
    exit_self(reason)
}
