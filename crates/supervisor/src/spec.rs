//! Child specifications.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use runtime::{Agent, ExitReason, GenServer, Pid, Server, StartError, StartOpts};

/// The extra arguments a supervisor passes to every child's start (a `DynamicSupervisor`'s
/// `extra_arguments`; `()` for a `Supervisor`).
pub(crate) type Extra = dyn Any + Send + Sync;

/// How a child is started: called in the supervisor's process, it must start the child
/// *linked to the caller* and return its pid, `None` for "ignore", or an error reason.
pub(crate) type StartFn = Arc<dyn Fn(&Extra) -> Result<Option<Pid>, ExitReason> + Send + Sync>;

/// When a child that has exited is restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always (the default).
    #[default]
    Permanent,
    /// Only after an abnormal exit (not `normal`, `shutdown` or `{shutdown, _}`).
    Transient,
    /// Never; the child's spec is dropped when it exits.
    Temporary,
}

/// How a child is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// `exit(child, Kill)` at once.
    BrutalKill,
    /// `exit(child, Shutdown)`, then `Kill` if it has not exited after this long.
    Timeout(Duration),
    /// `exit(child, Shutdown)` and wait as long as it takes (the default for supervisors).
    Infinity,
}

/// Whether a child is a worker or a supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChildType {
    /// Any process that is not a supervisor (the default).
    #[default]
    Worker,
    /// A supervisor (its default shutdown is `Infinity`).
    Supervisor,
}

/// The default shutdown time of a worker: 5 seconds, as in OTP.
pub const DEFAULT_WORKER_SHUTDOWN: Duration = Duration::from_secs(5);

/// What a supervisor needs to know about a child: its id, how to start it, when to restart it,
/// how to stop it, and its type.
///
/// ```
/// use supervisor::{ChildSpec, Restart, Shutdown};
/// use std::time::Duration;
///
/// let spec = ChildSpec::worker("ticker", || runtime::spawn_link(|| { let _: () = runtime::receive(); }))
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!(spec.id(), "ticker");
/// assert_eq!(spec.to_string(), "%{id: \"ticker\", restart: :transient, shutdown: 1000, type: :worker}");
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) id: String,
    pub(crate) start: StartFn,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    pub(crate) kind: ChildType,
    pub(crate) significant: bool,
}

impl ChildSpec {
    /// A worker started by `start`, which must start the child linked to the calling process
    /// (the supervisor) and return something that says how it went: a `Pid`, the result of
    /// `gen_server::start_link`, `Agent::start_link` or `Supervisor::start_link`, or a
    /// `Result<Option<Pid>, ExitReason>` (`Ok(None)` meaning "ignore").
    pub fn worker<R: IntoChildStart>(
        id: impl Into<String>,
        start: impl Fn() -> R + Send + Sync + 'static,
    ) -> Self {
        Self::new(
            id.into(),
            ChildType::Worker,
            Arc::new(move |_: &Extra| guarded(|| start().into_child_start())),
        )
    }

    /// A supervisor child (shutdown `Infinity` by default).
    pub fn supervisor<R: IntoChildStart>(
        id: impl Into<String>,
        start: impl Fn() -> R + Send + Sync + 'static,
    ) -> Self {
        Self::new(
            id.into(),
            ChildType::Supervisor,
            Arc::new(move |_: &Extra| guarded(|| start().into_child_start())),
        )
    }

    /// A worker whose start takes the supervisor's extra arguments of type `E` (a
    /// `DynamicSupervisor`'s `extra_arguments`, passed to every child it starts).
    pub fn worker_with<E: Any + Send + Sync, R: IntoChildStart>(
        id: impl Into<String>,
        start: impl Fn(&E) -> R + Send + Sync + 'static,
    ) -> Self {
        let f = move |extra: &Extra| match extra.downcast_ref::<E>() {
            Some(e) => guarded(|| start(e).into_child_start()),
            None => Err(ExitReason::custom(format!(
                "the supervisor's extra arguments are not of type {}",
                std::any::type_name::<E>()
            ))),
        };
        Self::new(id.into(), ChildType::Worker, Arc::new(f))
    }

    fn new(id: String, kind: ChildType, start: StartFn) -> Self {
        let shutdown = match kind {
            ChildType::Worker => Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN),
            ChildType::Supervisor => Shutdown::Infinity,
        };
        ChildSpec {
            id,
            start,
            restart: Restart::Permanent,
            shutdown,
            kind,
            significant: false,
        }
    }

    /// Sets the restart type.
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the shutdown.
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child significant for the supervisor's `auto_shutdown`.
    #[must_use]
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// Changes the id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// The shutdown.
    pub fn shutdown_type(&self) -> Shutdown {
        self.shutdown
    }

    /// Worker or supervisor.
    pub fn child_type(&self) -> ChildType {
        self.kind
    }

    /// Whether the child is significant.
    pub fn is_significant(&self) -> bool {
        self.significant
    }
}

/// Runs a start function, turning a panic into an error reason: a start closure that panics
/// makes the start fail, it does not crash the supervisor.
fn guarded(f: impl FnOnce() -> Result<Option<Pid>, ExitReason>) -> Result<Option<Pid>, ExitReason> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned());
            match msg {
                Some(m) => Err(ExitReason::Panic(m.into())),
                // Not a panic of the start closure: the supervisor itself is being stopped.
                None => std::panic::resume_unwind(payload),
            }
        }
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("type", &self.kind)
            .field("significant", &self.significant)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Restart::Permanent => "permanent",
            Restart::Transient => "transient",
            Restart::Temporary => "temporary",
        })
    }
}

impl fmt::Display for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shutdown::BrutalKill => f.write_str(":brutal_kill"),
            Shutdown::Timeout(d) => write!(f, "{}", d.as_millis()),
            Shutdown::Infinity => f.write_str(":infinity"),
        }
    }
}

impl fmt::Display for ChildType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChildType::Worker => "worker",
            ChildType::Supervisor => "supervisor",
        })
    }
}

/// Prints the spec the way Elixir prints a child spec map (without the start function).
impl fmt::Display for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "%{{id: {:?}, restart: :{}, shutdown: {}, type: :{}",
            self.id, self.restart, self.shutdown, self.kind
        )?;
        if self.significant {
            f.write_str(", significant: true")?;
        }
        f.write_str("}")
    }
}

/// What a child's start function returns, turned into a pid, "ignore" or an error reason.
pub trait IntoChildStart {
    /// `Ok(Some(pid))`: started; `Ok(None)`: ignore; `Err(reason)`: failed.
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason>;
}

impl IntoChildStart for Pid {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        Ok(Some(self))
    }
}

impl IntoChildStart for Option<Pid> {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        Ok(self)
    }
}

impl IntoChildStart for Result<Option<Pid>, ExitReason> {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        self
    }
}

impl IntoChildStart for Result<Pid, ExitReason> {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        self.map(Some)
    }
}

/// The reason a failed `gen_server` start gives its supervisor.
pub(crate) fn start_error_reason(e: StartError) -> Result<Option<Pid>, ExitReason> {
    match e {
        StartError::Ignore => Ok(None),
        StartError::Init(r) => Err(r),
        StartError::AlreadyStarted(pid) => {
            Err(ExitReason::custom(format!("{{already_started, {pid}}}")))
        }
        other => Err(ExitReason::custom(other.to_string())),
    }
}

impl<S: GenServer> IntoChildStart for Result<Server<S>, StartError> {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        match self {
            Ok(s) => Ok(s.pid()),
            Err(e) => start_error_reason(e),
        }
    }
}

impl<T: Send + 'static> IntoChildStart for Result<Agent<T>, StartError> {
    fn into_child_start(self) -> Result<Option<Pid>, ExitReason> {
        match self {
            Ok(a) => Ok(a.pid().ok()),
            Err(e) => start_error_reason(e),
        }
    }
}

/// A GenServer that knows its own child spec (Elixir's `child_spec/1`). Implement it with an
/// empty body to get the default: a permanent worker whose id is the type's name, started with
/// [`Child::start_link`]. Override `start_link` to start the server your way (with a name, say:
/// the default spec then keeps it, as Elixir's calls your module's `start_link/1`), and
/// `child_spec` to change any other field.
///
/// ```
/// use runtime::{GenServer, Init, Server, StartError, StartOpts, gen_server};
/// use supervisor::{Child, Restart, Supervisor, SupervisorOpts};
///
/// struct Cache;
/// impl GenServer for Cache {
///     type Arg = ();
///     type Call = ();
///     type Reply = ();
///     type Cast = ();
///     type Continue = ();
///     fn init(_: ()) -> Init<Self> { Init::Ok(Cache) }
/// }
/// impl Child for Cache {
///     fn start_link(arg: ()) -> Result<Server<Self>, StartError> {
///         gen_server::start_link::<Self>(arg, StartOpts::new().name("child_doc_cache"))
///     }
/// }
///
/// let spec = Cache::child_spec(());
/// assert_eq!(spec.id(), "Cache");
/// assert_eq!(spec.restart_type(), Restart::Permanent);
/// let sup = Supervisor::start_link(vec![spec], SupervisorOpts::new()).unwrap();
/// assert!(runtime::whereis("child_doc_cache").is_some());
/// sup.stop().unwrap();
/// ```
pub trait Child: GenServer
where
    Self::Arg: Clone + Sync,
{
    /// Starts the server linked to the caller (Elixir's `start_link/1`). The default starts it
    /// unnamed.
    fn start_link(arg: Self::Arg) -> Result<Server<Self>, StartError> {
        runtime::gen_server::start_link::<Self>(arg, StartOpts::new())
    }

    /// The child spec for this server started with `arg`: it calls [`Child::start_link`].
    fn child_spec(arg: Self::Arg) -> ChildSpec {
        ChildSpec::worker(short_type_name::<Self>(), move || {
            Self::start_link(arg.clone())
        })
    }
}

/// The last path segment of a type's name (`Cache` for `my_app::cache::Cache`).
pub fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
