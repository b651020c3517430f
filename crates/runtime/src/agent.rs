//! `Agent`: state behind a process, read and changed with closures (Elixir's `Agent`).
//!
//! ```
//! use runtime::agent::Agent;
//! use runtime::gen_server::StartOpts;
//!
//! let bucket = Agent::start(|| std::collections::HashMap::<String, u32>::new(), StartOpts::new()).unwrap();
//! bucket.update(|m| { m.insert("milk".into(), 3); }).unwrap();
//! assert_eq!(bucket.get(|m| m.get("milk").copied()).unwrap(), Some(3));
//! assert_eq!(bucket.get_and_update(|m| m.remove("milk")).unwrap(), Some(3));
//! bucket.stop().unwrap();
//! ```

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::NoProc;
use crate::gen_server::{
    self, CallError, GenServer, Init, Next, Reply, ReplyTo, Server, StartError, StartOpts,
    StopError,
};
use crate::ids::Pid;
use crate::reason::ExitReason;

type AnyBox = Box<dyn Any + Send>;
type GetFn<T> = Box<dyn FnOnce(&mut T) -> AnyBox + Send>;
type CastFn<T> = Box<dyn FnOnce(&mut T) + Send>;
type InitFn<T> = Box<dyn FnOnce() -> T + Send>;

/// The agent's server: its state is the user's value.
struct AgentServer<T>(T);

impl<T: Send + 'static> GenServer for AgentServer<T> {
    type Arg = InitFn<T>;
    type Call = GetFn<T>;
    type Reply = AnyBox;
    type Cast = CastFn<T>;
    type Continue = ();

    fn init(f: InitFn<T>) -> Init<Self> {
        Init::Ok(AgentServer(f()))
    }
    fn handle_call(&mut self, f: GetFn<T>, _from: ReplyTo<AnyBox>) -> Reply<AnyBox> {
        Reply::Reply(f(&mut self.0))
    }
    fn handle_cast(&mut self, f: CastFn<T>) -> Next {
        f(&mut self.0);
        Next::Wait
    }
}

/// A process holding a value of type `T`.
pub struct Agent<T: Send + 'static> {
    server: Server<AgentServer<T>>,
}

impl<T> Clone for Agent<T>
where
    T: Send + 'static,
{
    fn clone(&self) -> Self {
        Agent {
            server: self.server.clone(),
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Agent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Agent({:?})", self.server)
    }
}

impl<T: Send + 'static> Agent<T> {
    /// Starts an agent whose state is `init()`, computed in the agent's process.
    pub fn start(
        init: impl FnOnce() -> T + Send + 'static,
        opts: StartOpts,
    ) -> Result<Self, StartError> {
        let server = gen_server::start::<AgentServer<T>>(Box::new(init), opts)?;
        Ok(Agent { server })
    }

    /// Starts an agent linked to the caller.
    pub fn start_link(
        init: impl FnOnce() -> T + Send + 'static,
        opts: StartOpts,
    ) -> Result<Self, StartError> {
        Self::start(init, opts.link())
    }

    /// The agent registered as `name` (looked up at each operation).
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Agent {
            server: Server::named(name),
        }
    }

    /// The agent's pid.
    pub fn pid(&self) -> Result<Pid, CallError> {
        self.server.pid().ok_or(CallError::NoProc)
    }

    /// Reads a value out of the state.
    pub fn get<R: Send + 'static>(
        &self,
        f: impl FnOnce(&T) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        self.get_and_update(move |s| f(s))
    }

    /// Changes the state and waits until it is changed.
    pub fn update(&self, f: impl FnOnce(&mut T) + Send + 'static) -> Result<(), CallError> {
        self.get_and_update(f)
    }

    /// Changes the state and returns a value computed from it, atomically.
    pub fn get_and_update<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        let reply = self
            .server
            .call(Box::new(move |s: &mut T| Box::new(f(s)) as AnyBox))?;
        reply
            .downcast::<R>()
            .map(|b| *b)
            .map_err(|_| CallError::Exit(ExitReason::custom("bad_reply_type")))
    }

    /// Changes the state without waiting.
    pub fn cast(&self, f: impl FnOnce(&mut T) + Send + 'static) {
        self.server.cast(Box::new(f));
    }

    /// Stops the agent (reason `normal`) and waits until it has exited.
    pub fn stop(&self) -> Result<(), StopError> {
        self.server.stop(ExitReason::Normal, None)
    }

    /// Stops the agent with `reason`, waiting at most `timeout` (`None`: as long as it takes)
    /// until it has exited (`Agent.stop/3`).
    pub fn stop_with(
        &self,
        reason: ExitReason,
        timeout: Option<Duration>,
    ) -> Result<(), StopError> {
        self.server.stop(reason, timeout)
    }
}

impl<T: Send + 'static> TryFrom<Pid> for Agent<T> {
    type Error = NoProc;
    /// A handle to a running agent by pid (fails if the pid is not alive).
    fn try_from(pid: Pid) -> Result<Self, NoProc> {
        if crate::is_alive(pid) {
            Ok(Agent {
                server: Server::from_pid(pid),
            })
        } else {
            Err(NoProc(pid))
        }
    }
}
