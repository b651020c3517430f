//! `TodoServer`: one GenServer per list.
//!
//! It registers in the process registry as `{:todo_server, name}` before anything else, loads
//! its list from the database in `handle_continue` (so whoever starts it is not kept waiting),
//! acknowledges a change only once the database has made it durable, and stops (`normal`)
//! after an idle time without requests; it is a temporary child, so the next request simply
//! starts it again from disk.
//!
//! Beyond the book, a server publishes its list in the lists table ([`LISTS_TABLE`], owned by
//! the cache) once it is loaded and after every durable change, *before* it replies, so that
//! [`Cache::entries`](crate::Cache::entries) can answer a read from the caller's own process
//! (an acknowledged change is always visible there; a published list is always durable).

use std::sync::Arc;
use std::time::Duration;

use ets::TypedTable;
use runtime::{
    CallError, ExitReason, GenServer, Init, Next, Pid, Reply, ReplyTo, Server, StartError,
    StartOpts, is_alive, self_pid,
};
use thiserror::Error;

use crate::cache::LISTS_TABLE;
use crate::database::{Database, DbError};
use crate::date::Date;
use crate::list::{Entry, TodoList};
use crate::registry::{Key, ProcessRegistry};

/// Why a request to a list failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TodoError {
    /// The list could not be loaded or stored.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The list's server is unavailable (it crashed or is restarting); try again.
    #[error("the server of list {list:?} is unavailable: {reason}")]
    Unavailable {
        /// The list.
        list: String,
        /// Why.
        reason: CallError,
    },
    /// The list's server could not be started.
    #[error("cannot start the server of list {list:?}: {reason}")]
    Start {
        /// The list.
        list: String,
        /// Why.
        reason: String,
    },
    /// A list needs a non-empty name.
    #[error("a list name must not be empty")]
    EmptyName,
    /// No entry with that id.
    #[error("list {list:?} has no entry {id}")]
    NoSuchEntry {
        /// The list.
        list: String,
        /// The id.
        id: u64,
    },
}

pub(crate) enum TodoCall {
    Add(Date, String),
    Entries(Date),
    Update(u64, Option<Date>, Option<String>),
    Delete(u64),
    Size,
}

pub(crate) enum TodoReply {
    Added(Result<u64, TodoError>),
    Entries(Vec<Entry>),
    Changed(Result<(), TodoError>),
    Size(usize),
}

/// The loading step run right after init.
pub(crate) struct Load;

pub(crate) struct ServerArgs {
    pub(crate) name: String,
    pub(crate) idle: Duration,
}

/// A row of the lists table: the list's name, the server that published it, the list.
pub(crate) type ListRow = (String, Pid, Arc<TodoList>);

pub(crate) struct TodoServerState {
    name: String,
    list: Arc<TodoList>,
    idle: Duration,
}

impl GenServer for TodoServerState {
    type Arg = ServerArgs;
    type Call = TodoCall;
    type Reply = TodoReply;
    type Cast = ();
    type Continue = Load;

    fn init(a: ServerArgs) -> Init<Self> {
        match ProcessRegistry::register(Key::TodoServer(a.name.clone()), self_pid()) {
            Ok(Ok(())) => {}
            Ok(Err(pid)) => {
                return Init::Stop(ExitReason::custom(format!("already_started {pid}")));
            }
            Err(e) => {
                return Init::Stop(ExitReason::custom(format!(
                    "process registry unavailable: {e}"
                )));
            }
        }
        eprintln!(
            "todo: starting to-do server for {:?} ({})",
            a.name,
            self_pid()
        );
        let s = TodoServerState {
            name: a.name,
            list: Arc::new(TodoList::new()),
            idle: a.idle,
        };
        Init::OkThen(s, Next::Continue(Load))
    }

    fn handle_continue(&mut self, _: Load) -> Next<Load> {
        match Database::get(&self.name) {
            Ok(Some(list)) => self.list = Arc::new(list),
            Ok(None) => {}
            // A list that cannot be loaded is not served (it would be overwritten): the server
            // stops, callers get the reason, the file stays for inspection.
            Err(e) => return Next::Stop(ExitReason::custom(e.to_string())),
        }
        self.publish();
        Next::WaitTimeout(self.idle)
    }

    fn handle_call(&mut self, req: TodoCall, _from: ReplyTo<TodoReply>) -> Reply<TodoReply, Load> {
        let reply = match req {
            TodoCall::Add(date, title) => {
                let mut next = TodoList::clone(&self.list);
                let id = next.add_entry(date, title);
                TodoReply::Added(self.commit(next).map(|()| id))
            }
            TodoCall::Entries(date) => {
                // The lists table may be new (the cache restarted): publish again.
                if !lists_table().is_some_and(|t| t.member(&self.name).unwrap_or(false)) {
                    self.publish();
                }
                TodoReply::Entries(self.list.entries(date))
            }
            TodoCall::Update(id, date, title) => {
                let mut next = TodoList::clone(&self.list);
                let found = next.update_entry(id, |e| {
                    if let Some(d) = date {
                        e.date = d;
                    }
                    if let Some(t) = title {
                        e.title = t;
                    }
                });
                TodoReply::Changed(if found {
                    self.commit(next)
                } else {
                    Err(self.no_entry(id))
                })
            }
            TodoCall::Delete(id) => {
                let mut next = TodoList::clone(&self.list);
                let found = next.delete_entry(id);
                TodoReply::Changed(if found {
                    self.commit(next)
                } else {
                    Err(self.no_entry(id))
                })
            }
            TodoCall::Size => TodoReply::Size(self.list.size()),
        };
        Reply::ReplyThen(reply, Next::WaitTimeout(self.idle))
    }

    fn handle_timeout(&mut self) -> Next<Load> {
        eprintln!(
            "todo: to-do server for {:?} stops after {:?} idle",
            self.name, self.idle
        );
        // The next request starts a server again, which loads and publishes the list.
        if let Some(t) = lists_table() {
            let me = self_pid();
            let _ = t.select_delete(|(n, pid, _)| *n == self.name && *pid == me);
        }
        Next::Stop(ExitReason::Normal)
    }
}

fn lists_table() -> Option<TypedTable<ListRow>> {
    TypedTable::whereis(LISTS_TABLE)
}

impl TodoServerState {
    /// Stores the new list; only once it is durable does it become the server's state.
    fn commit(&mut self, next: TodoList) -> Result<(), TodoError> {
        Database::store(&self.name, &next)?;
        self.list = Arc::new(next);
        self.publish();
        Ok(())
    }

    /// Puts the list in the lists table, unless another live server has published it there
    /// (this one has been killed, and its thread has not stopped yet: its list is older).
    fn publish(&self) {
        let Some(t) = lists_table() else { return };
        let me = self_pid();
        let row: ListRow = (self.name.clone(), me, self.list.clone());
        let _ = t.update_or_insert(&self.name, row.clone(), |old| {
            if old.1 != me && is_alive(old.1) && !is_alive(me) {
                old.clone()
            } else {
                row.clone()
            }
        });
    }

    fn no_entry(&self, id: u64) -> TodoError {
        TodoError::NoSuchEntry {
            list: self.name.clone(),
            id,
        }
    }
}

/// A handle to the server of one list (from [`Cache::server_process`](crate::Cache)).
#[derive(Clone, Debug, PartialEq)]
pub struct TodoServer {
    name: String,
    server: Server<TodoServerState>,
}

impl TodoServer {
    pub(crate) fn new(name: String, pid: Pid) -> Self {
        TodoServer {
            name,
            server: Server::from_pid(pid),
        }
    }

    pub(crate) fn start_link(name: &str, idle: Duration) -> Result<Pid, ExitReason> {
        match runtime::gen_server::start_link::<TodoServerState>(
            ServerArgs {
                name: name.to_owned(),
                idle,
            },
            StartOpts::new(),
        ) {
            Ok(s) => s.pid().ok_or(ExitReason::NoProc),
            Err(StartError::Init(r)) => Err(r),
            Err(e) => Err(ExitReason::custom(e.to_string())),
        }
    }

    /// The server's pid.
    pub fn pid(&self) -> Pid {
        self.server.pid().unwrap_or_else(self_pid)
    }

    /// The list's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, req: TodoCall) -> Result<TodoReply, TodoError> {
        self.server
            .call_timeout(req, Some(Duration::from_secs(30)))
            .map_err(|reason| TodoError::Unavailable {
                list: self.name.clone(),
                reason,
            })
    }

    /// Adds an entry; returns its id once the list is durably stored.
    pub fn add_entry(&self, date: Date, title: impl Into<String>) -> Result<u64, TodoError> {
        match self.call(TodoCall::Add(date, title.into()))? {
            TodoReply::Added(r) => r,
            _ => Err(self.bad_reply()),
        }
    }

    /// The entries for `date`, in id order.
    pub fn entries(&self, date: Date) -> Result<Vec<Entry>, TodoError> {
        match self.call(TodoCall::Entries(date))? {
            TodoReply::Entries(v) => Ok(v),
            _ => Err(self.bad_reply()),
        }
    }

    /// Changes an entry's date and/or title; returns once durable.
    pub fn update_entry(
        &self,
        id: u64,
        date: Option<Date>,
        title: Option<String>,
    ) -> Result<(), TodoError> {
        match self.call(TodoCall::Update(id, date, title))? {
            TodoReply::Changed(r) => r,
            _ => Err(self.bad_reply()),
        }
    }

    /// Deletes an entry; returns once durable.
    pub fn delete_entry(&self, id: u64) -> Result<(), TodoError> {
        match self.call(TodoCall::Delete(id))? {
            TodoReply::Changed(r) => r,
            _ => Err(self.bad_reply()),
        }
    }

    /// The number of entries.
    pub fn size(&self) -> Result<usize, TodoError> {
        match self.call(TodoCall::Size)? {
            TodoReply::Size(n) => Ok(n),
            _ => Err(self.bad_reply()),
        }
    }

    fn bad_reply(&self) -> TodoError {
        TodoError::Unavailable {
            list: self.name.clone(),
            reason: CallError::Exit(ExitReason::custom("bad_reply")),
        }
    }
}
