//! `TodoServer`: one GenServer per list.
//!
//! It registers in the process registry as `{:todo_server, name}` before anything else, loads
//! its list from the database in `handle_continue` (so whoever starts it is not kept waiting),
//! acknowledges a change only once the database has made it durable, and stops (`normal`)
//! after an idle time without requests; it is a temporary child, so the next request simply
//! starts it again from disk.
//!
//! Beyond the book:
//! - A change does not hold the server while the disk works. The server applies it, hands the
//!   new list to the list's database worker with the caller's reply address (a one-shot
//!   channel, see `TodoServer::change`), and takes the next request; the worker answers
//!   the caller once the write is durable. Writes of one list
//!   reach its worker in order, so changes are answered in order. The server monitors the
//!   worker: if the worker dies, writes in flight may be lost with it, so the server stops
//!   (its waiting callers get an error) and the next request loads what is durable.
//! - Durable lists are published in the lists table ([`LISTS_TABLE`], owned by the cache): by
//!   the worker after each write, before it answers, and by the server once loaded, so
//!   [`Cache::entries`](crate::Cache::entries) answers a read from the caller's own process
//!   and sees every change acknowledged before it. The server's own `entries` answers from its
//!   state, which may include a change whose write is still on its way to the disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use ets::TypedTable;

use crate::format::EntryChange;
use crate::name::ListName;
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Message, Next, Pid, Ref, Reply, ReplyTo, Server,
    StartError, StartOpts, monitor, self_pid,
};
use thiserror::Error;

use crate::cache::LISTS_TABLE;
use crate::database::{Database, DbError, Done};
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

/// A change sent as a cast with a one-shot channel for its answer (see [`TodoServer::change`]).
pub(crate) struct Change(TodoCall, SyncSender<TodoReply>);

/// Where the answer to a change goes.
pub(crate) enum Replier {
    /// The caller of a GenServer call.
    Call(ReplyTo<TodoReply>),
    /// A one-shot channel; dropped unanswered if the server or the worker dies first.
    Channel(SyncSender<TodoReply>),
}

impl Replier {
    fn reply(self, r: TodoReply) {
        match self {
            Replier::Call(from) => from.reply(r),
            Replier::Channel(tx) => {
                let _ = tx.send(r);
            }
        }
    }
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
    /// The list with every change handed to the database (durable or on its way).
    list: Arc<TodoList>,
    idle: Duration,
    /// The database worker this server has handed writes to, monitored.
    worker: Option<(Pid, Ref)>,
    /// Writes handed to the database and not answered yet (decremented by the worker).
    in_flight: Arc<AtomicUsize>,
}

impl GenServer for TodoServerState {
    type Arg = ServerArgs;
    type Call = TodoCall;
    type Reply = TodoReply;
    type Cast = Change;
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
        if SERVER_LOG.load(Ordering::Relaxed) {
            eprintln!(
                "todo: starting to-do server for {:?} ({})",
                a.name,
                self_pid()
            );
        }
        let s = TodoServerState {
            name: a.name,
            list: Arc::new(TodoList::new()),
            idle: a.idle,
            worker: None,
            in_flight: Arc::new(AtomicUsize::new(0)),
        };
        Init::OkThen(s, Next::Continue(Load))
    }

    fn handle_continue(&mut self, _: Load) -> Next<Load> {
        let durable = match Database::get_durable(&self.name) {
            Ok((Some(list), durable)) => {
                self.list = Arc::new(list);
                durable
            }
            Ok((None, durable)) => durable,
            // A list that cannot be loaded is not served (it would be overwritten): the server
            // stops, callers get the reason, the file stays for inspection.
            Err(e) => return Next::Stop(ExitReason::custom(e.to_string())),
        };
        // A version still in the database's batch is published by its write, once durable.
        if durable {
            publish(&self.name, self_pid(), self.list.clone());
        }
        Next::WaitTimeout(self.idle)
    }

    fn handle_call(&mut self, req: TodoCall, from: ReplyTo<TodoReply>) -> Reply<TodoReply, Load> {
        let reply = match req {
            TodoCall::Entries(date) => {
                // Asked here, the list is missing from the lists table (the cache restarted and
                // the table is new): publish it again if it is durable, that is if no write is
                // on its way (a failed write stops this server: see handle_info).
                if self.in_flight.load(Ordering::SeqCst) == 0 {
                    publish(&self.name, self_pid(), self.list.clone());
                }
                TodoReply::Entries(self.list.entries(date))
            }
            TodoCall::Size => TodoReply::Size(self.list.size()),
            change => return Reply::NoReply(self.change(change, Replier::Call(from))),
        };
        Reply::ReplyThen(reply, Next::WaitTimeout(self.idle))
    }

    fn handle_cast(&mut self, Change(req, tx): Change) -> Next<Load> {
        self.change(req, Replier::Channel(tx))
    }

    fn handle_info(&mut self, msg: Message) -> Next<Load> {
        if let Ok(d) = msg.downcast::<Down>()
            && self.worker.is_some_and(|(_, m)| m == d.monitor)
        {
            // Writes handed to the worker may be lost with it, and their callers are waiting
            // on this server: it stops, they get an error, the next request loads the list
            // from what the database has made durable.
            return Next::Stop(ExitReason::custom(format!(
                "the database worker of list {:?} died: {}",
                self.name, d.reason
            )));
        }
        Next::WaitTimeout(self.idle)
    }

    fn handle_timeout(&mut self) -> Next<Load> {
        if SERVER_LOG.load(Ordering::Relaxed) {
            eprintln!(
                "todo: to-do server for {:?} stops after {:?} idle",
                self.name, self.idle
            );
        }
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

/// Puts a durable list in the lists table.
fn publish(name: &str, server: Pid, list: Arc<TodoList>) {
    if let Some(t) = lists_table() {
        let _ = t.insert((name.to_owned(), server, list));
    }
}

impl TodoServerState {
    /// Applies a change and answers `to`: at once if it changes nothing (no such entry),
    /// otherwise once it is durable (see [`write`](Self::write)).
    fn change(&mut self, req: TodoCall, to: Replier) -> Next<Load> {
        let mut next = TodoList::clone(&self.list);
        // The answer and the one entry that changed (what the log records).
        let put = |list: &TodoList, id: u64| {
            list.entry(id).map(|e| EntryChange::Put {
                next_id: list.next_id(),
                entry: e.clone(),
            })
        };
        let outcome = match req {
            TodoCall::Add(date, title) => {
                let id = next.add_entry(date, title);
                Ok((TodoReply::Added(Ok(id)), put(&next, id)))
            }
            TodoCall::Update(id, date, title) => {
                let found = next.update_entry(id, |e| {
                    if let Some(d) = date {
                        e.date = d;
                    }
                    if let Some(t) = title {
                        e.title = t;
                    }
                });
                if found {
                    Ok((TodoReply::Changed(Ok(())), put(&next, id)))
                } else {
                    Err(TodoReply::Changed(Err(self.no_entry(id))))
                }
            }
            TodoCall::Delete(id) => {
                if next.delete_entry(id) {
                    let change = EntryChange::Delete {
                        next_id: next.next_id(),
                        id,
                    };
                    Ok((TodoReply::Changed(Ok(())), Some(change)))
                } else {
                    Err(TodoReply::Changed(Err(self.no_entry(id))))
                }
            }
            // Not changes: answered from the state.
            TodoCall::Entries(date) => Err(TodoReply::Entries(self.list.entries(date))),
            TodoCall::Size => Err(TodoReply::Size(self.list.size())),
        };
        match outcome {
            Ok((answer, change)) => {
                let change = change.map(|c| (self.list.clone(), c));
                self.write(next, change, to, answer)
            }
            Err(now) => {
                to.reply(now);
                Next::WaitTimeout(self.idle)
            }
        }
    }

    /// Hands the new list to the database and goes on without waiting for the disk: the
    /// database worker, once the write is durable, publishes the list and answers `to` with
    /// `answer` (or with the error). Writes of one list reach its worker in order, so the
    /// log, the lists table and the answers follow the order of the requests.
    fn write(
        &mut self,
        next: TodoList,
        change: Option<(Arc<TodoList>, EntryChange)>,
        to: Replier,
        answer: TodoReply,
    ) -> Next<Load> {
        let is_add = matches!(answer, TodoReply::Added(_));
        let failed = move |e: DbError| {
            if is_add {
                TodoReply::Added(Err(e.into()))
            } else {
                TodoReply::Changed(Err(e.into()))
            }
        };
        let Some(worker) = Database::worker_pid(&self.name) else {
            to.reply(failed(DbError::Unavailable(CallError::NoProc)));
            return Next::WaitTimeout(self.idle);
        };
        let list = Arc::new(next);
        let (name, server, published) = (self.name.clone(), self_pid(), list.clone());
        let in_flight = self.in_flight.clone();
        let done: Done = Box::new(move |r: Result<(), DbError>| match r {
            Ok(()) => {
                publish(&name, server, published);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                to.reply(answer);
            }
            Err(e) => {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                to.reply(failed(e));
            }
        });
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Database::store_then(worker, &self.name, list.clone(), change, done);
        self.list = list;
        if self.worker.is_none_or(|(w, _)| w != worker) {
            self.worker = Some((worker, monitor(worker)));
        }
        Next::WaitTimeout(self.idle)
    }

    fn no_entry(&self, id: u64) -> TodoError {
        TodoError::NoSuchEntry {
            list: self.name.clone(),
            id,
        }
    }
}

/// Whether to-do servers print a line when they start and when they stop after their idle
/// time ([`set_server_log`]).
static SERVER_LOG: AtomicBool = AtomicBool::new(true);

/// Whether to-do servers print a line to standard error when they start and when they stop
/// after their idle time, as the book's servers do with `IO.puts`: on by default. A program that
/// starts thousands of servers on purpose (a benchmark) turns it off; crashes are reported
/// either way.
///
/// ```
/// todo::set_server_log(false);
/// todo::set_server_log(true);
/// ```
pub fn set_server_log(on: bool) {
    SERVER_LOG.store(on, Ordering::Relaxed);
}

/// A handle to the server of one list (from [`Cache::server_process`](crate::Cache)).
///
/// Like the book's servers, a server prints a line when it starts and when it stops after its
/// idle time ([`set_server_log`] turns this off).
#[derive(Clone, Debug, PartialEq)]
pub struct TodoServer {
    name: ListName,
    server: Server<TodoServerState>,
}

impl TodoServer {
    pub(crate) fn new(name: ListName, pid: Pid) -> Self {
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
                list: self.name.to_string(),
                reason,
            })
    }

    /// Sends a change and waits for its answer, which comes once the change is durable.
    ///
    /// Not a GenServer call: the change goes as a cast with a one-shot channel, and the
    /// database worker answers on the channel. A call's caller waits in the runtime's receive,
    /// which spins before it parks; a change waits for the disk (milliseconds), so that spin
    /// is pure cost, and under load the largest one of a write. The channel's sender travels
    /// with the change: if the server or the worker dies before answering, it is dropped with
    /// them, and the caller gets an error at once, as a call's caller would.
    fn change(&self, req: TodoCall) -> Result<TodoReply, TodoError> {
        let (tx, rx) = sync_channel(1);
        self.server.cast(Change(req, tx));
        rx.recv_timeout(Duration::from_secs(30))
            .map_err(|e| TodoError::Unavailable {
                list: self.name.to_string(),
                reason: match e {
                    RecvTimeoutError::Timeout => CallError::Timeout,
                    RecvTimeoutError::Disconnected => CallError::Exit(ExitReason::custom(
                        "the list's server or database worker stopped before answering",
                    )),
                },
            })
    }

    /// Adds an entry; returns its id once the list is durably stored.
    pub fn add_entry(&self, date: Date, title: impl Into<String>) -> Result<u64, TodoError> {
        match self.change(TodoCall::Add(date, title.into()))? {
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
        match self.change(TodoCall::Update(id, date, title))? {
            TodoReply::Changed(r) => r,
            _ => Err(self.bad_reply()),
        }
    }

    /// Deletes an entry; returns once durable.
    pub fn delete_entry(&self, id: u64) -> Result<(), TodoError> {
        match self.change(TodoCall::Delete(id))? {
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
            list: self.name.to_string(),
            reason: CallError::Exit(ExitReason::custom("bad_reply")),
        }
    }
}
