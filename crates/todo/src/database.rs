//! `Database`: worker processes that persist each list to disk.
//!
//! Lists are hashed to workers (the book's chapter 9 design: key-hashed workers rather than a
//! pool, so that all writes to one list go through one worker, in order). A write is
//! acknowledged only once it is durable:
//!
//! 1. A worker takes every `store` waiting in its mailbox (group commit: one batch), appends a
//!    record per write to its write-ahead log, and makes the log durable with one `fdatasync`.
//!    A list's first record in a log is its whole snapshot; after that a to-do server's write
//!    is logged as the one entry it changed (a change record, `format.rs`), so a write costs
//!    the same few dozen bytes of log however long its list has grown.
//! 2. It then answers every writer: a [`Database::store`] call, or the completion that a
//!    to-do server handed over with its write (the server does not wait for the disk: the
//!    worker publishes the list and answers the server's client itself, see `server.rs`). The
//!    list's new version is kept in memory (reads are served from there) and encoded and
//!    written to its file only when the log is rotated or the worker stops: a busy list costs
//!    one log append per batch, not a file creation and a rename per change.
//! 3. When the log passes a size, the worker renames it aside, switches to a fresh log that a
//!    helper process preallocated beforehand, and hands the lists it holds to a checkpoint
//!    process, which encodes and writes each to its list's file (a temporary file renamed over the old
//!    one), makes them all durable with one `syncfs` and deletes the old log; another helper
//!    then preallocates the next fresh log. The worker goes on committing meanwhile: a
//!    rotation costs it two renames,
//!    not hundreds of file writes (which, done inline, made every write waiting on that worker
//!    wait 100 ms and more). Until the checkpoint is done the old log is kept, and the worker
//!    serves reads of those lists from the snapshots it handed over.
//! 4. A worker that starts (after a crash of the process or of the machine) replays its logs
//!    first (the old one, the current one, then a fresh one a rotation may have been switching
//!    to): a snapshot record replaces its list, a change record is applied to it, each list is
//!    written once, durably, then the logs are dropped.
//!
//! Every change to a worker's files (snapshots, log renames, removals) happens under that worker's
//! lock ([`OWNERS`], one per data directory and worker index), which also records which incarnation
//! of the worker owns them: a worker's start takes a new generation and replays the logs while
//! holding the lock, and the worker and its helper processes check their generation, and that they
//! are alive, under the lock before each change. A killed worker's thread (which runs on until its
//! next runtime call), or a helper of a dead worker that has not been stopped yet, can therefore
//! never rename a log or an older snapshot over what the successor relies on. Worker 1's start also
//! takes the files of the 64 worker indexes past the worker count before it replays their logs,
//! which cuts off any helper of theirs still running.
//!
//! The formats are in `format.rs`. A missing snapshot is an empty list; a corrupt one is
//! reported as an error to whoever asks for that list, and never crashes the system.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use runtime::{
    CallError, Exit, ExitReason, GenServer, Init, Message, Next, Pid, Reply, ReplyTo, Server,
    StartOpts, self_pid, send,
};
use supervisor::{ChildSpec, Strategy, Supervisor, SupervisorOpts};
use thiserror::Error;

use crate::format::{
    EntryChange, LogRecord, decode_list, decode_records, encode_change, encode_list, encode_record,
    file_name, list_name,
};
use crate::list::TodoList;
use crate::registry::{Key, ProcessRegistry};

/// A log larger than this is rotated and checkpointed (see [`Database::set_log_rotation`]).
/// Each checkpoint rewrites every list changed since the last one and flushes the file system,
/// which slows the commits running meanwhile: at 32 MiB a busy system checkpointed every couple
/// of seconds and its p99 write latency doubled; 128 MiB keeps checkpoints rare, at the price of
/// replaying up to that much log per worker at a start after a crash (read whole, decoded one
/// record at a time). With change records (about 60 bytes for a short title) that is some two
/// million writes per log.
static LOG_ROTATE_BYTES: AtomicU64 = AtomicU64::new(128 << 20);

/// Fresh logs still to fail ([`Database::fail_fresh_logs`]).
static FAIL_FRESH_LOGS: AtomicUsize = AtomicUsize::new(0);

fn log_rotate_bytes() -> u64 {
    LOG_ROTATE_BYTES.load(Ordering::Relaxed)
}
/// A log is preallocated with zeros this much at a time (4 MiB, less for a small rotation
/// size): when it is created, and whenever a batch would pass the preallocated end.
fn log_prealloc_step() -> u64 {
    (log_rotate_bytes() / 4).clamp(4096, 4 << 20)
}
/// How long after a failed checkpoint the next one may start.
const CHECKPOINT_RETRY: Duration = Duration::from_secs(1);
/// How long a stopping worker waits for its checkpoint and log preparation to finish.
const HELPERS_WAIT: Duration = Duration::from_secs(3);
/// At most this many writes go into one group commit.
const MAX_BATCH: usize = 1024;
/// A commit that takes this long (its write, any zeros extending the log, and `fdatasync`)
/// is logged as slow.
const SLOW_COMMIT: Duration = Duration::from_millis(50);
/// How long a store may take before the caller gives up (the write may still happen).
const STORE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a database request failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbError {
    /// The list's snapshot exists but cannot be decoded; it is left untouched.
    #[error("the stored list {name:?} is corrupt ({reason}); the file is left as it is")]
    Corrupt {
        /// The list.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A file operation failed.
    #[error("database I/O error: {0}")]
    Io(String),
    /// The database worker is not available.
    #[error("database worker unavailable: {0}")]
    Unavailable(CallError),
}

/// Where the data lives and how many workers share it.
#[derive(Clone, Debug)]
pub struct DbConfig {
    /// The data directory (created if missing).
    pub dir: PathBuf,
    /// The number of workers (3 by default, as in the book).
    pub workers: usize,
}

pub(crate) enum DbCall {
    Store(String, Arc<TodoList>),
    Get(String),
}

pub(crate) enum DbReply {
    Stored(Result<(), DbError>),
    /// The list, and whether that version is durable (not a write still in the batch).
    Got(Result<Option<TodoList>, DbError>, bool),
}

/// What runs once a write handed over with [`Database::store_then`] is durable (`Ok`) or has
/// failed; it runs in the worker's process.
pub(crate) type Done = Box<dyn FnOnce(Result<(), DbError>) + Send>;

/// A write whose completion the worker runs.
pub(crate) struct StoreThen {
    name: String,
    list: Arc<TodoList>,
    /// The list the write started from and the one entry that changed, if the writer knows
    /// them (see [`Database::store_then`]).
    change: Option<(Arc<TodoList>, EntryChange)>,
    done: Done,
}

/// Who learns that a write is durable.
enum Waiter {
    Call(ReplyTo<DbReply>),
    Then(Done),
}

impl Waiter {
    fn answer(self, r: Result<(), DbError>) {
        match self {
            Waiter::Call(from) => from.reply(DbReply::Stored(r)),
            Waiter::Then(done) => done(r),
        }
    }
}

/// The checkpoint process is done with the old log.
struct CheckpointDone(Result<(), String>);

/// A fresh log, preallocated and durable, ready for the next rotation (or why it is not).
struct NextLogReady(Result<File, String>);

/// Per data directory and worker index, a lock over that worker's files holding the
/// generation of the worker incarnation that owns them; held while any of those files changes
/// (see the module documentation). Never held across a runtime call other than `checkpoint`,
/// nor while waiting for anything but the disk. Each worker's files have a lock of their own,
/// so one worker's replay at its start holds up no other worker's checkpoint.
///
/// Lock order: the map's own lock is held only to find or add a worker's slot, and is let go
/// before the slot is locked. A thread holds one slot at a time, except worker 1 at its start,
/// which holds its own and takes, one after another, those of the 64 indexes past the worker
/// count to replay their logs; nothing takes a slot while holding another in any other order,
/// so no two threads can wait on each other.
static OWNERS: std::sync::Mutex<Option<HashMap<(PathBuf, usize), Slot>>> =
    std::sync::Mutex::new(None);

/// One worker's entry in [`OWNERS`]: the generation that owns its files (0: none yet).
type Slot = Arc<parking_lot::Mutex<u64>>;

/// A held [`Slot`]: while it lives, nobody else changes that worker's files.
type Owners = parking_lot::ArcMutexGuard<parking_lot::RawMutex, u64>;

/// Worker `index`'s slot in [`OWNERS`], added if it is not there yet.
fn slot(dir: &Path, index: usize) -> Slot {
    // Never held across a runtime call, so no kill unwinds through it; were it poisoned
    // anyway, the map is whole (one insertion at a time).
    let mut map = OWNERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.get_or_insert_with(HashMap::new)
        .entry((dir.to_owned(), index))
        .or_default()
        .clone()
}

/// Takes worker `index`'s slot for generation `generation`: `None` if a newer incarnation
/// owns the files. Ends the calling process here if it is dead.
fn owned(dir: &Path, index: usize, generation: u64) -> Option<Owners> {
    let g = slot(dir, index).lock_arc();
    runtime::checkpoint();
    (*g == generation).then_some(g)
}

/// Makes the caller the owner of worker `index`'s files (a new generation), returning the
/// generation and the lock, still held.
fn take_ownership(dir: &Path, index: usize) -> (u64, Owners) {
    let mut g = slot(dir, index).lock_arc();
    // A worker killed while it waited for the lock must not take the files from the
    // replacement that may already own them.
    runtime::checkpoint();
    *g += 1;
    (*g, g)
}

/// Why a helper stopped: its worker has a successor.
const SUPERSEDED: &str = "superseded by a newer incarnation of the worker";

struct Pending {
    name: String,
    list: Arc<TodoList>,
    change: Option<(Arc<TodoList>, EntryChange)>,
    waiter: Waiter,
}

pub(crate) struct DbWorker {
    dir: PathBuf,
    index: usize,
    /// This incarnation's ownership of the files (see [`OWNERS`]).
    generation: u64,
    /// Set by `terminate`: no rotation or new helper from then on.
    stopping: bool,
    /// A rotation could not make its fresh log: records go on into the renamed (old) log's
    /// file, so no checkpoint may remove that file until a fresh log is made (tried again at
    /// `checkpoint_retry`); a start meanwhile replays it.
    appending_to_old: bool,
    /// After a failed checkpoint or fresh log, when to try again (at a rotation point, see
    /// `rotate`).
    checkpoint_retry: Option<Instant>,
    log: File,
    log_len: u64,
    /// How far the log is preallocated.
    log_alloc: u64,
    pending: Vec<Pending>,
    /// The newest version of each list whose file lags behind the logs (changed since the last
    /// checkpoint that succeeded): durable in a log, written to the list's file by the next
    /// checkpoint.
    unwritten: HashMap<String, Arc<TodoList>>,
    /// The lists handed to the running checkpoint (the old log's), for reads until their
    /// files are written.
    checkpoint_held: HashMap<String, Arc<TodoList>>,
    /// For each list with a snapshot record in the log being appended to, the version its last
    /// durable record there leaves: a write that starts from that very version (the same
    /// `Arc`) is logged as a change record, any other as a snapshot (see `format.rs`), so
    /// replay always applies a change to the list it was made to. Emptied when a fresh log
    /// starts.
    in_log: HashMap<String, Arc<TodoList>>,
    /// The running checkpoint process.
    checkpointer: Option<Pid>,
    /// A fresh preallocated log to switch to at the next rotation.
    next_log: Option<File>,
    /// The process making it.
    preparer: Option<Pid>,
}

fn log_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("wal-{index}.log"))
}

fn old_log_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("wal-{index}.old"))
}

fn next_log_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("wal-{index}.next"))
}

fn io_err(what: &str, path: &Path, e: io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

/// Writes a snapshot through a temporary file renamed over the list's file (the caller holds
/// the worker's slot in [`OWNERS`]). The temporary name is unique to this write and tagged
/// with the worker index (`<list file>.w<index>.<n>.tmp`): a killed worker's thread may still
/// be finishing a file while its replacement replays the same list, and with one shared name
/// each could rename the other's half-written file.
fn write_snapshot(
    dir: &Path,
    worker: usize,
    name: &str,
    bytes: &[u8],
    durable: bool,
) -> Result<(), String> {
    static NEXT_TMP: AtomicU64 = AtomicU64::new(0);
    let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(file_name(name));
    let tmp = dir.join(format!("{}.w{worker}.{n}.tmp", file_name(name)));
    let mut f = File::create(&tmp).map_err(|e| io_err("create", &tmp, e))?;
    f.write_all(bytes).map_err(|e| io_err("write", &tmp, e))?;
    if durable {
        f.sync_all().map_err(|e| io_err("sync", &tmp, e))?;
    }
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| io_err("rename", &path, e))
}

/// Makes everything written to the file system holding `dir` durable (`syncfs`): the data
/// and metadata of every file, and every rename.
fn sync_filesystem(dir: &Path) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir).map_err(|e| io_err("open", dir, e))?;
    // SAFETY: `syncfs` only reads the descriptor, which `d` keeps open for the call.
    let rc = unsafe { libc::syncfs(d.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io_err(
            "sync the file system of",
            dir,
            io::Error::last_os_error(),
        ))
    }
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("sync directory", dir, e))
}

/// Removes the temporary files a dead incarnation of worker `worker` left half-written.
fn remove_stale_tmp(dir: &Path, worker: usize) {
    let tag = format!(".w{worker}.");
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".tmp") && name.contains(&tag) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Replays a log file into durable snapshots, then removes it: snapshot records replace a list,
/// change records apply to it, unreadable records are skipped and counted; a change with no
/// snapshot before it fails the replay and keeps the log. Returns how many lists it wrote.
fn replay(dir: &Path, worker: usize, log: &Path) -> Result<usize, String> {
    let bytes = match fs::read(log) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err("read", log, e)),
    };
    // Each list's state after this log, in the order the lists first appear; written once.
    let mut lists: Vec<(&str, Replayed<'_>)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut unreadable = 0;
    for record in decode_records(&bytes) {
        let (name, change) = match record {
            LogRecord::Snapshot(name, snap) => {
                let state = decode_list(snap).map_or(Replayed::Raw(snap), Replayed::List);
                match at.get(name) {
                    Some(&i) => lists[i].1 = state,
                    None => {
                        at.insert(name, lists.len());
                        lists.push((name, state));
                    }
                }
                continue;
            }
            LogRecord::Change(name, change) => (name, change),
            LogRecord::Unreadable => {
                unreadable += 1;
                continue;
            }
        };
        let i = match at.get(name) {
            Some(&i) => i,
            None => {
                // A worker logs a list's snapshot before its changes, in every log; this log
                // was not written so. Keep it (replay fails, the start reports it) rather than
                // guess the base the change applies to.
                return Err(format!(
                    "{}: a change to list {name:?} with no snapshot before it",
                    log.display()
                ));
            }
        };
        match &mut lists[i].1 {
            Replayed::List(l) => l.apply(change),
            // A snapshot that does not decode is written back as it was, and reported to
            // whoever asks for the list; a change cannot be applied to it.
            Replayed::Raw(_) => eprintln!(
                "todo: database worker {worker}: a change to list {name:?} is not replayed: \
                 its snapshot in {} is corrupt",
                log.display()
            ),
        }
    }
    if unreadable > 0 {
        eprintln!(
            "todo: database worker {worker}: {unreadable} unreadable records in {} skipped",
            log.display()
        );
    }
    for (name, state) in &lists {
        match state {
            Replayed::List(l) => write_snapshot(dir, worker, name, &encode_list(l), true)?,
            Replayed::Raw(b) => write_snapshot(dir, worker, name, b, true)?,
        }
    }
    sync_dir(dir)?;
    fs::remove_file(log).map_err(|e| io_err("remove", log, e))?;
    Ok(lists.len())
}

/// A list as replay rebuilds it.
enum Replayed<'a> {
    List(TodoList),
    /// Snapshot bytes that do not decode (kept as they are).
    Raw(&'a [u8]),
}

/// Recovers a worker's logs, oldest first: the old one, the current one, and a fresh one that
/// a rotation may have been renaming into place (records written to it are the newest).
fn recover(dir: &Path, index: usize) -> Result<usize, String> {
    remove_stale_tmp(dir, index);
    Ok(replay(dir, index, &old_log_path(dir, index))?
        + replay(dir, index, &log_path(dir, index))?
        + replay(dir, index, &next_log_path(dir, index))?)
}

/// Writes zeros over `from..to` of a log (not synced: the next commit's sync covers them).
fn preallocate(f: &File, from: u64, to: u64) -> io::Result<()> {
    let zeros = vec![0u8; (to - from).min(1 << 20) as usize];
    let mut at = from;
    while at < to {
        let n = (to - at).min(zeros.len() as u64);
        f.write_all_at(&zeros[..n as usize], at)?;
        at += n;
    }
    Ok(())
}

/// Creates a fresh log, preallocated with zeros ([`log_prealloc_step`]) and made durable
/// once: records are then written over blocks that already exist, so the `fdatasync` of a
/// commit flushes data only, not the file's size and block map (on this machine's disk that is
/// the difference between about 6 ms and well under 1 ms per commit); only the commit that
/// extends the preallocation pays for the size. Replay stops at the first zero bytes, where
/// no record magic is. Returns the log and its preallocated length.
fn open_log(dir: &Path, index: usize) -> Result<(File, u64), String> {
    new_log(dir, &log_path(dir, index))
}

/// Creates a preallocated, durable log at `path` (see [`open_log`]).
fn new_log(dir: &Path, path: &Path) -> Result<(File, u64), String> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)
        .map_err(|e| io_err("create", path, e))?;
    let len = log_prealloc_step();
    preallocate(&f, 0, len).map_err(|e| io_err("preallocate", path, e))?;
    f.sync_all().map_err(|e| io_err("sync", path, e))?;
    sync_dir(dir)?;
    Ok((f, len))
}

/// A worker's start on the disk: takes its files (a new generation), replays every log left
/// into the lists' files, and opens a fresh log. Returns the generation and the log with its
/// preallocated length.
fn take_files(a: &WorkerArgs) -> Result<(u64, File, u64), String> {
    fs::create_dir_all(&a.dir).map_err(|e| io_err("create data directory", &a.dir, e))?;
    // Owner of the files from here on; a previous incarnation's thread or helpers still
    // running can no longer change them.
    let (generation, owners) = take_ownership(&a.dir, a.index);
    let mut recovered = recover(&a.dir, a.index)?;
    if a.index == 1 {
        // Logs of workers that no longer exist (the worker count went down), each under its
        // own slot, taken from any helper of theirs still running.
        for k in (a.workers + 1)..=(a.workers + 64) {
            let (_, _theirs) = take_ownership(&a.dir, k);
            recovered += recover(&a.dir, k)?;
        }
    }
    if recovered > 0 {
        eprintln!(
            "todo: database worker {} recovered {recovered} lists from its log",
            a.index
        );
    }
    let (log, log_alloc) = open_log(&a.dir, a.index)?;
    drop(owners);
    Ok((generation, log, log_alloc))
}

pub(crate) struct WorkerArgs {
    dir: PathBuf,
    index: usize,
    workers: usize,
}

impl GenServer for DbWorker {
    type Arg = WorkerArgs;
    type Call = DbCall;
    type Reply = DbReply;
    type Cast = StoreThen;
    type Continue = ();

    fn init(a: WorkerArgs) -> Init<Self> {
        let start = || -> Result<DbWorker, String> {
            let (generation, log, log_alloc) = take_files(&a)?;
            Ok(DbWorker {
                dir: a.dir.clone(),
                index: a.index,
                generation,
                stopping: false,
                appending_to_old: false,
                checkpoint_retry: None,
                log,
                log_len: 0,
                log_alloc,
                pending: Vec::new(),
                unwritten: HashMap::new(),
                checkpoint_held: HashMap::new(),
                in_log: HashMap::new(),
                checkpointer: None,
                next_log: None,
                preparer: None,
            })
        };
        match start() {
            Ok(mut w) => {
                match ProcessRegistry::register(Key::DatabaseWorker(a.index), self_pid()) {
                    Ok(Ok(())) => {
                        w.prepare_next_log();
                        Init::Ok(w)
                    }
                    Ok(Err(pid)) => Init::Stop(ExitReason::custom(format!(
                        "database worker {} already runs as {pid}",
                        a.index
                    ))),
                    Err(e) => Init::Stop(ExitReason::custom(format!(
                        "process registry unavailable: {e}"
                    ))),
                }
            }
            Err(e) => Init::Stop(ExitReason::custom(e)),
        }
    }

    fn handle_call(&mut self, req: DbCall, from: ReplyTo<DbReply>) -> Reply<DbReply> {
        match req {
            DbCall::Store(name, list) => {
                Reply::NoReply(self.enqueue(name, list, None, Waiter::Call(from)))
            }
            DbCall::Get(name) => {
                let durable = !self.pending.iter().any(|p| p.name == name);
                let r = self.get(&name);
                let next = if self.pending.is_empty() {
                    Next::Wait
                } else {
                    Next::WaitTimeout(Duration::ZERO)
                };
                Reply::ReplyThen(DbReply::Got(r, durable), next)
            }
        }
    }

    fn handle_cast(&mut self, s: StoreThen) -> Next {
        self.enqueue(s.name, s.list, s.change, Waiter::Then(s.done))
    }

    fn handle_timeout(&mut self) -> Next {
        self.flush()
    }

    fn handle_info(&mut self, msg: Message) -> Next {
        let failed = self.on_helper_message(msg).unwrap_or(None);
        if let Some(e) = failed {
            // Nothing is lost: the old log stays until a checkpoint of it succeeds (tried again
            // at a later rotation point) or the next start replays it.
            eprintln!("todo: database worker {}: {e}", self.index);
        }
        if self.pending.is_empty() {
            Next::Wait
        } else {
            Next::WaitTimeout(Duration::ZERO)
        }
    }

    fn terminate(&mut self, _reason: &ExitReason) {
        self.stopping = true;
        // A stop lets a running checkpoint and log preparation finish, so a stopped database
        // leaves no old log and no half-made file behind (each takes milliseconds).
        self.finish_helpers();
        // One still running after that must not write a list's file after this worker's
        // successor has replayed the logs: stop it (it checks between files). Its old log
        // stays, and is replayed at the next start.
        if let Some(c) = self.checkpointer.take() {
            runtime::exit(c, ExitReason::Kill);
            let held = std::mem::take(&mut self.checkpoint_held);
            self.keep_held(held);
        }
        // Nor may a preparer rename a fresh log into place for the successor.
        if let Some(p) = self.preparer.take() {
            runtime::exit(p, ExitReason::Kill);
        }
        if !self.pending.is_empty() {
            let _ = self.flush();
        }
        // Not needed for durability (the log is replayed at the next start), but a stopped
        // database leaves every list in its file.
        let _ = self.write_unwritten();
    }
}

impl DbWorker {
    fn enqueue(
        &mut self,
        name: String,
        list: Arc<TodoList>,
        change: Option<(Arc<TodoList>, EntryChange)>,
        waiter: Waiter,
    ) -> Next {
        self.pending.push(Pending {
            name,
            list,
            change,
            waiter,
        });
        if self.pending.len() >= MAX_BATCH {
            return self.flush();
        }
        // Take whatever else is already queued (a poll), then commit (see handle_timeout).
        Next::WaitTimeout(Duration::ZERO)
    }

    fn get(&self, name: &str) -> Result<Option<TodoList>, DbError> {
        let held = self
            .pending
            .iter()
            .rev()
            .find(|p| p.name == name)
            .map(|p| &p.list)
            .or_else(|| self.unwritten.get(name))
            .or_else(|| self.checkpoint_held.get(name));
        if let Some(list) = held {
            return Ok(Some(TodoList::clone(list)));
        }
        let path = self.dir.join(file_name(name));
        match fs::read(&path) {
            Ok(bytes) => decode_list(&bytes)
                .map(Some)
                .map_err(|reason| DbError::Corrupt {
                    name: name.to_owned(),
                    reason,
                }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DbError::Io(io_err("read", &path, e))),
        }
    }

    /// Commits the batch: log records, one fdatasync, snapshots, replies.
    fn flush(&mut self) -> Next {
        let batch = std::mem::take(&mut self.pending);
        if batch.is_empty() {
            return Next::Wait;
        }
        let mut buf = Vec::with_capacity(batch.iter().map(|p| p.name.len() + 64).sum());
        // The version each list's records in this batch leave (`in_log` is updated below, once
        // they are durable).
        let mut leaves: HashMap<&str, &Arc<TodoList>> = HashMap::new();
        for p in &batch {
            // A list's first record in a log is its whole snapshot, so that replaying this log
            // never needs the list's file; then only what changed, if the write started from
            // what the log already has.
            let last = leaves
                .get(p.name.as_str())
                .copied()
                .or_else(|| self.in_log.get(&p.name));
            let as_change = match (&p.change, last) {
                (Some((base, c)), Some(last)) if Arc::ptr_eq(base, last) => {
                    encode_change(&p.name, c, &mut buf)
                }
                _ => false,
            };
            if !as_change {
                encode_record(&p.name, &encode_list(&p.list), &mut buf);
            }
            leaves.insert(&p.name, &p.list);
        }
        let end = self.log_len + buf.len() as u64;
        let alloc = if end > self.log_alloc {
            end + log_prealloc_step()
        } else {
            self.log_alloc
        };
        let started = Instant::now();
        let logged = preallocate(&self.log, self.log_alloc.max(end), alloc)
            .and_then(|()| self.log.write_all_at(&buf, self.log_len))
            .and_then(|()| self.log.sync_data())
            .map_err(|e| io_err("append to", &log_path(&self.dir, self.index), e));
        let took = started.elapsed();
        if took >= SLOW_COMMIT && logged.is_ok() {
            // Every client waiting on this batch waited this long: a line per slow commit
            // tells the disk's stalls apart from the system's own latency. A commit that
            // extends the log's preallocation writes its zeros too, and says so.
            let zeros = alloc - self.log_alloc;
            let extended = if zeros > 0 {
                format!(" and {zeros} bytes of zeros extending the log")
            } else {
                String::new()
            };
            eprintln!(
                "todo: database worker {}: slow commit, {} records ({} bytes{extended}) took {} ms to write and fdatasync",
                self.index,
                batch.len(),
                buf.len(),
                took.as_millis()
            );
        }
        if let Err(e) = logged {
            for p in batch {
                p.waiter.answer(Err(DbError::Io(e.clone())));
            }
            // The log may end in a partial record; a fresh worker replays what is valid.
            return Next::Stop(ExitReason::custom(e));
        }
        self.log_len = end;
        self.log_alloc = alloc;
        // A killed process's thread runs on until its next runtime call, and answers on a
        // channel are not runtime sends: a worker killed during its `fdatasync` must not
        // answer afterwards, because its replacement may have replayed (and removed) the log
        // before this batch reached it. `checkpoint` ends the thread here if the process is
        // dead; if it is alive, the batch was durable before any kill, so before any
        // replacement's replay.
        runtime::checkpoint();
        for p in batch {
            // In order, so the last version of each list in the batch stays (here and in
            // `in_log`, where a list already there costs no new key).
            match self.in_log.get_mut(&p.name) {
                Some(last) => last.clone_from(&p.list),
                None => {
                    self.in_log.insert(p.name.clone(), p.list.clone());
                }
            }
            self.unwritten.insert(p.name, p.list);
            p.waiter.answer(Ok(()));
        }
        if self.log_len >= log_rotate_bytes() && self.checkpointer.is_none() && !self.stopping {
            self.rotate();
        }
        Next::Wait
    }

    /// Writes every held snapshot to its list's file (not durably: the logs, kept, are
    /// replayed at the next start).
    fn write_unwritten(&mut self) -> Result<(), String> {
        for (name, list) in std::mem::take(&mut self.unwritten) {
            let bytes = encode_list(&list);
            // A killed worker's thread stops in here, between files, rather than writing on.
            let Some(_owned) = owned(&self.dir, self.index, self.generation) else {
                return Err(SUPERSEDED.into());
            };
            write_snapshot(&self.dir, self.index, &name, &bytes, false)?;
        }
        Ok(())
    }

    /// Handles what a checkpoint or log preparer sends (its answer, or its `Exit` if it
    /// crashed first): returns what went wrong, if anything, or the message back if it is not
    /// from a helper.
    fn on_helper_message(&mut self, msg: Message) -> Result<Option<String>, Message> {
        let msg = match msg.downcast::<CheckpointDone>() {
            Ok(CheckpointDone(r)) => {
                self.checkpointer = None;
                let held = std::mem::take(&mut self.checkpoint_held);
                return Ok(match r {
                    Ok(()) => {
                        self.prepare_next_log();
                        None
                    }
                    Err(e) => {
                        self.checkpoint_failed(held);
                        Some(format!("checkpoint failed: {e}"))
                    }
                });
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<NextLogReady>() {
            Ok(NextLogReady(made)) => {
                self.preparer = None;
                return Ok(match made {
                    Ok(f) => {
                        self.next_log = Some(f);
                        None
                    }
                    // The next rotation then makes its fresh log inline.
                    Err(e) => Some(format!("preparing the next log: {e}")),
                });
            }
            Err(m) => m,
        };
        // A helper's answer comes before its Exit: an Exit first means it crashed.
        match msg.downcast::<Exit>() {
            Ok(e) if self.preparer == Some(e.from) => {
                self.preparer = None;
                Ok(Some(format!("preparing the next log: {}", e.reason)))
            }
            Ok(e) if self.checkpointer == Some(e.from) && e.reason != ExitReason::Normal => {
                self.checkpointer = None;
                let held = std::mem::take(&mut self.checkpoint_held);
                self.checkpoint_failed(held);
                Ok(Some(format!("checkpoint failed: {}", e.reason)))
            }
            Ok(e) => Err(Message::new(e)),
            Err(m) => Err(m),
        }
    }

    /// A checkpoint did not finish: its snapshots come back, and another is tried later.
    fn checkpoint_failed(&mut self, held: HashMap<String, Arc<TodoList>>) {
        self.keep_held(held);
        self.checkpoint_retry = Some(Instant::now() + CHECKPOINT_RETRY);
    }

    /// Waits, for [`HELPERS_WAIT`] at most, until the checkpoint and the log preparation that
    /// are running end, handling their answers; leaves the mailbox's other messages.
    fn finish_helpers(&mut self) {
        let deadline = Instant::now() + HELPERS_WAIT;
        while self.checkpointer.is_some() || self.preparer.is_some() {
            let left = deadline.saturating_duration_since(Instant::now());
            let helpers = [self.checkpointer, self.preparer];
            let Some(m) = runtime::receive_select(Some(left), |m| {
                m.is::<CheckpointDone>()
                    || m.is::<NextLogReady>()
                    || m.downcast_ref::<Exit>()
                        .is_some_and(|e| helpers.contains(&Some(e.from)))
            }) else {
                return;
            };
            // `stopping` is set: this starts no new helper.
            let _ = self.on_helper_message(m);
        }
    }

    /// Takes back the snapshots of a checkpoint that did not finish, under any newer ones.
    fn keep_held(&mut self, held: HashMap<String, Arc<TodoList>>) {
        for (name, list) in held {
            self.unwritten.entry(name).or_insert(list);
        }
    }

    /// Switches to a fresh log and checkpoints the old one in another process.
    fn rotate(&mut self) {
        let old = old_log_path(&self.dir, self.index);
        let current = log_path(&self.dir, self.index);
        // An old log that cannot be looked at counts as there: never rename over it.
        if old.try_exists().unwrap_or(true) {
            // Either a checkpoint failed, and the old log holds records that may not be in
            // durable snapshots, or a rotation could not make its fresh log, and records still
            // go into the old log's file. Once the retry is due, try again what failed: the
            // checkpoint, with every snapshot held (they include the old log's lists, each in
            // a version at least as new and durable in a log), or the fresh log and then the
            // checkpoint. A rotation proper comes at a later commit.
            if self.checkpoint_retry.is_none_or(|t| Instant::now() < t) {
                return;
            }
            self.checkpoint_retry = None;
            if !self.appending_to_old {
                // No rename: the checkpoint checks its ownership before each file itself.
                self.start_checkpoint(old);
                return;
            }
            let Some(files) = owned(&self.dir, self.index, self.generation) else {
                return;
            };
            if self.switch_to_fresh_log(&current) {
                self.appending_to_old = false;
                drop(files);
                self.start_checkpoint(old);
            } else {
                self.checkpoint_retry = Some(Instant::now() + CHECKPOINT_RETRY);
            }
            return;
        }
        // The renames below must not happen once a successor has replayed the logs.
        let Some(files) = owned(&self.dir, self.index, self.generation) else {
            return;
        };
        if fs::rename(&current, &old).is_err() {
            return;
        }
        if !self.switch_to_fresh_log(&current) {
            // Records go on into the renamed log's file (`self.log` is still open), which no
            // checkpoint may remove; the fresh log is tried again a second later, and a start
            // meanwhile replays the file as the old log.
            self.appending_to_old = true;
            self.checkpoint_retry = Some(Instant::now() + CHECKPOINT_RETRY);
            return;
        }
        drop(files);
        self.start_checkpoint(old);
    }

    /// Makes `current` (where no log is now) a fresh log and appends to it from now on: the
    /// prepared log if there is one (renamed into place: a crash between the rotation's two
    /// renames leaves it as `next`, which recovery replays last), else a new one made here.
    /// False, with the reason logged, if that fails. Called under the worker's slot in
    /// [`OWNERS`].
    fn switch_to_fresh_log(&mut self, current: &Path) -> bool {
        let fresh = if FAIL_FRESH_LOGS
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            Err(format!("{}: injected failure", current.display()))
        } else {
            match self.next_log.take() {
                Some(f) => fs::rename(next_log_path(&self.dir, self.index), current)
                    .and_then(|()| {
                        let len = f.metadata()?.len();
                        Ok((f, len))
                    })
                    .map_err(|e| io_err("rename", current, e)),
                None => open_log(&self.dir, self.index),
            }
        };
        match fresh {
            Ok((f, alloc)) => {
                self.log = f;
                self.log_len = 0;
                self.log_alloc = alloc;
                self.in_log.clear();
                true
            }
            Err(e) => {
                eprintln!("todo: database worker {}: {e}", self.index);
                false
            }
        }
    }

    /// Hands the snapshots held to a checkpoint process, which writes them to their files,
    /// flushes the file system and removes the old log `old`.
    fn start_checkpoint(&mut self, old: PathBuf) {
        let held = std::mem::take(&mut self.unwritten);
        self.checkpoint_held = held.clone();
        let (dir, index, generation, me) =
            (self.dir.clone(), self.index, self.generation, self_pid());
        // Linked, and checking its generation before each file (`owned`): if the worker
        // dies, its checkpoint stops too (its replacement replays the old log, and may
        // later rotate a log of its own to the same name, which this process must not remove).
        let pid = runtime::spawn_link(move || {
            let r = (|| {
                for (name, list) in &held {
                    // Encoded here, not in the worker, which goes on committing meanwhile.
                    let bytes = encode_list(list);
                    let _owned = owned(&dir, index, generation).ok_or(SUPERSEDED)?;
                    write_snapshot(&dir, index, name, &bytes, false)?;
                }
                // One flush for all of them (and the renames): an `fsync` per file made each
                // a journal commit, hundreds per checkpoint, and the workers' commits queued
                // behind them.
                sync_filesystem(&dir)?;
                let _owned = owned(&dir, index, generation).ok_or(SUPERSEDED)?;
                fs::remove_file(&old).map_err(|e| io_err("remove", &old, e))
            })();
            send(me, CheckpointDone(r));
        });
        self.checkpointer = Some(pid);
    }

    /// Makes the next rotation's fresh log in another process, unless one is made or being
    /// made. The file is made under a name of its own and renamed to `wal-<n>.next` under
    /// the worker's slot in [`OWNERS`] once the preparer has checked its generation, so a
    /// preparer of a dead worker can never put its file where this worker's successor expects
    /// its own.
    fn prepare_next_log(&mut self) {
        if self.next_log.is_some() || self.preparer.is_some() || self.stopping {
            return;
        }
        static NEXT_TMP: AtomicU64 = AtomicU64::new(0);
        let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
        let (dir, index, generation, me) =
            (self.dir.clone(), self.index, self.generation, self_pid());
        let tmp = dir.join(format!("wal-{index}.next.w{index}.{n}.tmp"));
        self.preparer = Some(runtime::spawn_link(move || {
            // Removes the half-made file if this process fails or is killed (it then unwinds
            // from `checkpoint`) before the rename.
            let mut unfinished = RemoveOnDrop(Some(tmp.clone()));
            let made = new_log(&dir, &tmp).and_then(|(f, _)| {
                let next = next_log_path(&dir, index);
                let _owned = owned(&dir, index, generation).ok_or(SUPERSEDED)?;
                fs::rename(&tmp, &next).map_err(|e| io_err("rename", &next, e))?;
                unfinished.0 = None;
                // The rename durable before any record goes into the file: a crash must not
                // leave it under its temporary name, which a start removes unread.
                sync_dir(&dir)?;
                Ok(f)
            });
            drop(unfinished);
            send(me, NextLogReady(made));
        }));
    }
}

/// Removes a file when dropped, unless disarmed (set to `None`).
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// The database's client API and child spec.
pub struct Database;

fn worker_for(name: &str, workers: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    (h.finish() % workers.max(1) as u64) as usize + 1
}

/// The number of workers of the running database (set when it starts).
static WORKERS: AtomicUsize = AtomicUsize::new(3);

fn worker(name: &str) -> Result<Server<DbWorker>, DbError> {
    let n = worker_for(name, WORKERS.load(Ordering::Relaxed));
    ProcessRegistry::whereis(&Key::DatabaseWorker(n))
        .map(Server::from_pid)
        .ok_or(DbError::Unavailable(CallError::NoProc))
}

impl Database {
    /// A supervisor (one_for_one) of `config.workers` workers, each registered in the
    /// process registry as `{:database_worker, n}`.
    pub fn child_spec(config: DbConfig) -> ChildSpec {
        ChildSpec::supervisor("database", move || {
            let workers = config.workers.max(1);
            WORKERS.store(workers, Ordering::Relaxed);
            let children = (1..=workers)
                .map(|index| {
                    let dir = config.dir.clone();
                    ChildSpec::worker(format!("database_worker_{index}"), move || {
                        runtime::gen_server::start_link::<DbWorker>(
                            WorkerArgs {
                                dir: dir.clone(),
                                index,
                                workers,
                            },
                            // A shutdown runs terminate, which commits what the worker holds.
                            StartOpts::new().trap_exit(),
                        )
                    })
                })
                .collect();
            Supervisor::start_link(
                children,
                SupervisorOpts::new().strategy(Strategy::OneForOne),
            )
        })
    }

    /// Stores `list` under `name`; returns once it is durable.
    pub fn store(name: &str, list: &TodoList) -> Result<(), DbError> {
        let w = worker(name)?;
        match w.call_timeout(
            DbCall::Store(name.to_owned(), Arc::new(list.clone())),
            Some(STORE_TIMEOUT),
        ) {
            Ok(DbReply::Stored(r)) => r,
            Ok(DbReply::Got(..)) => Err(DbError::Io("unexpected reply".into())),
            Err(e) => Err(DbError::Unavailable(e)),
        }
    }

    /// Hands a write to `worker` (the list's worker, [`Database::worker_pid`]) without
    /// waiting: `done` runs in the worker once the write is durable, or has failed. The
    /// caller monitors the worker: if it dies, `done` may never run (it is dropped).
    /// `change` is the version the write started from (the `Arc` the previous write of this
    /// list handed over, or the one loaded) and the one entry that changed, if known: if the
    /// log's last record of the list leaves that very version, the log records only the change.
    pub(crate) fn store_then(
        worker: Pid,
        name: &str,
        list: Arc<TodoList>,
        change: Option<(Arc<TodoList>, EntryChange)>,
        done: Done,
    ) {
        Server::<DbWorker>::from_pid(worker).cast(StoreThen {
            name: name.to_owned(),
            list,
            change,
            done,
        });
    }

    /// The stored list, `None` if there is none.
    pub fn get(name: &str) -> Result<Option<TodoList>, DbError> {
        Self::get_durable(name).map(|(list, _)| list)
    }

    /// The stored list, and whether that version is durable (not a write still in flight).
    pub(crate) fn get_durable(name: &str) -> Result<(Option<TodoList>, bool), DbError> {
        let w = worker(name)?;
        match w.call_timeout(DbCall::Get(name.to_owned()), Some(STORE_TIMEOUT)) {
            Ok(DbReply::Got(r, durable)) => r.map(|l| (l, durable)),
            Ok(DbReply::Stored(_)) => Err(DbError::Io("unexpected reply".into())),
            Err(e) => Err(DbError::Unavailable(e)),
        }
    }

    /// The names of the lists stored in `dir` (their snapshot files), sorted.
    pub fn stored_lists(dir: &Path) -> Result<Vec<String>, DbError> {
        let rd = fs::read_dir(dir).map_err(|e| DbError::Io(io_err("list", dir, e)))?;
        let mut names: Vec<String> = rd
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().and_then(list_name))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Test hook: the next `n` attempts, by any worker, to make a fresh log (at a rotation or
    /// its retry) fail, as on a full disk. Not part of the API.
    #[doc(hidden)]
    pub fn fail_fresh_logs(n: usize) {
        FAIL_FRESH_LOGS.store(n, Ordering::Relaxed);
    }

    /// Test hook: the log size past which the workers of this program rotate their logs
    /// (128 MiB by default), from now on. Not part of the API.
    #[doc(hidden)]
    pub fn set_log_rotation(bytes: u64) {
        LOG_ROTATE_BYTES.store(bytes.max(4096), Ordering::Relaxed);
    }

    /// The worker pid serving `name` now.
    pub fn worker_pid(name: &str) -> Option<Pid> {
        worker(name).ok().and_then(|s| s.pid())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::list::Entry;

    fn list(titles: &[&str]) -> TodoList {
        let d: Date = "2018-12-19".parse().unwrap();
        TodoList::from_entries(titles.iter().map(|t| (d, *t)))
    }

    /// A log of three records (a v1, b v1, a v2) cut at `cut` bytes, then recovered.
    fn recover_cut(cut: impl Fn(usize, usize) -> usize) -> (PathBuf, usize) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "todo-wal-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        let mut log = Vec::new();
        encode_record("a", &encode_list(&list(&["one"])), &mut log);
        encode_record("b", &encode_list(&list(&["two"])), &mut log);
        let third = log.len();
        encode_record("a", &encode_list(&list(&["one", "three"])), &mut log);
        let end = cut(third, log.len());
        log.truncate(end);
        // What a preallocated log holds after its records.
        log.extend(std::iter::repeat_n(0u8, 4096));
        fs::write(log_path(&dir, 1), &log).unwrap();
        let n = recover(&dir, 1).unwrap();
        (dir, n)
    }

    /// A fresh scratch directory for one test.
    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("todo-wal-{tag}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Log records, one per `(list, titles)`, in order.
    fn records(lists: &[(&str, &[&str])]) -> Vec<u8> {
        let mut log = Vec::new();
        for (name, titles) in lists {
            encode_record(name, &encode_list(&list(titles)), &mut log);
        }
        log
    }

    fn stored(dir: &Path, name: &str) -> TodoList {
        decode_list(&fs::read(dir.join(file_name(name))).unwrap()).unwrap()
    }

    #[test]
    fn a_log_cut_in_the_middle_of_a_record_recovers_exactly_the_complete_ones() {
        // A crash while the last record was being written: at every byte of it.
        for back in 1..40 {
            let (dir, n) = recover_cut(|_, end| end - back);
            assert_eq!(n, 2);
            assert_eq!(stored(&dir, "a"), list(&["one"]), "cut {back} bytes early");
            assert_eq!(stored(&dir, "b"), list(&["two"]));
            assert!(!log_path(&dir, 1).exists(), "a replayed log is removed");
            fs::remove_dir_all(dir).unwrap();
        }
        // Cut inside the third record's header.
        let (dir, _) = recover_cut(|third, _| third + 5);
        assert_eq!(stored(&dir, "a"), list(&["one"]));
        fs::remove_dir_all(dir).unwrap();
        // Whole: the last record of a list wins.
        let (dir, n) = recover_cut(|_, end| end);
        assert_eq!(n, 2);
        assert_eq!(stored(&dir, "a"), list(&["one", "three"]));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupt_record_ends_the_replay() {
        // A record whose checksum fails (a torn sector) is not applied, nor anything after it.
        let dir = scratch("flip");
        let second = records(&[("a", &["one"])]).len();
        let mut log = records(&[("a", &["one"]), ("a", &["one", "two"]), ("b", &["b"])]);
        log[second + 20] ^= 1;
        fs::write(log_path(&dir, 1), &log).unwrap();
        assert_eq!(recover(&dir, 1).unwrap(), 1);
        assert_eq!(stored(&dir, "a"), list(&["one"]));
        assert!(!dir.join(file_name("b")).exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn logs_are_replayed_oldest_first_including_a_fresh_log_a_rotation_was_renaming() {
        // A crash between a rotation's two renames: the old log renamed aside, the fresh log
        // still named `next` with records already in it (the newest), no current log.
        let dir = scratch("next");
        let old = records(&[("a", &["old"]), ("b", &["b old"])]);
        let mut next = records(&[("a", &["old", "new"])]);
        next.extend(std::iter::repeat_n(0u8, 4096));
        fs::write(old_log_path(&dir, 1), &old).unwrap();
        fs::write(next_log_path(&dir, 1), &next).unwrap();
        // A fresh log a dead preparer left half-made is removed, never replayed as a log.
        fs::write(dir.join("wal-1.next.w1.7.tmp"), [0u8; 64]).unwrap();
        assert_eq!(recover(&dir, 1).unwrap(), 3);
        assert_eq!(stored(&dir, "a"), list(&["old", "new"]));
        assert_eq!(stored(&dir, "b"), list(&["b old"]));
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("wal-"))
            .collect();
        assert!(left.is_empty(), "every log replayed and removed: {left:?}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn change_records_replay_onto_the_snapshot_before_them() {
        let dir = scratch("changes");
        let day: Date = "2018-12-20".parse().unwrap();
        let entry = |id: u64, title: &str| Entry {
            id,
            date: day,
            title: title.to_owned(),
        };
        let change = |c: EntryChange, log: &mut Vec<u8>| assert!(encode_change("a", &c, log));
        // The old log: a snapshot of `a`, an entry added, one updated, one deleted.
        let mut old = records(&[("a", &["one", "two"])]);
        change(
            EntryChange::Put {
                next_id: 4,
                entry: entry(3, "three"),
            },
            &mut old,
        );
        change(
            EntryChange::Put {
                next_id: 4,
                entry: entry(1, "one, later"),
            },
            &mut old,
        );
        change(EntryChange::Delete { next_id: 4, id: 2 }, &mut old);
        // The current log: `a` again (a snapshot first, as a worker writes it), then a change.
        let mut expected = list(&["one, later"]);
        expected.apply(EntryChange::Put {
            next_id: 4,
            entry: entry(3, "three"),
        });
        let mut current = Vec::new();
        encode_record("a", &encode_list(&expected), &mut current);
        let last = EntryChange::Put {
            next_id: 5,
            entry: entry(4, "four"),
        };
        change(last.clone(), &mut current);
        expected.apply(last);
        fs::write(old_log_path(&dir, 1), &old).unwrap();
        fs::write(log_path(&dir, 1), &current).unwrap();
        assert_eq!(recover(&dir, 1).unwrap(), 2);
        let a = stored(&dir, "a");
        assert_eq!(a, expected);
        assert_eq!(
            a.all_entries()
                .map(|e| e.title.as_str())
                .collect::<Vec<_>>(),
            ["one, later", "three", "four"]
        );
        assert_eq!(a.next_id(), 5, "ids are never reused");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_change_with_no_snapshot_before_it_stops_the_replay_and_keeps_the_log() {
        // Never written by a worker: the base it applies to is unknown. The start fails with
        // the reason, and the log stays for inspection.
        let dir = scratch("orphan");
        write_snapshot(&dir, 1, "b", &encode_list(&list(&["b"])), true).unwrap();
        let mut log = Vec::new();
        assert!(encode_change(
            "b",
            &EntryChange::Delete { next_id: 2, id: 1 },
            &mut log
        ));
        fs::write(log_path(&dir, 1), &log).unwrap();
        let err = recover(&dir, 1).unwrap_err();
        assert!(err.contains("no snapshot before it"), "{err}");
        assert!(log_path(&dir, 1).exists());
        assert_eq!(stored(&dir, "b"), list(&["b"]));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unreadable_record_is_skipped_not_the_rest_of_the_log() {
        let dir = scratch("unreadable");
        let mut log = records(&[("a", &["one"])]);
        // A checksummed change record this format cannot parse.
        let mut odd = Vec::new();
        assert!(encode_change(
            "a",
            &EntryChange::Delete { next_id: 2, id: 1 },
            &mut odd
        ));
        let body_at = odd.len() - "del 2\t1".len();
        odd[body_at..body_at + 3].copy_from_slice(b"mov");
        let crc = crate::format::crc32(&odd[12..]);
        odd[8..12].copy_from_slice(&crc.to_le_bytes());
        log.extend(odd);
        log.extend(records(&[("b", &["after"])]));
        fs::write(log_path(&dir, 1), &log).unwrap();
        assert_eq!(recover(&dir, 1).unwrap(), 2);
        assert_eq!(stored(&dir, "a"), list(&["one"]));
        assert_eq!(stored(&dir, "b"), list(&["after"]));
        fs::remove_dir_all(dir).unwrap();
    }

    /// One worker's start, holding its own files through the replay, does not hold up
    /// another worker's checkpoint (there was one lock for all workers).
    #[test]
    fn a_worker_holding_its_files_does_not_hold_another_workers() {
        let dir = scratch("owners-apart");
        let (one, held) = take_ownership(&dir, 1);
        // Worker 2's side runs on a thread of its own, so that a shared lock would make the
        // answer late (and the test fail) rather than block this thread for good.
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.clone();
        let t = std::thread::spawn(move || {
            let (two, g) = take_ownership(&d, 2);
            drop(g);
            let _ = tx.send(owned(&d, 2, two).is_some());
        });
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok(true),
            "worker 2's files are free while worker 1's are held"
        );
        t.join().unwrap();
        drop(held);
        assert!(owned(&dir, 1, one).is_some());
        fs::remove_dir_all(dir).unwrap();
    }

    /// Worker 1's start replays the logs of workers beyond the worker count and takes their
    /// files first: a helper of such a worker, from a run with more workers, is refused after.
    #[test]
    fn worker_one_takes_the_files_of_workers_beyond_the_count() {
        let dir = scratch("owners-beyond");
        let (old_four, g) = take_ownership(&dir, 4);
        drop(g);
        fs::write(log_path(&dir, 4), records(&[("left", &["behind"])])).unwrap();
        let args = WorkerArgs {
            dir: dir.clone(),
            index: 1,
            workers: 3,
        };
        let (generation, _log, _) = take_files(&args).unwrap();
        assert!(owned(&dir, 1, generation).is_some());
        assert!(
            owned(&dir, 4, old_four).is_none(),
            "a helper of the old worker 4 may no longer change its files"
        );
        assert_eq!(stored(&dir, "left"), list(&["behind"]));
        assert!(
            !log_path(&dir, 4).exists(),
            "its log was replayed and removed"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_the_newest_incarnation_of_a_worker_may_change_its_files() {
        let dir = scratch("owners");
        let (first, g) = take_ownership(&dir, 3);
        drop(g);
        assert!(owned(&dir, 3, first).is_some());
        let (second, g) = take_ownership(&dir, 3);
        drop(g);
        assert!(second > first);
        assert!(
            owned(&dir, 3, first).is_none(),
            "a superseded worker or helper is refused"
        );
        assert!(owned(&dir, 3, second).is_some());
        // Other workers and other directories are separate.
        assert!(owned(&dir, 4, first).is_none());
        let (other, g) = take_ownership(&dir.join("elsewhere"), 3);
        drop(g);
        assert!(owned(&dir, 3, second).is_some());
        assert!(owned(&dir.join("elsewhere"), 3, other).is_some());
        fs::remove_dir_all(dir).unwrap();
    }
}
