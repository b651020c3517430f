//! `Cache`: finds (or starts) the server of a list.
//!
//! As in seed 002, a client first looks in an ETS table (`name -> pid`) from its own process
//! and only goes through the cache process on a miss. The cache process looks again, then asks
//! the process registry (a server may be running that the cache does not know, after the
//! cache restarted), and only then starts a server under the server supervisor. Because misses
//! are serialised through one process, two clients asking for the same new list get one server.
//!
//! The table's rows are `{hash of the name, name, pid}`: a lookup then allocates nothing (the
//! name is a `ListName`, copied by value up to 30 bytes and shared beyond, and the key a
//! number), and compares the name, so two names with
//! one hash only cost the second one the slow path. Each thread keeps its handle to the table,
//! and looks the table up again when the cache has restarted with a new one.
//!
//! Beyond the seed: the cache monitors the servers it records and removes a row when its
//! server dies (the seed's table kept dead pids forever), and a client never returns a pid
//! whose process has died. The cache also owns the lists table ([`LISTS_TABLE`]), where each
//! server publishes its durable list, so that [`Cache::entries`] reads a list without a
//! message to any process (the HTTP interface's `GET /entries`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use ets::{Options, TypedTable};

use crate::name::ListName;
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Message, Next, Pid, Ref, Reply, ReplyTo, Server,
    StartOpts, is_alive, monitor,
};
use supervisor::{ChildSpec, DynamicOpts, DynamicSupervisor, Restart, StartChildError};

use crate::date::Date;
use crate::list::Entry;
use crate::registry::{Key, ProcessRegistry};
use crate::server::{ListRow, TodoError, TodoServer};

/// The registered name of the cache process.
pub const CACHE_NAME: &str = "todo_cache";
/// The name of the cache's ETS table.
pub const CACHE_TABLE: &str = "ets_todo_cache";
/// The name of the public ETS table where each to-do server publishes its list (`{name, pid,
/// list}`), owned by the cache process.
pub const LISTS_TABLE: &str = "todo_lists";
/// The registered name of the to-do servers' dynamic supervisor.
pub const SERVER_SUPERVISOR: &str = "todo_server_supervisor";

/// A row of the cache table: the name's hash (the key), the name, the server.
pub(crate) type CacheRow = (u64, ListName, Pid);

/// FNV-1a: quick for short names; a collision only sends a lookup to the cache process.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) struct CacheServer {
    table: TypedTable<CacheRow>,
    /// Owned so that it lives as long as the cache; written by the servers.
    _lists: TypedTable<ListRow>,
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
        // Read on every request by every client and written only when a server starts or
        // stops: `read_concurrency`, so that clients on different cores do not pass a shard
        // lock's cache line back and forth.
        let cache_opts = Options::set()
            .protected()
            .named_table()
            .read_concurrency(true);
        let tables = TypedTable::new(CACHE_TABLE, cache_opts).and_then(|table| {
            let lists = TypedTable::new(LISTS_TABLE, Options::set().public().named_table())?;
            Ok((table, lists))
        });
        match tables {
            Ok((table, lists)) => Init::Ok(CacheServer {
                table,
                _lists: lists,
                monitors: HashMap::new(),
                idle,
            }),
            Err(e) => Init::Stop(ExitReason::custom(format!("cache tables: {e}"))),
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
                .get(&name_hash(&name))
                .ok()
                .flatten()
                .is_some_and(|(_, _, p)| p == d.pid)
        {
            let _ = self.table.delete(&name_hash(&name));
        }
        Next::Wait
    }
}

impl CacheServer {
    fn server_process(&mut self, name: String) -> Result<Pid, TodoError> {
        let key = name_hash(&name);
        let row = self.table.get(&key).ok().flatten();
        if let Some((_, n, pid)) = &row
            && **n == *name
            && is_alive(*pid)
        {
            return Ok(*pid);
        }
        let pid = match ProcessRegistry::whereis(&Key::TodoServer(name.clone())) {
            Some(pid) => pid,
            None => self.start_server(&name)?,
        };
        // A live row of another name with the same hash stays (that name keeps its fast path).
        if row.is_none_or(|(_, n, p)| *n == *name || !is_alive(p)) {
            let _ = self.table.insert((key, ListName::new(&name), pid));
        }
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

thread_local! {
    /// This thread's handle to the cache table (`None` until first used, or after the table
    /// it named was deleted).
    static TABLE: RefCell<Option<TypedTable<CacheRow>>> = const { RefCell::new(None) };
}

/// The live server of `name` according to the cache table, read from the caller's process.
fn cached(name: &str) -> Option<TodoServer> {
    let key = name_hash(name);
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        // Twice at most: a handle to a deleted table (the cache restarted) is renewed once.
        for _ in 0..2 {
            if t.is_none() {
                *t = TypedTable::whereis(CACHE_TABLE);
            }
            match t.as_ref()?.get(&key) {
                Ok(Some((_, n, pid))) => {
                    return (*n == *name && is_alive(pid)).then(|| TodoServer::new(n, pid));
                }
                Ok(None) => return None,
                Err(_) => *t = None,
            }
        }
        None
    })
}

/// The cache's client API and child specs.
pub struct Cache;

fn call_cache(name: &str) -> Result<TodoServer, TodoError> {
    let r = Server::<CacheServer>::named(CACHE_NAME).call_timeout(
        CacheCall::ServerProcess(name.to_owned()),
        Some(Duration::from_secs(30)),
    );
    match r {
        Ok(Ok(pid)) => Ok(TodoServer::new(ListName::new(name), pid)),
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
        if let Some(server) = cached(name) {
            return Ok(server);
        }
        call_cache(name)
    }

    /// The entries of list `name` for `date`, in id order: read from the lists table when the
    /// list's server has published it there (no message to any process), otherwise asked of
    /// the list's server, started if needed. Every change acknowledged before the call is
    /// seen.
    pub fn entries(name: &str, date: Date) -> Result<Vec<Entry>, TodoError> {
        if name.is_empty() {
            return Err(TodoError::EmptyName);
        }
        if let Some(table) = TypedTable::<ListRow>::whereis(LISTS_TABLE)
            && let Ok(Some((_, _, list))) = table.get(&name.to_owned())
        {
            return Ok(list.entries(date));
        }
        Cache::server_process(name)?.entries(date)
    }

    /// The same, looking the server up through a call to the process registry first (seed
    /// 002's version before ETS, kept for the performance comparison).
    pub fn server_process_via_registry(name: &str) -> Result<TodoServer, TodoError> {
        if name.is_empty() {
            return Err(TodoError::EmptyName);
        }
        match ProcessRegistry::whereis_via_call(&Key::TodoServer(name.to_owned())) {
            Ok(Some(pid)) => Ok(TodoServer::new(ListName::new(name), pid)),
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
