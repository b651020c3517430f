//! The process table, the per-process state, and the death procedure.
//!
//! # Lock order
//!
//! There are three kinds of lock, always taken in this order:
//!
//! 1. a process's `state` lock; when two are needed (link, unlink) they are taken in ascending
//!    pid order, so two processes linking each other at the same moment cannot deadlock;
//! 2. the name registry (`registry::NAMES`);
//! 3. one process's `inbox` lock, always the innermost, never two at once.
//!
//! A table shard lock comes before all of these: `with_proc` holds a shard's read lock while it
//! takes one process's `state` or `inbox` lock, and no code takes a shard lock while it holds
//! any other runtime lock. No runtime lock is held while user code runs (exit hooks, receive
//! predicates, destructors of messages and hooks that are dropped undelivered).
//!
//! A dying process is marked dead first (under its `state` lock) and leaves the table last,
//! when its death procedure is complete, so `exit` can tell a death in progress on another
//! thread from a finished one and wait for it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::ids::{Pid, Ref, next_pid};
use crate::message::Message;
use crate::reason::{Down, Exit, ExitReason};

/// A hook run once when its process exits (see [`add_exit_hook`](crate::add_exit_hook)).
pub(crate) type ExitHook = Box<dyn FnOnce(Pid, &ExitReason) + Send>;

/// Identifies an exit hook, to remove it with [`remove_exit_hook`](crate::remove_exit_hook).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ExitHookId(pub(crate) u64);

/// What a monitor held by a process looks like from the holder's side.
#[derive(Clone, Copy)]
pub(crate) struct HeldMonitor {
    pub(crate) target: Pid,
    /// A monitor set up by a call: its `Down` goes to the reply slot, not the mailbox.
    pub(crate) to_slot: bool,
}

/// The part of a process that other processes change: links, monitors, name, hooks.
#[derive(Default)]
pub(crate) struct ProcState {
    pub(crate) links: HashSet<Pid, IdBuild>,
    /// Monitors this process holds on others, by reference.
    pub(crate) monitors: HashMap<Ref, HeldMonitor, IdBuild>,
    /// Monitors others hold on this process: reference to the watcher.
    pub(crate) monitored_by: HashMap<Ref, Pid, IdBuild>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) hooks: Vec<(ExitHookId, ExitHook)>,
    pub(crate) exit_reason: Option<ExitReason>,
}

/// What a call's reply slot can receive.
pub(crate) enum SlotValue {
    Reply(Message),
    Down(ExitReason),
}

/// The shared half of a mailbox: senders push here under the lock.
#[derive(Default)]
pub(crate) struct Inbox {
    pub(crate) queue: VecDeque<Message>,
    pub(crate) closed: bool,
    /// The tag of the call this process is waiting on, if any; replies with another tag are
    /// dropped (OTP's alias semantics: a late reply is never delivered).
    pub(crate) slot_tag: Option<Ref>,
    pub(crate) slot: Option<SlotValue>,
}

/// One process. Shared through `Arc` between the table, its own thread and its peers.
pub(crate) struct Proc {
    pub(crate) pid: Pid,
    /// Set to false exactly once, under the `state` lock, when the process dies.
    pub(crate) alive: AtomicBool,
    pub(crate) trap_exit: AtomicBool,
    /// The process runs on a thread it was not spawned on (a main thread, a test).
    pub(crate) adopted: bool,
    pub(crate) state: Mutex<ProcState>,
    pub(crate) inbox: Mutex<Inbox>,
    pub(crate) cond: Condvar,
    /// Bumped on every push, so a receiver can spin on it without taking the lock.
    pub(crate) version: AtomicU64,
    /// Messages in the inbox plus the owner's save queue.
    pub(crate) queue_len: AtomicUsize,
    pub(crate) waiting: AtomicBool,
    /// How many of this process's last waits for a message were long ones, in a row; decides
    /// whether its next wait spins before parking (`mailbox::wait_for_news`). Only the
    /// process's own thread touches it.
    pub(crate) long_waits: AtomicU32,
    pub(crate) sent: AtomicU64,
    pub(crate) received: AtomicU64,
    /// Set once the death procedure is complete (notifications sent, out of the table).
    pub(crate) finished: AtomicBool,
}

impl Proc {
    fn new(adopted: bool) -> Arc<Proc> {
        Arc::new(Proc {
            pid: next_pid(),
            alive: AtomicBool::new(true),
            trap_exit: AtomicBool::new(false),
            adopted,
            state: Mutex::new(ProcState::default()),
            inbox: Mutex::new(Inbox::default()),
            cond: Condvar::new(),
            version: AtomicU64::new(0),
            queue_len: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            long_waits: AtomicU32::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            finished: AtomicBool::new(false),
        })
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    pub(crate) fn traps_exits(&self) -> bool {
        self.trap_exit.load(Ordering::Acquire)
    }

    /// Appends a message. `sender` is the sending process when there is one: the message is
    /// only appended if the sender is still alive *at this moment*, checked under this inbox
    /// lock. The death procedure marks a process dead before it pushes that process's Exit and
    /// Down notifications under the same lock, so a killed sender's last message can never
    /// arrive after its Exit. Returns `Err(())` if the sender has died (the caller unwinds).
    ///
    /// The message is taken out of `msg` only when it is appended. Otherwise it stays there
    /// for the caller to drop once it holds no lock (a table shard lock, with `with_proc`):
    /// its destructor is user code and may call the runtime.
    pub(crate) fn push(&self, msg: &mut Option<Message>, sender: Option<&Proc>) -> Result<(), ()> {
        let mut inbox = self.inbox.lock();
        if inbox.closed {
            return Ok(()); // sending to a dead process is silently dropped
        }
        if let Some(s) = sender
            && !s.is_alive()
            && !in_system_context()
        {
            return Err(());
        }
        let Some(m) = msg.take() else { return Ok(()) };
        inbox.queue.push_back(m);
        self.queue_len.fetch_add(1, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
        drop(inbox);
        self.cond.notify_one();
        Ok(())
    }

    /// Pushes a runtime-generated notification (Exit, Down). The caller holds this process's
    /// `state` lock when ordering against link/monitor removal matters.
    pub(crate) fn push_system(&self, msg: Message) {
        let _ = self.push(&mut Some(msg), None);
    }

    /// Puts a value in the reply slot if `tag` is the call being waited on; otherwise drops it.
    /// A value nobody waits for is handed back, so that the caller drops it (running the
    /// reply's destructor) with no runtime lock held.
    pub(crate) fn fill_slot(&self, tag: Ref, value: SlotValue) -> Result<(), SlotValue> {
        let mut inbox = self.inbox.lock();
        if inbox.closed || inbox.slot_tag != Some(tag) || inbox.slot.is_some() {
            return Err(value);
        }
        inbox.slot = Some(value);
        self.version.fetch_add(1, Ordering::Release);
        drop(inbox);
        self.cond.notify_one();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The process table.

/// A hasher for keys that are already unique numbers (pids, refs): one multiply.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) type IdBuild = BuildHasherDefault<IdHasher>;

impl std::hash::Hash for HeldMonitor {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.target.hash(state);
    }
}

const SHARDS: usize = 64;

#[repr(align(128))]
struct Shard(RwLock<HashMap<u64, Arc<Proc>, IdBuild>>);

static TABLE: LazyLock<Vec<Shard>> = LazyLock::new(|| {
    (0..SHARDS)
        .map(|_| Shard(RwLock::new(HashMap::default())))
        .collect()
});

fn shard(pid: Pid) -> &'static Shard {
    &TABLE[(pid.0 as usize) % SHARDS]
}

/// The live process with this pid, if any.
pub(crate) fn lookup(pid: Pid) -> Option<Arc<Proc>> {
    shard(pid).0.read().get(&pid.0).cloned()
}

/// Runs `f` on the live process with this pid without cloning its `Arc`.
pub(crate) fn with_proc<R>(pid: Pid, f: impl FnOnce(&Proc) -> R) -> Option<R> {
    shard(pid).0.read().get(&pid.0).map(|p| f(p))
}

fn insert(p: &Arc<Proc>) {
    // Before the table, where others can find the pid (`processes()`) and end the process:
    // a slot claimed after its death procedure would say alive forever.
    let _ = live_slot(p.pid).compare_exchange(0, p.pid.0, Ordering::SeqCst, Ordering::Relaxed);
    shard(p.pid).0.write().insert(p.pid.0, p.clone());
}

fn remove(pid: Pid) {
    // Its live slot was freed in `mark_dead`, which every death goes through first.
    shard(pid).0.write().remove(&pid.0);
}

/// Slots of the live-process index.
const LIVE_SLOTS: usize = 1 << 14;

/// A lock-free index of live processes for [`is_alive`]: slot `pid % LIVE_SLOTS` holds a pid
/// from the moment its process enters the table until just before it is marked dead, unless
/// another live process held the slot first (that pid is then answered from the table).
/// Reading it writes nothing, where the table's shard lock is a shared write per lookup: a
/// hundred processes checking a hundred pids spent 30% of their time on those lock words.
/// Pids start at 1, so 0 means empty.
static LIVE: [AtomicU64; LIVE_SLOTS] = [const { AtomicU64::new(0) }; LIVE_SLOTS];

fn live_slot(pid: Pid) -> &'static AtomicU64 {
    &LIVE[(pid.0 as usize) % LIVE_SLOTS]
}

/// Whether the process with this pid is alive. The slot is cleared before the process is
/// marked dead, so a pid found in it is alive or still being marked dead (the same answer as
/// a table lookup an instant earlier); anything else asks the table.
pub(crate) fn is_alive(pid: Pid) -> bool {
    live_slot(pid).load(Ordering::SeqCst) == pid.0
        || with_proc(pid, Proc::is_alive).unwrap_or(false)
}

/// Every live process, in pid order. (A dying process stays in the table, marked dead, until
/// its death procedure is complete.)
pub(crate) fn all_pids() -> Vec<Pid> {
    let mut v: Vec<Pid> = TABLE
        .iter()
        .flat_map(|s| {
            s.0.read()
                .iter()
                .filter(|(_, p)| p.is_alive())
                .map(|(k, _)| Pid(*k))
                .collect::<Vec<_>>()
        })
        .collect();
    v.sort_unstable();
    v
}

/// Creates a process that is not yet running anywhere (spawn hands it to a thread).
pub(crate) fn new_process(adopted: bool) -> Arc<Proc> {
    let p = Proc::new(adopted);
    insert(&p);
    p
}

// ---------------------------------------------------------------------------------------------
// The calling thread's process.

/// The unwinding payload used to stop the thread of a process that has already died (killed,
/// or ended by an exit signal while running). The process is dead to everyone already; the
/// unwind only gets its thread back to the pool.
pub(crate) struct DeadUnwind;

/// The unwinding payload of [`exit_self`](crate::exit_self): the process ends with this reason.
pub(crate) struct ExitUnwind(pub(crate) ExitReason);

thread_local! {
    static CURRENT: RefCell<Option<Arc<Proc>>> = const { RefCell::new(None) };
    /// Set while the runtime itself works on this thread (the death procedure, exit hooks):
    /// a dead process may still send from here (an heir's transfer message, say).
    static SYSTEM: Cell<u32> = const { Cell::new(0) };
    /// True on pool threads while they run a spawned process.
    static POOLED: Cell<bool> = const { Cell::new(false) };
    static ADOPT_GUARD: RefCell<Option<AdoptGuard>> = const { RefCell::new(None) };
}

/// Ends an adopted thread's process when the thread ends.
struct AdoptGuard(Arc<Proc>);

impl Drop for AdoptGuard {
    fn drop(&mut self) {
        if self.0.is_alive() {
            exit_process(&self.0, ExitReason::Normal);
        }
    }
}

pub(crate) fn in_system_context() -> bool {
    SYSTEM.try_with(|s| s.get() > 0).unwrap_or(true)
}

/// Runs `f` in system context (see `SYSTEM`).
pub(crate) fn system<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let _ = SYSTEM.try_with(|s| s.set(s.get().saturating_sub(1)));
        }
    }
    let _ = SYSTEM.try_with(|s| s.set(s.get() + 1));
    let _leave = Leave;
    f()
}

pub(crate) fn set_pooled(on: bool) {
    POOLED.with(|p| p.set(on));
}

pub(crate) fn set_current(p: Option<Arc<Proc>>) {
    CURRENT.with(|c| *c.borrow_mut() = p);
}

/// The calling thread's process, adopting the thread as a process on first use.
/// Does not check whether the process is still alive.
pub(crate) fn current() -> Arc<Proc> {
    CURRENT.with(|c| {
        if let Some(p) = c.borrow().as_ref() {
            return p.clone();
        }
        let p = new_process(true);
        *c.borrow_mut() = Some(p.clone());
        let guard = AdoptGuard(p.clone());
        let _ = ADOPT_GUARD.try_with(|g| *g.borrow_mut() = Some(guard));
        p
    })
}

/// The calling thread's process, which must be alive: if it has died (killed by a signal,
/// say), the thread unwinds here. On a spawned process's thread the unwind is silent and
/// returns the thread to the pool; on an adopted thread it is an ordinary panic naming the
/// exit reason, and the thread becomes a fresh process on its next runtime call (as an IEx
/// shell is restarted after its process dies).
///
/// While the thread is already unwinding (a destructor running after a kill), a second unwind
/// would abort the whole program, so the call goes on instead: a dead process's sends are
/// dropped, and its receives with a timeout return nothing.
pub(crate) fn current_alive() -> Arc<Proc> {
    let p = current();
    if !p.is_alive() && !in_system_context() && !std::thread::panicking() {
        unwind_dead(&p);
    }
    p
}

pub(crate) fn unwind_dead(p: &Proc) -> ! {
    if POOLED.with(|x| x.get()) {
        std::panic::resume_unwind(Box::new(DeadUnwind));
    }
    let reason = p
        .state
        .lock()
        .exit_reason
        .clone()
        .unwrap_or(ExitReason::Killed);
    let pid = p.pid;
    CURRENT.with(|c| *c.borrow_mut() = None);
    let _ = ADOPT_GUARD.try_with(|g| g.borrow_mut().take());
    // The save queue is thread-local: the thread's next process must not receive the dead
    // process's set-aside messages.
    crate::mailbox::clear_saved();
    panic!("process {pid} exited with reason {reason}");
}

// ---------------------------------------------------------------------------------------------
// The death procedure.

/// Ends process `p` with `reason`, unless it is already dead. Processes killed on the way
/// (linked processes that do not trap exits) are ended by the same loop, not by recursion.
pub(crate) fn exit_process(p: &Arc<Proc>, reason: ExitReason) {
    let taken = mark_dead(p, &mut p.state.lock(), &reason);
    if let Some(taken) = taken {
        finish_exit(p.clone(), reason, taken);
    }
}

/// What a process marked dead leaves to the rest of its death procedure.
struct Relations {
    links: HashSet<Pid, IdBuild>,
    monitors: HashMap<Ref, HeldMonitor, IdBuild>,
    monitored_by: HashMap<Ref, Pid, IdBuild>,
    name: Option<Arc<str>>,
    hooks: Vec<(ExitHookId, ExitHook)>,
}

type Work = Vec<(Arc<Proc>, ExitReason, Relations)>;

/// Phase 1 of a death, under `p`'s state lock (the caller holds it as `st`): the process
/// becomes dead to everyone, atomically with taking its relations. Returns `None` if it was
/// already dead. Whoever decides under that lock that a signal ends the process marks it dead
/// right there, so the process cannot act on anything (an `unlink`, a `trap_exit`) after the
/// signal was delivered.
fn mark_dead(p: &Proc, st: &mut ProcState, reason: &ExitReason) -> Option<Relations> {
    if !p.is_alive() {
        return None;
    }
    // First out of the live index (see `LIVE`), then dead.
    let _ = live_slot(p.pid).compare_exchange(p.pid.0, 0, Ordering::SeqCst, Ordering::Relaxed);
    p.alive.store(false, Ordering::Release);
    st.exit_reason = Some(reason.clone());
    Some(Relations {
        links: std::mem::take(&mut st.links),
        monitors: std::mem::take(&mut st.monitors),
        monitored_by: std::mem::take(&mut st.monitored_by),
        name: st.name.take(),
        hooks: std::mem::take(&mut st.hooks),
    })
}

/// The rest of the death of `p`, already marked dead, and of the processes it takes along.
fn finish_exit(p: Arc<Proc>, reason: ExitReason, taken: Relations) {
    system(|| {
        let mut work = vec![(p, reason, taken)];
        while let Some((p, reason, taken)) = work.pop() {
            exit_one(&p, reason, taken, &mut work);
        }
    });
}

fn exit_one(p: &Arc<Proc>, reason: ExitReason, taken: Relations, work: &mut Work) {
    let pid = p.pid;
    let Relations {
        links,
        monitors,
        monitored_by,
        name,
        hooks,
    } = taken;
    // Close the mailbox and wake the owner if it is blocked: it unwinds at once.
    let drained = {
        let mut inbox = p.inbox.lock();
        inbox.closed = true;
        inbox.slot = None;
        inbox.slot_tag = None;
        std::mem::take(&mut inbox.queue)
    };
    p.cond.notify_all();
    p.queue_len.store(0, Ordering::Relaxed);
    // Message destructors run with no lock held; a panicking one must not stop the rest.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(drained)));

    // Phase 2: release directly visible resources before anyone is notified, so a restarted
    // process can take the name (or a table's name) back at once.
    if let Some(name) = name {
        crate::registry::release(&name, pid);
    }
    for (_, hook) in hooks {
        let r = &reason;
        // A panicking hook must not stop the notifications below.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || hook(pid, r)));
    }

    // Phase 3: forget the monitors this process held, then notify links and monitors.
    for (r, held) in monitors {
        with_proc(held.target, |t| {
            t.state.lock().monitored_by.remove(&r);
        });
    }
    for l in links {
        deliver_link_exit(pid, l, &reason, work);
    }
    for (r, watcher) in monitored_by {
        deliver_down(watcher, r, pid, &reason);
    }
    // Only now does the process leave the table: an `exit` that finds it there, dead, knows
    // that another thread is still running this procedure and waits for `finished`.
    remove(pid);
    p.finished.store(true, Ordering::Release);
}

/// Waits until the death procedure of `p`, marked dead by another thread, is complete, so that
/// when `exit` returns its name is free and its links and monitors have fired whoever ended
/// it. Not in system context: a hook or a cascade on this thread may be that procedure.
fn wait_finished(p: &Proc) {
    if in_system_context() {
        return;
    }
    // The other thread runs a short procedure that never waits for this one.
    while !p.finished.load(Ordering::Acquire) {
        std::thread::yield_now();
    }
}

/// The exit signal a dying process sends along a link (the "link flag" is set).
fn deliver_link_exit(from: Pid, to: Pid, reason: &ExitReason, work: &mut Work) {
    let Some(l) = lookup(to) else { return };
    let mut st = l.state.lock();
    // The receiver's own record is authoritative: if it unlinked meanwhile, the signal is
    // dropped, so after `unlink` returns the link has no further effect.
    if !l.is_alive() || !st.links.remove(&from) {
        return;
    }
    if l.traps_exits() {
        l.push_system(Message::new(Exit {
            from,
            reason: reason.clone(),
        }));
    } else if !reason.is_normal()
        && let Some(taken) = mark_dead(&l, &mut st, reason)
    {
        drop(st);
        work.push((l, reason.clone(), taken));
    }
}

/// The exit signal of `from`, which died before the link recorded on `to`'s side existed on
/// its own side (a spawn_link racing with a kill): delivered now along that link.
pub(crate) fn late_link_exit(from: Pid, to: Pid, reason: &ExitReason) {
    system(|| {
        let mut work = Vec::new();
        deliver_link_exit(from, to, reason, &mut work);
        while let Some((p, reason, taken)) = work.pop() {
            exit_one(&p, reason, taken, &mut work);
        }
    });
}

/// A monitor's Down notification, placed only if the watcher still holds the monitor, so that
/// after `demonitor` returns no Down for it is placed in the queue.
pub(crate) fn deliver_down(watcher: Pid, r: Ref, pid: Pid, reason: &ExitReason) {
    let Some(w) = lookup(watcher) else { return };
    let mut st = w.state.lock();
    let Some(held) = st.monitors.remove(&r) else {
        return;
    };
    if held.to_slot {
        // A Down nobody waits for any more carries only an exit reason: dropped here.
        let _ = w.fill_slot(r, SlotValue::Down(reason.clone()));
    } else {
        w.push_system(Message::new(Down {
            monitor: r,
            pid,
            reason: reason.clone(),
        }));
    }
    drop(st);
}

/// An exit signal sent with `exit(pid, reason)` (no link flag), following OTP's table.
pub(crate) fn send_exit_signal(from: Pid, to: Pid, reason: ExitReason) {
    let Some(p) = lookup(to) else { return };
    let mut st = p.state.lock();
    if !p.is_alive() {
        drop(st);
        wait_finished(&p);
        return;
    }
    let dies_with = match reason {
        ExitReason::Kill => Some(ExitReason::Killed),
        _ if p.traps_exits() => {
            p.push_system(Message::new(Exit { from, reason }));
            None
        }
        ExitReason::Normal if from != to => None,
        r => Some(r),
    };
    if let Some(r) = dies_with
        && let Some(taken) = mark_dead(&p, &mut st, &r)
    {
        drop(st);
        finish_exit(p, r, taken);
    }
}

pub(crate) fn is_pooled() -> bool {
    POOLED.try_with(Cell::get).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExitReason, exit, receive, spawn};

    /// Two live processes whose pids share a slot of the live index: the second is answered
    /// from the table, and each one's death is seen whatever the order.
    #[test]
    fn colliding_pids_in_the_live_index() {
        let first = spawn(receive::<()>);
        let mut second = spawn(receive::<()>);
        // Spawn and end processes until a live one shares `first`'s slot.
        while (second.0 as usize) % LIVE_SLOTS != (first.0 as usize) % LIVE_SLOTS {
            crate::send(second, ());
            second = spawn(receive::<()>);
        }
        assert_eq!(
            live_slot(first).load(Ordering::SeqCst),
            first.0,
            "the first holds it"
        );
        assert!(is_alive(first) && is_alive(second));
        exit(first, ExitReason::Kill);
        assert!(!is_alive(first));
        assert_eq!(live_slot(first).load(Ordering::SeqCst), 0, "freed at death");
        assert!(is_alive(second), "still answered from the table");
        exit(second, ExitReason::Kill);
        assert!(!is_alive(second));
    }
}
