//! `ProcessRegistry`: via-style registration in an ETS table (the exercise seed 002 leaves).
//!
//! The registry process owns a protected ETS table of `(key, pid)` rows. Registration goes
//! through the process (one writer, so "first one wins" is atomic with `insert_new`), which
//! monitors each registrant and deletes its rows when it dies. Lookups read the table from the
//! caller's own process, with no message to the registry at all, and skip a row whose process
//! has just died and whose `Down` the registry has not processed yet.

use std::collections::HashMap;
use std::fmt;

use ets::{Options, TypedTable};
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Message, Next, Pid, Ref, Reply, ReplyTo, Server,
    StartOpts, is_alive, monitor,
};
use supervisor::ChildSpec;

/// The registered name of the registry process.
pub const REGISTRY_NAME: &str = "todo_process_registry";
/// The name of its ETS table.
pub const REGISTRY_TABLE: &str = "todo_process_registry_table";

/// What processes register under.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// Database worker `n` (1-based, as in the book).
    DatabaseWorker(usize),
    /// The to-do server of a list.
    TodoServer(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::DatabaseWorker(n) => write!(f, "{{:database_worker, {n}}}"),
            Key::TodoServer(name) => write!(f, "{{:todo_server, {name:?}}}"),
        }
    }
}

pub(crate) enum RegCall {
    Register(Key, Pid),
    Unregister(Key, Pid),
    Whereis(Key),
}

pub(crate) enum RegReply {
    Registered(Result<(), Pid>),
    Done,
    Whereis(Option<Pid>),
}

pub(crate) struct RegistryServer {
    table: TypedTable<(Key, Pid)>,
    monitors: HashMap<Ref, Key>,
}

impl GenServer for RegistryServer {
    type Arg = ();
    type Call = RegCall;
    type Reply = RegReply;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self> {
        // Read by every lookup, written on registration and death only (see the cache's table).
        let opts = Options::set()
            .protected()
            .named_table()
            .read_concurrency(true);
        match TypedTable::new(REGISTRY_TABLE, opts) {
            Ok(table) => Init::Ok(RegistryServer {
                table,
                monitors: HashMap::new(),
            }),
            Err(e) => Init::Stop(ExitReason::custom(format!("registry table: {e}"))),
        }
    }

    fn handle_call(&mut self, req: RegCall, _from: ReplyTo<RegReply>) -> Reply<RegReply> {
        Reply::Reply(match req {
            RegCall::Register(key, pid) => RegReply::Registered(self.register(key, pid)),
            RegCall::Unregister(key, pid) => {
                if self
                    .table
                    .get(&key)
                    .ok()
                    .flatten()
                    .is_some_and(|(_, p)| p == pid)
                {
                    let _ = self.table.delete(&key);
                }
                RegReply::Done
            }
            RegCall::Whereis(key) => RegReply::Whereis(self.lookup(&key)),
        })
    }

    fn handle_info(&mut self, msg: Message) -> Next {
        if let Ok(d) = msg.downcast::<Down>()
            && let Some(key) = self.monitors.remove(&d.monitor)
            && self
                .table
                .get(&key)
                .ok()
                .flatten()
                .is_some_and(|(_, p)| p == d.pid)
        {
            let _ = self.table.delete(&key);
        }
        Next::Wait
    }
}

impl RegistryServer {
    fn lookup(&self, key: &Key) -> Option<Pid> {
        self.table
            .get(key)
            .ok()
            .flatten()
            .map(|(_, p)| p)
            .filter(|p| is_alive(*p))
    }

    fn register(&mut self, key: Key, pid: Pid) -> Result<(), Pid> {
        if let Some(existing) = self.lookup(&key) {
            return Err(existing);
        }
        // A row of a process that died (its Down not processed yet) is replaced.
        let _ = self.table.insert((key.clone(), pid));
        let r = monitor(pid);
        self.monitors.insert(r, key);
        Ok(())
    }
}

/// The process registry's client API.
pub struct ProcessRegistry;

fn server() -> Server<RegistryServer> {
    Server::named(REGISTRY_NAME)
}

impl ProcessRegistry {
    /// The registry's child spec (a permanent worker registered as [`REGISTRY_NAME`]).
    pub fn child_spec() -> ChildSpec {
        ChildSpec::worker("process_registry", || {
            runtime::gen_server::start_link::<RegistryServer>(
                (),
                StartOpts::new().name(REGISTRY_NAME),
            )
        })
    }

    /// Registers `pid` under `key`. Fails with the registered pid if the key is taken by a live
    /// process.
    pub fn register(key: Key, pid: Pid) -> Result<Result<(), Pid>, CallError> {
        match server().call(RegCall::Register(key, pid))? {
            RegReply::Registered(r) => Ok(r),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// Removes `key` if `pid` has it.
    pub fn unregister(key: Key, pid: Pid) -> Result<(), CallError> {
        server().call(RegCall::Unregister(key, pid)).map(|_| ())
    }

    /// The live process registered under `key`, read from the table without a message.
    pub fn whereis(key: &Key) -> Option<Pid> {
        let table = TypedTable::<(Key, Pid)>::whereis(REGISTRY_TABLE)?;
        table
            .get(key)
            .ok()
            .flatten()
            .map(|(_, p)| p)
            .filter(|p| is_alive(*p))
    }

    /// The same lookup as a call to the registry process: how the registry of the book's
    /// chapter 9 answered (every lookup serialised through one process). Kept for the cache
    /// performance comparison of seed 002.
    pub fn whereis_via_call(key: &Key) -> Result<Option<Pid>, CallError> {
        match server().call(RegCall::Whereis(key.clone()))? {
            RegReply::Whereis(p) => Ok(p),
            _ => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    /// The registry process's pid.
    pub fn pid() -> Option<Pid> {
        runtime::whereis(REGISTRY_NAME)
    }
}
