//! Timers: `send_after` and `cancel_timer`, served by one timer thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::ids::{Pid, Ref, make_ref};
use crate::message::Message;
use crate::process::with_proc;

struct Pending {
    dest: Pid,
    at: Instant,
    msg: Message,
}

#[derive(Default)]
struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Ref)>>,
    pending: HashMap<Ref, Pending>,
    started: bool,
}

struct Service {
    timers: Mutex<Timers>,
    cond: Condvar,
}

static SERVICE: LazyLock<Service> = LazyLock::new(|| Service {
    timers: Mutex::new(Timers::default()),
    cond: Condvar::new(),
});

/// Sends `msg` to `dest` after `delay`, unless the timer is cancelled first. Returns the
/// timer's reference for [`cancel_timer`]. A message for a process that has died meanwhile is
/// dropped, like any send to a dead pid.
pub fn send_after<M: Send + 'static>(dest: Pid, delay: Duration, msg: M) -> Ref {
    let r = make_ref();
    let at = Instant::now() + delay;
    let mut t = SERVICE.timers.lock();
    if !t.started {
        t.started = true;
        if std::thread::Builder::new()
            .name("timers".into())
            .spawn(run)
            .is_err()
        {
            // Without a timer thread the message could never be sent; say so loudly.
            t.started = false;
            drop(t);
            panic!("cannot start the runtime's timer thread");
        }
    }
    t.heap.push(Reverse((at, r)));
    t.pending.insert(
        r,
        Pending {
            dest,
            at,
            msg: Message::new(msg),
        },
    );
    drop(t);
    SERVICE.cond.notify_one();
    r
}

/// Cancels a timer. Returns the time that was left, or `None` if the timer had already fired
/// or been cancelled.
pub fn cancel_timer(timer: Ref) -> Option<Duration> {
    let p = SERVICE.timers.lock().pending.remove(&timer)?;
    Some(p.at.saturating_duration_since(Instant::now()))
}

/// The time left on a timer, or `None` if it has fired or been cancelled.
pub fn read_timer(timer: Ref) -> Option<Duration> {
    SERVICE
        .timers
        .lock()
        .pending
        .get(&timer)
        .map(|p| p.at.saturating_duration_since(Instant::now()))
}

fn run() {
    let mut t = SERVICE.timers.lock();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((at, r))) = t.heap.peek().copied() {
            if at > now {
                break;
            }
            t.heap.pop();
            if let Some(p) = t.pending.remove(&r) {
                due.push(p);
            }
        }
        if !due.is_empty() {
            drop(t);
            for p in due {
                // A message that is not delivered is dropped here, outside the table's lock
                // (its destructor may use the runtime).
                let mut msg = Some(p.msg);
                with_proc(p.dest, |d| d.push(&mut msg, None));
                drop(msg);
            }
            t = SERVICE.timers.lock();
            continue;
        }
        match t.heap.peek().copied() {
            Some(Reverse((at, _))) => {
                SERVICE.cond.wait_until(&mut t, at);
            }
            None => SERVICE.cond.wait(&mut t),
        }
    }
}
