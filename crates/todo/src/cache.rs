//! `Cache`: finds (or starts) the server of a list.
//!
//! As in seed 002, a client first looks in an ETS table (`name -> pid`) from its own process
//! and only goes through the cache process on a miss. The cache process looks again, then asks
//! the process registry (a server may be running that the cache does not know, after the
//! cache restarted), and only then starts a server under the server supervisor. Because misses
//! are serialised through one process, two clients asking for the same new list get one server.
//!
//! Beyond the seed: the cache monitors the servers it records and removes a row when its
//! server dies (the seed's table kept dead pids forever), and a client never returns a pid
//! whose process has died.

use std::collections::HashMap;
use std::time::Duration;

use ets::{Options, TypedTable};
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Message, Next, Pid, Ref, Reply, ReplyTo, Server,
    StartOpts, is_alive, monitor,
};
use supervisor::{ChildSpec, DynamicOpts, DynamicSupervisor, Restart, StartChildError};

use crate::registry::{Key, ProcessRegistry};
use crate::server::{TodoError, TodoServer};

/// The registered name of the cache process.
pub const CACHE_NAME: &str = "todo_cache";
/// The name of the cache's ETS table.
pub const CACHE_TABLE: &str = "ets_todo_cache";
/// The registered name of the to-do servers' dynamic supervisor.
pub const SERVER_SUPERVISOR: &str = "todo_server_supervisor";

pub(crate) struct CacheServer {
    table: TypedTable<(String, Pid)>,
    monitors: HashMap<Ref, String>,
    idle: Duration,
}

pub(crate) enum CacheCall {
    ServerProcess(String),
}

impl GenServer for CacheServer {
    type Arg = Duration;
    type Call = CacheCall;
    type Reply = Result<Pid, TodoError>;
    type Cast = ();
    type Continue = ();

    fn init(idle: Duration) -> Init<Self> {
        match TypedTable::new(CACHE_TABLE, Options::set().protected().named_table()) {
            Ok(table) => Init::Ok(CacheServer {
                table,
                monitors: HashMap::new(),
                idle,
            }),
            Err(e) => Init::Stop(ExitReason::custom(format!("cache table: {e}"))),
        }
    }

    fn handle_call(
        &mut self,
        CacheCall::ServerProcess(name): CacheCall,
        _from: ReplyTo<Result<Pid, TodoError>>,
    ) -> Reply<Result<Pid, TodoError>> {
        Reply::Reply(self.server_process(name))
    }

    fn handle_info(&mut self, msg: Message) -> Next {
        if let Ok(d) = msg.downcast::<Down>()
            && let Some(name) = self.monitors.remove(&d.monitor)
            && self
                .table
                .get(&name)
                .ok()
                .flatten()
                .is_some_and(|(_, p)| p == d.pid)
        {
            let _ = self.table.delete(&name);
        }
        Next::Wait
    }
}

impl CacheServer {
    fn server_process(&mut self, name: String) -> Result<Pid, TodoError> {
        if let Some((_, pid)) = self.table.get(&name).ok().flatten()
            && is_alive(pid)
        {
            return Ok(pid);
        }
        let key = Key::TodoServer(name.clone());
        let pid = match ProcessRegistry::whereis(&key) {
            Some(pid) => pid,
            None => self.start_server(&name)?,
        };
        let _ = self.table.insert((name.clone(), pid));
        let r = monitor(pid);
        self.monitors.insert(r, name);
        Ok(pid)
    }

    fn start_server(&self, name: &str) -> Result<Pid, TodoError> {
        let idle = self.idle;
        let list = name.to_owned();
        let spec = ChildSpec::worker("todo_server", move || TodoServer::start_link(&list, idle))
            .restart(Restart::Temporary);
        match DynamicSupervisor::<()>::named(SERVER_SUPERVISOR).start_child(spec) {
            Ok(Some(pid)) => Ok(pid),
            // Started meanwhile by someone else (it registered first): use that one.
            Err(StartChildError::Failed(ExitReason::Custom(m)))
                if m.starts_with("already_started") =>
            {
                ProcessRegistry::whereis(&Key::TodoServer(name.to_owned())).ok_or_else(|| {
                    TodoError::Start {
                        list: name.to_owned(),
                        reason: m.to_string(),
                    }
                })
            }
            Ok(None) => Err(TodoError::Start {
                list: name.to_owned(),
                reason: "ignored".into(),
            }),
            Err(e) => Err(TodoError::Start {
                list: name.to_owned(),
                reason: e.to_string(),
            }),
        }
    }
}

/// The cache's client API and child specs.
pub struct Cache;

fn call_cache(name: &str) -> Result<TodoServer, TodoError> {
    let r = Server::<CacheServer>::named(CACHE_NAME).call_timeout(
        CacheCall::ServerProcess(name.to_owned()),
        Some(Duration::from_secs(30)),
    );
    match r {
        Ok(Ok(pid)) => Ok(TodoServer::new(name.to_owned(), pid)),
        Ok(Err(e)) => Err(e),
        Err(reason) => Err(TodoError::Unavailable {
            list: name.to_owned(),
            reason,
        }),
    }
}

impl Cache {
    /// The cache process's child spec (`idle`: how long a to-do server lives without requests).
    pub fn child_spec(idle: Duration) -> ChildSpec {
        ChildSpec::worker("cache", move || {
            runtime::gen_server::start_link::<CacheServer>(idle, StartOpts::new().name(CACHE_NAME))
        })
    }

    /// The dynamic supervisor of the to-do servers.
    pub fn server_supervisor_spec() -> ChildSpec {
        DynamicSupervisor::<()>::child_spec(
            "server_supervisor",
            DynamicOpts::new().name(SERVER_SUPERVISOR),
        )
    }

    /// The server of list `name`, started if needed (seed 002's ETS-backed `server_process`).
    pub fn server_process(name: &str) -> Result<TodoServer, TodoError> {
        if name.is_empty() {
            return Err(TodoError::EmptyName);
        }
        if let Some(table) = TypedTable::<(String, Pid)>::whereis(CACHE_TABLE)
            && let Ok(Some((_, pid))) = table.get(&name.to_owned())
            && is_alive(pid)
        {
            return Ok(TodoServer::new(name.to_owned(), pid));
        }
        call_cache(name)
    }

    /// The same, looking the server up through a call to the process registry first (seed
    /// 002's version before ETS, kept for the performance comparison).
    pub fn server_process_via_registry(name: &str) -> Result<TodoServer, TodoError> {
        if name.is_empty() {
            return Err(TodoError::EmptyName);
        }
        match ProcessRegistry::whereis_via_call(&Key::TodoServer(name.to_owned())) {
            Ok(Some(pid)) => Ok(TodoServer::new(name.to_owned(), pid)),
            Ok(None) => call_cache(name),
            Err(reason) => Err(TodoError::Unavailable {
                list: name.to_owned(),
                reason,
            }),
        }
    }

    /// The cache process's pid.
    pub fn pid() -> Option<Pid> {
        runtime::whereis(CACHE_NAME)
    }
}

impl From<CallError> for TodoError {
    fn from(reason: CallError) -> Self {
        TodoError::Unavailable {
            list: String::new(),
            reason,
        }
    }
}
