//! Sending and receiving.
//!
//! A mailbox has two halves. Senders append to the shared *inbox* under a short lock. The
//! owner moves messages from the inbox into its *save queue*, a thread-local queue only it
//! touches, and runs receive predicates there with no lock held. Messages that do not match a
//! selective receive stay in the save queue in arrival order, ahead of anything newer.
//!
//! Waiting spins briefly on the inbox's version counter before parking on its condition
//! variable: on a two-core machine a reply usually arrives within the spin, and a futex wake
//! costs more than the whole round trip. A process whose last two waits each took over 1 ms,
//! or that called [`expect_long_wait`], parks at once instead.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::SendError;
use crate::ids::{Pid, Ref};
use crate::message::Message;
use crate::process::{Proc, SlotValue, current_alive, unwind_dead, with_proc};

thread_local! {
    /// The calling process's save queue (see the module docs).
    static SAVED: RefCell<VecDeque<Message>> = const { RefCell::new(VecDeque::new()) };
}

/// Drops the save queue of the process that ran on this thread (when it ends).
pub(crate) fn clear_saved() {
    // `try_`: never panic here (this runs on unwinding paths); a queue still borrowed by a
    // receive predicate is left as it is.
    let old = SAVED.try_with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)));
    drop(old);
}

/// How long a receiver spins before parking: long enough for the answers that come quickly
/// from a process on the other core (a reply, a Down, the Exit of a child that unwinds a panic,
/// which takes 3 to 5 us), short enough that a receive that ends up parking wastes little CPU
/// (the measurements behind 30 us are in `benches/RUNTIME-RESULTS.md`: 8 us and 20 us made a
/// crash's trapped Exit pay a wake-up). Measured in time, not iterations, because a spin-loop
/// hint costs from a few to over a hundred cycles depending on the CPU.
const SPIN_BUDGET: Duration = Duration::from_micros(30);

/// Sends `msg` to `pid`.
///
/// Like Erlang's `!`, this never fails and never blocks: a message to a dead process is
/// silently dropped. Messages from one process to another arrive in the order they were sent,
/// and before the sender's `Exit` or `Down` notification.
///
/// ```
/// let me = runtime::self_pid();
/// runtime::send(me, "hello");
/// assert_eq!(runtime::receive::<&str>(), "hello");
/// ```
pub fn send<M: Send + 'static>(pid: Pid, msg: M) {
    let me = current_alive();
    // Counted before delivery, so that whoever has received it sees it counted.
    me.sent.fetch_add(1, Ordering::Relaxed);
    let mut msg = Some(Message::new(msg));
    let r = with_proc(pid, |p| p.push(&mut msg, Some(&me)));
    // Not delivered (the receiver is dead): dropped here, with no runtime lock held.
    drop(msg);
    if let Some(Err(())) = r {
        if std::thread::panicking() {
            return; // dropped: see `current_alive`
        }
        unwind_dead(&me);
    }
}

/// Sends `msg` to the process registered as `name`.
///
/// Unlike a send to a pid, this fails when no process has the name, and hands the message
/// back in the error.
pub fn send_named<M: Send + 'static>(name: &str, msg: M) -> Result<(), SendError<M>> {
    match crate::registry::whereis(name) {
        Some(pid) => {
            send(pid, msg);
            Ok(())
        }
        None => Err(SendError::NotRegistered {
            name: name.to_owned(),
            msg,
        }),
    }
}

fn deadline_of(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// The core of every receive: the first message (oldest first) for which `pred` is true,
/// waiting until `deadline` (forever if `None`).
fn select(
    me: &Proc,
    pred: &mut dyn FnMut(&Message) -> bool,
    deadline: Option<Instant>,
) -> Option<Message> {
    SAVED.with(|saved| {
        let mut saved = saved.try_borrow_mut().unwrap_or_else(|_| {
            // Only reachable when a receive predicate itself calls receive.
            panic!("receive called from inside a receive predicate")
        });
        if let Some(i) = saved.iter().position(&mut *pred) {
            return saved.remove(i).map(|m| took(me, m));
        }
        let mut batch = VecDeque::new();
        loop {
            let seen = me.version.load(Ordering::Acquire);
            {
                let mut inbox = me.inbox.lock();
                if inbox.closed {
                    drop(inbox);
                    drop(saved);
                    if std::thread::panicking() {
                        return None; // see `current_alive`
                    }
                    unwind_dead(me);
                }
                std::mem::swap(&mut inbox.queue, &mut batch);
            }
            let mut found = None;
            while let Some(m) = batch.pop_front() {
                if found.is_none() && pred(&m) {
                    found = Some(m);
                } else {
                    saved.push_back(m);
                }
            }
            if let Some(m) = found {
                return Some(took(me, m));
            }
            if !wait_for_news(me, seen, deadline) {
                return None;
            }
        }
    })
}

fn took(me: &Proc, m: Message) -> Message {
    me.queue_len.fetch_sub(1, Ordering::Relaxed);
    me.received.fetch_add(1, Ordering::Relaxed);
    m
}

/// Waits until the inbox changes after `seen`, or the deadline passes (returns false).
///
/// The wait spins for up to [`SPIN_BUDGET`] before it parks, unless this process's last
/// [`LONG_STREAK`] waits all took much longer than that (`Proc::long_waits`): a process whose
/// answers come late, such as a client queued behind a hundred others for a pool's worker,
/// then parks at once instead of spinning on a core that the process it waits for could use.
/// One wait that ends sooner starts the spinning again. A parked wait takes longer than a spin
/// would have (the wake-up alone costs 5 to 50 us), so only waits well past the spin budget
/// count as long; otherwise a process that stopped spinning could never tell that it should
/// start again.
fn wait_for_news(me: &Proc, seen: u64, deadline: Option<Instant>) -> bool {
    // A poll (a deadline already past) does not spin: it only looks once, below.
    let spin = me.long_waits.load(Ordering::Relaxed) < LONG_STREAK
        && deadline.is_none_or(|d| d > Instant::now());
    // When the spin started, read from the clock only once it has spun a while: news found
    // in the first few hundred nanoseconds is a short wait without a clock read.
    let mut started = None;
    if spin {
        let mut i: u32 = 0;
        loop {
            if me.version.load(Ordering::Acquire) != seen {
                learn(me, started);
                return true;
            }
            i = i.wrapping_add(1);
            if i.is_multiple_of(64) {
                let now = Instant::now();
                let from = *started.get_or_insert(now);
                if now.duration_since(from) >= SPIN_BUDGET || deadline.is_some_and(|d| d <= now) {
                    break;
                }
                // Let the process we wait for run if it shares this core.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
    let started = started.unwrap_or_else(Instant::now);
    let mut inbox = me.inbox.lock();
    me.waiting.store(true, Ordering::Relaxed);
    let mut news = true;
    while me.version.load(Ordering::Acquire) == seen && !inbox.closed {
        match deadline {
            None => me.cond.wait(&mut inbox),
            Some(d) => {
                if me.cond.wait_until(&mut inbox, d).timed_out()
                    && me.version.load(Ordering::Acquire) == seen
                {
                    news = false;
                    break;
                }
            }
        }
    }
    me.waiting.store(false, Ordering::Relaxed);
    let closed = inbox.closed;
    drop(inbox);
    // Only waits that ended with news say how soon answers come; a timeout does not.
    if news {
        learn(me, Some(started));
    }
    news || closed
}

/// Records whether the wait that began at `started` (`None`: just now) was a long one.
#[inline]
fn learn(me: &Proc, started: Option<Instant>) {
    let long = started.is_some_and(|s| s.elapsed() > LONG_WAIT);
    let streak = me.long_waits.load(Ordering::Relaxed);
    let next = if long { streak.saturating_add(1) } else { 0 };
    if next != streak {
        me.long_waits.store(next, Ordering::Relaxed);
    }
}

/// Tells the runtime that the calling process's next wait, in a receive or for a call's reply,
/// will probably be long, so that it parks at once instead of spinning first. Only a hint:
/// the wait itself is unchanged, and how long it really took teaches the usual rule as any
/// wait does (a wait spins up to 30 µs before parking, and parks at once after two waits in a
/// row that took over 1 ms; see `docs/runtime-semantics.md`), so a wrong hint costs one
/// wake-up.
///
/// For a process that knows more than its recent waits tell: a pool client that had to queue
/// for its last worker will likely queue again, and spinning there only takes a core from the
/// processes it waits for.
///
/// ```
/// let me = runtime::self_pid();
/// runtime::send_after(me, std::time::Duration::from_millis(5), "late");
/// runtime::expect_long_wait();
/// assert_eq!(runtime::receive::<&str>(), "late");
/// ```
pub fn expect_long_wait() {
    let me = current_alive();
    if me.long_waits.load(Ordering::Relaxed) < LONG_STREAK {
        me.long_waits.store(LONG_STREAK, Ordering::Relaxed);
    }
}

/// A wait longer than this is a long one (see [`wait_for_news`]). Far past the spin budget on
/// purpose: a hundred clients calling one GenServer wait 100 to 500 us each, and spinning
/// (with its `sched_yield`s) still pays for them, because a reply to a client that has not
/// parked costs the server no wake-up system call; they made 450-520 k calls/s spinning and
/// under 200 k parking at once (`benches/benches/pool.rs`, `bench_table`'s registry cache).
const LONG_WAIT: Duration = Duration::from_millis(1);
/// After this many long waits in a row, a process parks without spinning.
const LONG_STREAK: u32 = 2;

/// Receives the first message of type `T`, waiting as long as it takes. Messages of other
/// types stay in the mailbox, in order.
pub fn receive<T: Send + 'static>() -> T {
    let me = current_alive();
    let m = select(&me, &mut |m| m.is::<T>(), None);
    open(m)
}

/// Receives the first message of type `T`, or `None` after `timeout`.
pub fn receive_timeout<T: Send + 'static>(timeout: Duration) -> Option<T> {
    let me = current_alive();
    select(&me, &mut |m| m.is::<T>(), deadline_of(Some(timeout))).map(|m| open(Some(m)))
}

/// Receives the first message of type `T` for which `pred` is true, waiting as long as it takes.
pub fn receive_match<T: Send + 'static>(mut pred: impl FnMut(&T) -> bool) -> T {
    let me = current_alive();
    let m = select(
        &me,
        &mut |m| m.downcast_ref::<T>().is_some_and(&mut pred),
        None,
    );
    open(m)
}

/// Receives the first message of type `T` for which `pred` is true, or `None` after `timeout`.
pub fn receive_match_timeout<T: Send + 'static>(
    timeout: Duration,
    mut pred: impl FnMut(&T) -> bool,
) -> Option<T> {
    let me = current_alive();
    select(
        &me,
        &mut |m| m.downcast_ref::<T>().is_some_and(&mut pred),
        deadline_of(Some(timeout)),
    )
    .map(|m| open(Some(m)))
}

/// Receives the first message, of any type, for which `pred` is true; waits at most `timeout`
/// (forever if `None`). Use it to wait for one of several types at once.
pub fn receive_select(
    timeout: Option<Duration>,
    mut pred: impl FnMut(&Message) -> bool,
) -> Option<Message> {
    let me = current_alive();
    select(&me, &mut pred, deadline_of(timeout))
}

/// Receives the oldest message, whatever its type (O(1)), waiting as long as it takes.
pub fn recv() -> Message {
    let me = current_alive();
    let m = select(&me, &mut |_| true, None);
    match m {
        Some(m) => m,
        None => unreachable_no_deadline(),
    }
}

/// Receives the oldest message, whatever its type, or `None` after `timeout`.
pub fn recv_timeout(timeout: Duration) -> Option<Message> {
    let me = current_alive();
    select(&me, &mut |_| true, deadline_of(Some(timeout)))
}

fn open<T: 'static>(m: Option<Message>) -> T {
    match m.map(Message::downcast::<T>) {
        Some(Ok(v)) => v,
        _ => unreachable_no_deadline(),
    }
}

#[cold]
fn unreachable_no_deadline() -> ! {
    // `select` only returns None when a deadline passed, and the callers above without a
    // deadline only accept messages of the type they open.
    unreachable!("receive without a deadline returned nothing")
}

/// Removes every queued message for which `pred` is true (used by `demonitor` with flush and
/// by unlink-and-flush). Returns how many were removed.
pub(crate) fn flush_matching(me: &Proc, mut pred: impl FnMut(&Message) -> bool) -> usize {
    let mut removed = Vec::new();
    let mut count = 0;
    SAVED.with(|saved| {
        let Ok(mut saved) = saved.try_borrow_mut() else {
            return;
        };
        {
            let mut inbox = me.inbox.lock();
            saved.extend(inbox.queue.drain(..));
        }
        let before = saved.len();
        let mut keep = VecDeque::with_capacity(before);
        for m in saved.drain(..) {
            if pred(&m) {
                removed.push(m)
            } else {
                keep.push_back(m)
            }
        }
        *saved = keep;
        count = before - saved.len();
    });
    me.queue_len.fetch_sub(count, Ordering::Relaxed);
    drop(removed);
    count
}

/// Opens a reply slot tagged `tag` before a call's request is sent.
pub(crate) fn open_slot(me: &Proc, tag: Ref) {
    let mut inbox = me.inbox.lock();
    inbox.slot_tag = Some(tag);
    inbox.slot = None;
}

/// Closes the reply slot; anything arriving for it later is dropped.
pub(crate) fn close_slot(me: &Proc) {
    let mut inbox = me.inbox.lock();
    inbox.slot_tag = None;
    inbox.slot = None;
}

/// Waits for the reply slot to be filled (a reply or the callee's Down), or the deadline.
/// Never looks at the mailbox, so its cost does not depend on the mailbox's length.
pub(crate) fn wait_slot(me: &Proc, deadline: Option<Instant>) -> Option<SlotValue> {
    loop {
        let seen = me.version.load(Ordering::Acquire);
        {
            let mut inbox = me.inbox.lock();
            if inbox.closed {
                drop(inbox);
                unwind_dead(me);
            }
            if let Some(v) = inbox.slot.take() {
                inbox.slot_tag = None;
                return Some(v);
            }
        }
        if !wait_for_news(me, seen, deadline) {
            let mut inbox = me.inbox.lock();
            // A reply that raced with the timeout still counts.
            let v = inbox.slot.take();
            inbox.slot_tag = None;
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{self_pid, send_after};

    /// The spin rule of `wait_for_news`: two long waits in a row stop the spinning, one short
    /// wait turns it back on, and a timeout teaches nothing. Every wait still gets its message.
    #[test]
    fn long_waits_stop_the_spin_and_a_short_one_restarts_it() {
        let me = current_alive();
        let long = LONG_WAIT * 3;
        for expected in 1..=LONG_STREAK + 1 {
            send_after(self_pid(), long, expected);
            assert_eq!(receive::<u32>(), expected);
            assert_eq!(me.long_waits.load(Ordering::Relaxed), expected);
        }
        // A timeout says nothing about how soon answers come.
        assert_eq!(receive_timeout::<u64>(Duration::from_micros(50)), None);
        assert_eq!(me.long_waits.load(Ordering::Relaxed), LONG_STREAK + 1);
        // A message already there needs no wait: the streak is unchanged.
        send(self_pid(), 7u64);
        assert_eq!(receive::<u64>(), 7);
        assert_eq!(me.long_waits.load(Ordering::Relaxed), LONG_STREAK + 1);
        // A short wait resets the streak. How long a wait for another process takes depends on
        // the machine's load, so the rule itself is fed a wait that began just now.
        learn(&me, Some(Instant::now()));
        assert_eq!(me.long_waits.load(Ordering::Relaxed), 0);
        learn(&me, Instant::now().checked_sub(LONG_WAIT * 2));
        assert_eq!(me.long_waits.load(Ordering::Relaxed), 1);
        // News found while spinning, before the clock was read, is a short wait.
        learn(&me, None);
        assert_eq!(me.long_waits.load(Ordering::Relaxed), 0);
        // The hint makes the next wait park at once; that wait, if short, undoes it.
        expect_long_wait();
        assert_eq!(me.long_waits.load(Ordering::Relaxed), LONG_STREAK);
        learn(&me, Some(Instant::now()));
        assert_eq!(me.long_waits.load(Ordering::Relaxed), 0);
    }
}
