//! The public handles: `Supervisor` and `DynamicSupervisor`.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use runtime::{CallError, ExitReason, Pid, Server, StartError, StartOpts, StopError};

use crate::error::{ChildError, StartChildError, SupervisorError};
use crate::server::{FailedToStart, InvalidSpecs, Mode, SupCall, SupInit, SupReply, SupServer};
use crate::spec::{ChildSpec, ChildType, IntoChildStart, Restart};

/// How a supervisor restarts children.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Restart only the child that exited (the default).
    #[default]
    OneForOne,
    /// Stop all other children and restart them all.
    OneForAll,
    /// Stop the children started after the one that exited, and restart it and them.
    RestForOne,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
        })
    }
}

/// When a supervisor stops by itself because significant children ended (OTP 24's
/// `auto_shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Never (the default).
    #[default]
    Never,
    /// When any significant child ends on its own.
    AnySignificant,
    /// When the last significant child has ended on its own.
    AllSignificant,
}

/// Supervisor flags and options. Defaults are Elixir's: one_for_one, 3 restarts in 5 seconds.
#[derive(Clone, Debug)]
#[must_use]
pub struct SupervisorOpts {
    pub(crate) strategy: Strategy,
    pub(crate) max_restarts: u32,
    pub(crate) max_seconds: Duration,
    pub(crate) auto_shutdown: AutoShutdown,
    pub(crate) name: Option<String>,
}

impl Default for SupervisorOpts {
    fn default() -> Self {
        SupervisorOpts {
            strategy: Strategy::OneForOne,
            max_restarts: 3,
            max_seconds: Duration::from_secs(5),
            auto_shutdown: AutoShutdown::Never,
            name: None,
        }
    }
}

impl SupervisorOpts {
    /// Elixir's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// The restart strategy.
    pub fn strategy(mut self, s: Strategy) -> Self {
        self.strategy = s;
        self
    }
    /// At most `n` restarts in the window (`max_restarts`, default 3).
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = n;
        self
    }
    /// The window of the restart intensity (`max_seconds`, default 5 s).
    pub fn max_seconds(mut self, window: Duration) -> Self {
        self.max_seconds = window;
        self
    }
    /// Automatic shutdown when significant children end.
    pub fn auto_shutdown(mut self, a: AutoShutdown) -> Self {
        self.auto_shutdown = a;
        self
    }
    /// Registers the supervisor under `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Identifies a child for `terminate_child`: by id (`Supervisor`) or by pid
/// (`DynamicSupervisor`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChildRef {
    /// The child's id.
    Id(String),
    /// The child's pid.
    Pid(Pid),
}

impl From<&str> for ChildRef {
    fn from(id: &str) -> Self {
        ChildRef::Id(id.to_owned())
    }
}
impl From<String> for ChildRef {
    fn from(id: String) -> Self {
        ChildRef::Id(id)
    }
}
impl From<Pid> for ChildRef {
    fn from(pid: Pid) -> Self {
        ChildRef::Pid(pid)
    }
}

/// A child's process as `which_children` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildPid {
    /// Running.
    Pid(Pid),
    /// Its restart failed and is being retried.
    Restarting,
    /// Not running (terminated, or its start returned ignore).
    Undefined,
}

impl fmt::Display for ChildPid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildPid::Pid(p) => write!(f, "{p}"),
            ChildPid::Restarting => f.write_str(":restarting"),
            ChildPid::Undefined => f.write_str(":undefined"),
        }
    }
}

/// One row of `which_children`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// The id (`None` under a `DynamicSupervisor`, where Elixir shows `:undefined`).
    pub id: Option<String>,
    /// The process.
    pub pid: ChildPid,
    /// Worker or supervisor.
    pub kind: ChildType,
    /// The restart type.
    pub restart: Restart,
}

/// The result of `count_children`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    /// All child specs.
    pub specs: usize,
    /// Children running now.
    pub active: usize,
    /// Children of type supervisor.
    pub supervisors: usize,
    /// Children of type worker.
    pub workers: usize,
}

/// A supervisor's own settings and state, for the tree view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorDescription {
    /// Its pid.
    pub pid: Pid,
    /// Its name.
    pub name: Option<String>,
    /// Its strategy (one_for_one for dynamic supervisors).
    pub strategy: Strategy,
    /// Whether it is a `DynamicSupervisor`.
    pub dynamic: bool,
    /// `max_restarts`.
    pub max_restarts: u32,
    /// `max_seconds`.
    pub max_seconds: Duration,
    /// Restarts inside the window now.
    pub restarts_in_window: usize,
    /// A dynamic supervisor's `max_children`.
    pub max_children: Option<usize>,
}

/// A handle to a running supervisor (a `Supervisor` or a `DynamicSupervisor`: the requests
/// that make sense for both work on both).
#[derive(Clone, Debug, PartialEq)]
pub struct Supervisor {
    server: Server<SupServer>,
}

fn call(server: &Server<SupServer>, req: SupCall) -> Result<SupReply, CallError> {
    // Supervisor requests wait as long as it takes, as OTP's do (a start can be slow).
    server.call_timeout(req, None)
}

fn start_sup(init: SupInit, link: bool) -> Result<Supervisor, SupervisorError> {
    let mut opts = StartOpts::new().trap_exit();
    if link {
        opts = opts.link();
    }
    if let Some(n) = &init.name {
        opts = opts.name(n.clone());
    }
    match runtime::gen_server::start::<SupServer>(init, opts) {
        Ok(server) => Ok(Supervisor { server }),
        Err(StartError::AlreadyStarted(pid)) => Err(SupervisorError::AlreadyStarted(pid)),
        Err(StartError::Init(reason)) => {
            // A child that failed to start is reported by the supervisor before it stops.
            let failed = runtime::receive_match_timeout(Duration::ZERO, |_: &FailedToStart| true);
            Err(match failed {
                Some(f) => SupervisorError::FailedToStartChild {
                    id: f.id,
                    reason: f.reason,
                },
                None => {
                    let invalid =
                        runtime::receive_match_timeout(Duration::ZERO, |_: &InvalidSpecs| true);
                    match invalid {
                        Some(InvalidSpecs(m)) => SupervisorError::InvalidSpec(m),
                        None => SupervisorError::Init(reason),
                    }
                }
            })
        }
        Err(e) => Err(SupervisorError::Init(ExitReason::custom(e.to_string()))),
    }
}

impl Supervisor {
    /// Starts a supervisor linked to the caller, with these children started in order.
    ///
    /// If a child fails to start, the ones already started are stopped in reverse order and
    /// the error names the child. Like any linked start, a failure also sends the caller an
    /// exit signal (`{shutdown, failed_to_start_child}`), which kills a caller that does not
    /// trap exits, as in OTP.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Supervisor, SupervisorOpts, Strategy};
    /// let worker = || runtime::spawn_link(|| { let _: () = runtime::receive(); });
    /// let sup = Supervisor::start_link(
    ///     vec![ChildSpec::worker("a", worker), ChildSpec::worker("b", worker)],
    ///     SupervisorOpts::new().strategy(Strategy::OneForAll),
    /// ).unwrap();
    /// assert_eq!(sup.count_children().unwrap().active, 2);
    /// sup.stop().unwrap();
    /// ```
    pub fn start_link(
        children: Vec<ChildSpec>,
        opts: SupervisorOpts,
    ) -> Result<Supervisor, SupervisorError> {
        Self::start_link_with(opts, move || Ok(children))
    }

    /// Starts a supervisor whose children are computed by `init` in the supervisor's own
    /// process (the callback-module style: `init/1` returning the children).
    pub fn start_link_with(
        opts: SupervisorOpts,
        init: impl FnOnce() -> Result<Vec<ChildSpec>, ExitReason> + Send + 'static,
    ) -> Result<Supervisor, SupervisorError> {
        start_sup(
            sup_init(Mode::Static, opts, Arc::new(()), Box::new(init)),
            true,
        )
    }

    /// Starts a supervisor that is not linked to the caller.
    pub fn start(
        children: Vec<ChildSpec>,
        opts: SupervisorOpts,
    ) -> Result<Supervisor, SupervisorError> {
        start_sup(
            sup_init(
                Mode::Static,
                opts,
                Arc::new(()),
                Box::new(move || Ok(children)),
            ),
            false,
        )
    }

    /// A handle to the supervisor with this pid.
    pub fn from_pid(pid: Pid) -> Self {
        Supervisor {
            server: Server::from_pid(pid),
        }
    }

    /// A handle to the supervisor registered as `name` (looked up at each request).
    pub fn named(name: &str) -> Self {
        Supervisor {
            server: Server::named(name),
        }
    }

    /// The supervisor's pid, if it is running.
    pub fn pid(&self) -> Option<Pid> {
        self.server.pid()
    }

    /// A child spec that starts a supervisor with these children under another supervisor.
    pub fn child_spec(
        id: impl Into<String>,
        children: Vec<ChildSpec>,
        opts: SupervisorOpts,
    ) -> ChildSpec {
        ChildSpec::supervisor(id, move || {
            Supervisor::start_link(children.clone(), opts.clone())
        })
    }

    /// Adds a child and starts it. Returns its pid, or `None` if its start returned ignore.
    pub fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, StartChildError> {
        match call(&self.server, SupCall::StartChild(spec)) {
            Ok(SupReply::Started(r)) => r,
            Ok(_) => Err(StartChildError::Supervisor(CallError::Exit(
                ExitReason::custom("bad_reply"),
            ))),
            Err(e) => Err(StartChildError::Supervisor(e)),
        }
    }

    /// Stops a child. Its spec is kept (unless it is temporary, or the supervisor is dynamic).
    pub fn terminate_child(&self, child: impl Into<ChildRef>) -> Result<(), ChildError> {
        self.done(SupCall::TerminateChild(child.into()))
    }

    /// Starts again a child that is not running.
    pub fn restart_child(&self, id: &str) -> Result<Option<Pid>, ChildError> {
        match call(&self.server, SupCall::RestartChild(id.to_owned())) {
            Ok(SupReply::Restarted(r)) => r,
            Ok(_) => Err(bad_reply()),
            Err(e) => Err(ChildError::Supervisor(e)),
        }
    }

    /// Removes the spec of a child that is not running.
    pub fn delete_child(&self, id: &str) -> Result<(), ChildError> {
        self.done(SupCall::DeleteChild(id.to_owned()))
    }

    /// The children, in start order.
    pub fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        match call(&self.server, SupCall::WhichChildren)? {
            SupReply::Children(c) => Ok(c),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// How many children, of which kinds, and how many are running.
    pub fn count_children(&self) -> Result<Counts, CallError> {
        match call(&self.server, SupCall::CountChildren)? {
            SupReply::Counts(c) => Ok(c),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// A child's spec.
    pub fn get_childspec(&self, id: &str) -> Result<ChildSpec, ChildError> {
        match call(&self.server, SupCall::GetChildspec(id.to_owned())) {
            Ok(SupReply::Spec(r)) => r,
            Ok(_) => Err(bad_reply()),
            Err(e) => Err(ChildError::Supervisor(e)),
        }
    }

    /// The supervisor's settings and restart count.
    pub fn describe(&self) -> Result<SupervisorDescription, CallError> {
        self.describe_within(None)
    }

    /// `describe`, giving up after `timeout` (the tree view must not hang on a process that
    /// is not a supervisor).
    pub(crate) fn describe_within(
        &self,
        timeout: Option<Duration>,
    ) -> Result<SupervisorDescription, CallError> {
        match self.server.call_timeout(SupCall::Describe, timeout)? {
            SupReply::Description(d) => Ok(d),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// `which_children`, giving up after `timeout`.
    pub(crate) fn which_children_within(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Vec<ChildInfo>, CallError> {
        match self.server.call_timeout(SupCall::WhichChildren, timeout)? {
            SupReply::Children(c) => Ok(c),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// Stops the supervisor (reason `normal`), its children first, and waits until it is gone.
    pub fn stop(&self) -> Result<(), StopError> {
        self.server.stop(ExitReason::Normal, None)
    }

    /// Stops the supervisor with `reason`, waiting at most `timeout`.
    pub fn stop_with(
        &self,
        reason: ExitReason,
        timeout: Option<Duration>,
    ) -> Result<(), StopError> {
        self.server.stop(reason, timeout)
    }

    fn done(&self, req: SupCall) -> Result<(), ChildError> {
        match call(&self.server, req) {
            Ok(SupReply::Done(r)) => r,
            Ok(_) => Err(bad_reply()),
            Err(e) => Err(ChildError::Supervisor(e)),
        }
    }
}

fn bad_reply() -> ChildError {
    ChildError::Supervisor(CallError::Exit(ExitReason::custom("bad_reply")))
}

fn sup_init(
    mode: Mode,
    opts: SupervisorOpts,
    extra: Arc<dyn Any + Send + Sync>,
    children: Box<dyn FnOnce() -> Result<Vec<ChildSpec>, ExitReason> + Send>,
) -> SupInit {
    SupInit {
        mode,
        strategy: opts.strategy,
        max_restarts: opts.max_restarts,
        max_seconds: opts.max_seconds,
        auto_shutdown: opts.auto_shutdown,
        extra,
        name: opts.name,
        children,
        report_to: runtime::self_pid(),
    }
}

impl IntoChildStart for Result<Supervisor, SupervisorError> {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        match self {
            Ok(s) => Ok(s.pid()),
            Err(e) => Err(ExitReason::shutdown_with(e.to_string())),
        }
    }
}

/// Options of a `DynamicSupervisor`: Elixir's defaults (3 restarts in 5 s, no child limit,
/// no extra arguments).
#[derive(Clone, Debug)]
#[must_use]
pub struct DynamicOpts<E = ()> {
    max_restarts: u32,
    max_seconds: Duration,
    max_children: Option<usize>,
    name: Option<String>,
    extra: E,
}

impl Default for DynamicOpts<()> {
    fn default() -> Self {
        DynamicOpts {
            max_restarts: 3,
            max_seconds: Duration::from_secs(5),
            max_children: None,
            name: None,
            extra: (),
        }
    }
}

impl DynamicOpts<()> {
    /// Elixir's defaults.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<E> DynamicOpts<E> {
    /// At most `n` restarts in the window.
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = n;
        self
    }
    /// The window of the restart intensity.
    pub fn max_seconds(mut self, window: Duration) -> Self {
        self.max_seconds = window;
        self
    }
    /// At most `n` children at once; `start_child` then fails with `MaxChildren`.
    pub fn max_children(mut self, n: usize) -> Self {
        self.max_children = Some(n);
        self
    }
    /// Registers the supervisor under `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Extra arguments handed to every child's start (`extra_arguments`); children read them
    /// with [`ChildSpec::worker_with`].
    pub fn extra_arguments<F>(self, extra: F) -> DynamicOpts<F> {
        DynamicOpts {
            max_restarts: self.max_restarts,
            max_seconds: self.max_seconds,
            max_children: self.max_children,
            name: self.name,
            extra,
        }
    }
}

/// A supervisor of children started on demand (Elixir's `DynamicSupervisor`): one_for_one,
/// children identified by pid, an optional cap, extra start arguments, and parallel shutdown.
///
/// ```
/// use supervisor::{ChildSpec, DynamicOpts, DynamicSupervisor, Restart};
/// let sup = DynamicSupervisor::start_link(DynamicOpts::new().max_children(2)).unwrap();
/// let room = || runtime::spawn_link(|| { let _: () = runtime::receive(); });
/// let a = sup.start_child(ChildSpec::worker("room", room)).unwrap().unwrap();
/// sup.start_child(ChildSpec::worker("room", room)).unwrap();
/// assert!(sup.start_child(ChildSpec::worker("room", room)).is_err()); // max_children
/// sup.terminate_child(a).unwrap();
/// assert_eq!(sup.count_children().unwrap().active, 1);
/// sup.stop().unwrap();
/// ```
pub struct DynamicSupervisor<E = ()> {
    sup: Supervisor,
    _extra: PhantomData<fn(E)>,
}

impl<E> Clone for DynamicSupervisor<E> {
    fn clone(&self) -> Self {
        DynamicSupervisor {
            sup: self.sup.clone(),
            _extra: PhantomData,
        }
    }
}

impl<E> fmt::Debug for DynamicSupervisor<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynamicSupervisor({:?})", self.sup.server)
    }
}

impl<E: Any + Send + Sync> DynamicSupervisor<E> {
    /// Starts a dynamic supervisor linked to the caller.
    pub fn start_link(opts: DynamicOpts<E>) -> Result<Self, SupervisorError> {
        Self::start_impl(opts, true)
    }

    /// Starts a dynamic supervisor not linked to the caller.
    pub fn start(opts: DynamicOpts<E>) -> Result<Self, SupervisorError> {
        Self::start_impl(opts, false)
    }

    fn start_impl(opts: DynamicOpts<E>, link: bool) -> Result<Self, SupervisorError> {
        let sup_opts = SupervisorOpts {
            strategy: Strategy::OneForOne,
            max_restarts: opts.max_restarts,
            max_seconds: opts.max_seconds,
            auto_shutdown: AutoShutdown::Never,
            name: opts.name,
        };
        let init = sup_init(
            Mode::Dynamic {
                max_children: opts.max_children,
            },
            sup_opts,
            Arc::new(opts.extra),
            Box::new(|| Ok(Vec::new())),
        );
        Ok(DynamicSupervisor {
            sup: start_sup(init, link)?,
            _extra: PhantomData,
        })
    }

    /// A handle to the dynamic supervisor registered as `name`.
    pub fn named(name: &str) -> Self {
        DynamicSupervisor {
            sup: Supervisor::named(name),
            _extra: PhantomData,
        }
    }

    /// A handle to the dynamic supervisor with this pid.
    pub fn from_pid(pid: Pid) -> Self {
        DynamicSupervisor {
            sup: Supervisor::from_pid(pid),
            _extra: PhantomData,
        }
    }

    /// A child spec that starts this kind of dynamic supervisor under another supervisor.
    pub fn child_spec(id: impl Into<String>, opts: DynamicOpts<E>) -> ChildSpec
    where
        E: Clone,
    {
        ChildSpec::supervisor(id, move || {
            DynamicSupervisor::<E>::start_link(opts.clone()).map(|d| d.sup)
        })
    }

    /// Starts a child (its id is ignored). Returns its pid, or `None` if its start returned
    /// ignore.
    pub fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, StartChildError> {
        self.sup.start_child(spec)
    }

    /// Stops the child with this pid.
    pub fn terminate_child(&self, pid: Pid) -> Result<(), ChildError> {
        self.sup.terminate_child(ChildRef::Pid(pid))
    }

    /// The children, in start order (ids are `None`).
    pub fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.sup.which_children()
    }

    /// How many children, of which kinds, and how many are running.
    pub fn count_children(&self) -> Result<Counts, CallError> {
        self.sup.count_children()
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Option<Pid> {
        self.sup.pid()
    }

    /// The general supervisor handle (for the tree view and shared requests).
    pub fn as_supervisor(&self) -> &Supervisor {
        &self.sup
    }

    /// Stops the supervisor, its children first (in parallel), and waits until it is gone.
    pub fn stop(&self) -> Result<(), StopError> {
        self.sup.stop()
    }
}
