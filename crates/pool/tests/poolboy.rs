//! Ports of poolboy's eunit cases (devinus/poolboy `test/poolboy_tests.erl`), one test per
//! case, plus the bugs poolboy's tracker records (#64, #70, #74, #122). Each test names the
//! case it ports.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected error

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pool::{CheckoutError, Pool, PoolConfig, PoolState, Pools, Status, Strategy};
use runtime::{
    Down, ExitReason, Pid, exit, is_alive, monitor, receive, receive_match, receive_match_timeout,
    receive_timeout, self_pid, send, spawn, spawn_monitor,
};

/// A worker: a process linked to its starter that waits for a stop message.
fn worker() -> Pid {
    runtime::spawn_link(|| {
        let _: Stop = receive();
    })
}

struct Stop;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Starts a pool with a unique name.
fn start(size: usize, max_overflow: usize, strategy: Strategy) -> (Pools, Pool) {
    let name = format!("poolboy_test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let cfg = PoolConfig::new(&name, worker)
        .size(size)
        .max_overflow(max_overflow)
        .strategy(strategy);
    let pools = Pools::start_link(vec![cfg]).expect("pool starts");
    (pools, Pool::named(&name))
}

fn status(pool: &Pool) -> (PoolState, usize, usize, usize) {
    let Status {
        state,
        idle,
        overflow,
        checked_out,
        ..
    } = pool.status().expect("status");
    (state, idle, overflow, checked_out)
}

/// Asks for the status until `done` holds (a bounded number of times) and returns the last.
fn settle(pool: &Pool, done: impl Fn(&Status) -> bool) -> Status {
    let mut s = pool.status().expect("status");
    for _ in 0..100_000 {
        if done(&s) {
            break;
        }
        std::thread::yield_now();
        s = pool.status().expect("status");
    }
    s
}

/// Waits until `pid` is dead (by monitoring it).
fn wait_dead(pid: Pid) {
    let r = monitor(pid);
    let _: Down = receive_match(|d: &Down| d.monitor == r);
}

/// A consumer process that checks out a worker, reports it, and holds it until told to stop.
fn consumer(pool: &Pool) -> (Pid, Pid) {
    let pool = pool.clone();
    let me = self_pid();
    let c = spawn(move || {
        let w = pool.checkout().expect("consumer checkout");
        send(me, (self_pid(), w));
        let _: Stop = receive();
    });
    let (from, w): (Pid, Pid) = receive_match(|m: &(Pid, Pid)| m.0 == c);
    (from, w)
}

#[test]
fn pool_startup() {
    // poolboy: "Basic pool operations" (pool_startup): the pool starts `size` workers.
    let (pools, pool) = start(10, 5, Strategy::Lifo);
    assert_eq!(pool.workers().unwrap().len(), 10);
    let w = pool.checkout().unwrap();
    assert_eq!(pool.workers().unwrap().len(), 10);
    pool.checkin(w);
    assert_eq!(status(&pool), (PoolState::Ready, 10, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn pool_overflow() {
    // poolboy: "Pool overflow should work" (pool_overflow): checking out more than `size`
    // starts overflow workers, and checking them in dismisses them.
    let (pools, pool) = start(5, 5, Strategy::Lifo);
    let ws: Vec<Pid> = (0..7).map(|_| pool.checkout().unwrap()).collect();
    assert_eq!(pool.workers().unwrap().len(), 7);
    assert_eq!(status(&pool), (PoolState::Overflow, 0, 2, 7));
    for (i, w) in ws.iter().enumerate() {
        pool.checkin(*w);
        let expected_total = if i < 2 { 7 - i - 1 } else { 5 };
        assert_eq!(
            pool.workers().unwrap().len(),
            expected_total,
            "after {} checkins",
            i + 1
        );
    }
    assert_eq!(status(&pool), (PoolState::Ready, 5, 0, 0));
    for w in &ws[..2] {
        assert!(
            !is_alive(*w) || ws[2..].contains(w),
            "overflow worker {w} dismissed"
        );
    }
    pools.stop().unwrap();
}

#[test]
fn pool_empty() {
    // poolboy: "Pool should block when full" (pool_empty): with all workers (and overflow)
    // out, a blocking checkout waits, and is served by the next checkin.
    let (pools, pool) = start(5, 2, Strategy::Lifo);
    let ws: Vec<Pid> = (0..7).map(|_| pool.checkout().unwrap()).collect();
    assert_eq!(status(&pool), (PoolState::Full, 0, 2, 7));
    let me = self_pid();
    let p2 = pool.clone();
    let waiter = spawn(move || {
        let w = p2.checkout().unwrap();
        send(me, ("served", w));
        let _: Stop = receive();
    });
    // The waiter is queued: wait until the pool says so.
    while pool.status().unwrap().waiting == 0 {
        std::thread::yield_now();
    }
    pool.checkin(ws[0]);
    let (_, got): (&str, Pid) = receive();
    // The first checkin of an overflow pool hands its worker to the waiter instead of dismissing.
    assert_eq!(got, ws[0]);
    assert_eq!(status(&pool), (PoolState::Full, 0, 2, 7));
    send(waiter, Stop);
    pools.stop().unwrap();
}

#[test]
fn pool_empty_no_overflow() {
    // poolboy: "Pool with no overflow should block when full" (pool_empty_no_overflow).
    let (pools, pool) = start(5, 0, Strategy::Lifo);
    let ws: Vec<Pid> = (0..5).map(|_| pool.checkout().unwrap()).collect();
    assert_eq!(status(&pool), (PoolState::Full, 0, 0, 5));
    assert_eq!(
        pool.checkout_timeout(Duration::from_millis(50)),
        Err(CheckoutError::Timeout)
    );
    for w in ws {
        pool.checkin(w);
    }
    assert_eq!(status(&pool), (PoolState::Ready, 5, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn worker_death() {
    // poolboy: "Pool behaves when a worker dies" (worker_death): a checked-out worker that
    // dies is replaced.
    let (pools, pool) = start(5, 2, Strategy::Lifo);
    let w = pool.checkout().unwrap();
    exit(w, ExitReason::Kill);
    assert_eq!(status(&pool), (PoolState::Ready, 5, 0, 0));
    assert!(!pool.workers().unwrap().contains(&w));
    assert_eq!(pool.workers().unwrap().len(), 5);
    pools.stop().unwrap();
}

#[test]
fn worker_death_while_full() {
    // poolboy: "Pool behaves when full and a worker dies" (worker_death_while_full): with
    // overflow workers out, a dying worker is not replaced; the overflow count drops.
    let (pools, pool) = start(5, 2, Strategy::Lifo);
    let ws: Vec<Pid> = (0..7).map(|_| pool.checkout().unwrap()).collect();
    assert_eq!(status(&pool), (PoolState::Full, 0, 2, 7));
    exit(ws[0], ExitReason::Kill);
    assert_eq!(status(&pool), (PoolState::Overflow, 0, 1, 6));
    assert_eq!(pool.workers().unwrap().len(), 6);
    pools.stop().unwrap();
}

#[test]
fn worker_death_while_full_no_overflow() {
    // poolboy: "Pool behaves when full, a worker dies and overflow disabled"
    // (worker_death_while_full_no_overflow): the dead worker is replaced.
    let (pools, pool) = start(5, 0, Strategy::Lifo);
    let ws: Vec<Pid> = (0..5).map(|_| pool.checkout().unwrap()).collect();
    exit(ws[0], ExitReason::Kill);
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 4));
    let replacement = pool.checkout().unwrap();
    assert!(!ws.contains(&replacement));
    assert_eq!(status(&pool), (PoolState::Full, 0, 0, 5));
    pools.stop().unwrap();
}

#[test]
fn pool_full_nonblocking_no_overflow() {
    // poolboy: "Non-blocking pool behaves when full and overflow disabled".
    let (pools, pool) = start(5, 0, Strategy::Lifo);
    let _ws: Vec<Pid> = (0..5).map(|_| pool.checkout().unwrap()).collect();
    assert_eq!(pool.try_checkout(), Err(CheckoutError::Full));
    assert_eq!(pool.workers().unwrap().len(), 5);
    pools.stop().unwrap();
}

#[test]
fn pool_full_nonblocking() {
    // poolboy: "Non-blocking pool behaves when full" (pool_full_nonblocking).
    let (pools, pool) = start(5, 5, Strategy::Lifo);
    let _ws: Vec<Pid> = (0..10).map(|_| pool.try_checkout().unwrap()).collect();
    assert_eq!(pool.try_checkout(), Err(CheckoutError::Full));
    assert_eq!(pool.workers().unwrap().len(), 10);
    pools.stop().unwrap();
}

#[test]
fn owner_death() {
    // poolboy: "Pool behaves when a consumer dies" (owner_death): its worker is checked in,
    // reused, not killed (poolboy since 1.1.0).
    let (pools, pool) = start(5, 5, Strategy::Lifo);
    let (c, w) = consumer(&pool);
    assert_eq!(status(&pool), (PoolState::Ready, 4, 0, 1));
    exit(c, ExitReason::Kill);
    // The pool sees the Down before our status call (per-pair ordering from the killer: the
    // Down is pushed during exit(), before our call is sent).
    assert_eq!(status(&pool), (PoolState::Ready, 5, 0, 0));
    assert!(is_alive(w));
    assert!(pool.workers().unwrap().contains(&w));
    pools.stop().unwrap();
}

#[test]
fn checkin_after_exception_in_transaction() {
    // poolboy: "Worker checked-in after an exception in a transaction".
    let (pools, pool) = start(2, 0, Strategy::Lifo);
    let p2 = pool.clone();
    let r = std::panic::catch_unwind(move || {
        let _ = p2.transaction(|_w| panic!("the transaction failed"));
    });
    assert!(r.is_err());
    assert_eq!(status(&pool), (PoolState::Ready, 2, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn pool_returns_status() {
    // poolboy: "Pool returns status" (pool_returns_status), its four configurations.
    let (p1, pool) = start(2, 0, Strategy::Lifo);
    assert_eq!(status(&pool), (PoolState::Ready, 2, 0, 0));
    let _a = pool.checkout().unwrap();
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 1));
    let _b = pool.checkout().unwrap();
    assert_eq!(status(&pool), (PoolState::Full, 0, 0, 2));
    p1.stop().unwrap();

    let (p2, pool) = start(1, 1, Strategy::Lifo);
    let _a = pool.checkout().unwrap();
    assert_eq!(status(&pool), (PoolState::Overflow, 0, 0, 1));
    let _b = pool.checkout().unwrap();
    assert_eq!(status(&pool), (PoolState::Full, 0, 1, 2));
    p2.stop().unwrap();

    let (p3, pool) = start(0, 2, Strategy::Lifo);
    assert_eq!(status(&pool), (PoolState::Overflow, 0, 0, 0));
    let _a = pool.checkout().unwrap();
    assert_eq!(status(&pool), (PoolState::Overflow, 0, 1, 1));
    let _b = pool.checkout().unwrap();
    assert_eq!(status(&pool), (PoolState::Full, 0, 2, 2));
    p3.stop().unwrap();

    let (p4, pool) = start(0, 0, Strategy::Lifo);
    assert_eq!(status(&pool), (PoolState::Full, 0, 0, 0));
    p4.stop().unwrap();
}

#[test]
fn demonitors_previously_waiting_processes() {
    // poolboy: "Pool demonitors previously waiting processes": a consumer that waited and
    // was then served holds one monitor; when it dies, the worker comes back once.
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    let w = pool.checkout().unwrap();
    let me = self_pid();
    let p2 = pool.clone();
    let c = spawn(move || {
        let got = p2.checkout().unwrap();
        send(me, got);
        let _: Stop = receive();
    });
    while pool.status().unwrap().waiting == 0 {
        std::thread::yield_now();
    }
    pool.checkin(w);
    let got: Pid = receive();
    assert_eq!(got, w);
    exit(c, ExitReason::Kill);
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn demonitors_when_checkout_cancelled() {
    // poolboy: "Pool demonitors when a checkout is cancelled": a timed-out waiter leaves the
    // queue and holds nothing.
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    let w = pool.checkout().unwrap();
    let (c, r) = {
        let p2 = pool.clone();
        spawn_monitor(move || {
            assert_eq!(
                p2.checkout_timeout(Duration::from_millis(20)),
                Err(CheckoutError::Timeout)
            );
        })
    };
    let d: Down = receive_match(|d: &Down| d.monitor == r);
    assert_eq!(d.pid, c);
    assert_eq!(
        d.reason,
        ExitReason::Normal,
        "the consumer's own assertion held"
    );
    assert_eq!(pool.status().unwrap().waiting, 0);
    pool.checkin(w);
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn default_strategy_lifo() {
    // poolboy: "Pool uses lifo by default": the worker checked in last goes out first.
    let (pools, pool) = start(2, 0, Strategy::Lifo);
    let a = pool.checkout().unwrap();
    pool.checkin(a);
    assert_eq!(pool.checkout().unwrap(), a);
    pools.stop().unwrap();
}

#[test]
fn fifo_strategy() {
    // poolboy: "Pool with fifo strategy": the worker idle the longest goes out first.
    let (pools, pool) = start(2, 0, Strategy::Fifo);
    let a = pool.checkout().unwrap();
    pool.checkin(a);
    let b = pool.checkout().unwrap();
    assert_ne!(a, b);
    pool.checkin(b);
    assert_eq!(pool.checkout().unwrap(), a);
    pools.stop().unwrap();
}

#[test]
fn reuses_waiting_monitor_on_worker_exit() {
    // poolboy: "Pool reuses waiting monitor when a worker exits": a waiter served by a
    // replacement worker is monitored once; its death checks the worker in.
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    let w = pool.checkout().unwrap();
    let me = self_pid();
    let p2 = pool.clone();
    let c = spawn(move || {
        let got = p2.checkout().unwrap();
        send(me, got);
        let _: Stop = receive();
    });
    while pool.status().unwrap().waiting == 0 {
        std::thread::yield_now();
    }
    exit(w, ExitReason::Kill);
    let got: Pid = receive();
    assert_ne!(got, w);
    assert_eq!(status(&pool), (PoolState::Full, 0, 0, 1));
    exit(c, ExitReason::Kill);
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn transaction_timeout_recovers() {
    // poolboy: "Recover from transaction timeout" and issue #64: a transaction that cannot get
    // a worker in time fails, and the pool is not left stuck.
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    let w = pool.checkout().unwrap();
    let r = pool.transaction_timeout(Duration::from_millis(10), |w| w);
    assert!(matches!(
        r,
        Err(pool::TransactionError::Checkout(CheckoutError::Timeout))
    ));
    assert_eq!(status(&pool), (PoolState::Full, 0, 0, 1));
    pool.checkin(w);
    assert_eq!(pool.transaction(|x| x), Ok(w));
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn cancelled_checkout_racing_a_handover_leaks_nothing() {
    // poolboy #70: a client that times out just as a worker is handed to it. Run many times
    // with different interleavings: after everything settles, every worker is idle again.
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    for i in 0..300u64 {
        let w = pool.checkout().unwrap();
        let p2 = pool.clone();
        let (_, r) = spawn_monitor(move || {
            let _ = p2.checkout_timeout(Duration::from_micros(i % 40));
        });
        if i % 2 == 0 {
            std::thread::yield_now();
        }
        pool.checkin(w);
        let _: Down = receive_match(|d: &Down| d.monitor == r);
        // The consumer is gone; whatever it got was cancelled or checked in on its death. The
        // pool's own Down for the consumer may be delivered a moment after ours (no order
        // between different watchers, as in OTP), so wait for the pool to settle.
        let s = settle(&pool, |s| (s.idle, s.checked_out, s.waiting) == (1, 0, 0));
        assert_eq!(
            (s.idle, s.checked_out, s.waiting),
            (1, 0, 0),
            "iteration {i}: {s}"
        );
    }
    pools.stop().unwrap();
}

#[test]
fn a_pool_whose_workers_cannot_start_reports_an_error() {
    // poolboy #122: a failing worker start must not crash the pool or its siblings.
    let (pools, good) = start(1, 0, Strategy::Lifo);
    let bad = PoolConfig::new("poolboy_test_bad", || -> Result<Pid, ExitReason> {
        Err(ExitReason::custom("cannot connect"))
    })
    .size(2);
    let err = pools.start_pool(bad).unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_eq!(status(&good), (PoolState::Ready, 1, 0, 0));

    // An overflow worker that fails to start gives the caller an error; the pool stays up.
    let flaky = Arc::new(AtomicUsize::new(0));
    let f2 = flaky.clone();
    let cfg = PoolConfig::new("poolboy_test_flaky", move || {
        if f2.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(worker())
        } else {
            Err(ExitReason::custom("overflow start failed"))
        }
    })
    .size(1)
    .max_overflow(1);
    let flaky_pool = pools.start_pool(cfg).unwrap();
    let _w = flaky_pool.checkout().unwrap();
    assert!(matches!(
        flaky_pool.try_checkout(),
        Err(CheckoutError::WorkerStart(_))
    ));
    assert_eq!(flaky_pool.status().unwrap().checked_out, 1);
    pools.stop().unwrap();
}

#[test]
fn idle_worker_death_is_replaced() {
    // poolboy `handle_info({'EXIT', ...})` for an idle worker: removed and replaced.
    let (pools, pool) = start(3, 0, Strategy::Lifo);
    let before = pool.workers().unwrap();
    exit(before[0], ExitReason::Kill);
    let after = pool.workers().unwrap();
    assert_eq!(after.len(), 3);
    assert!(!after.contains(&before[0]));
    assert_eq!(status(&pool), (PoolState::Ready, 3, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn checkin_of_an_unknown_pid_is_ignored() {
    // poolboy: a checkin of a pid that is not checked out does nothing.
    let (pools, pool) = start(2, 0, Strategy::Lifo);
    pool.checkin(self_pid());
    let w = pool.checkout().unwrap();
    pool.checkin(w);
    pool.checkin(w); // twice
    assert_eq!(status(&pool), (PoolState::Ready, 2, 0, 0));
    pools.stop().unwrap();
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    let w = pool.checkout().unwrap();
    let me = self_pid();
    let mut waiters = Vec::new();
    for i in 0..5u32 {
        let p2 = pool.clone();
        let c = spawn(move || {
            let got = p2.checkout().unwrap();
            send(me, i);
            p2.checkin(got);
        });
        waiters.push(c);
        // Queue them one at a time so their arrival order is known.
        while pool.status().unwrap().waiting != (i + 1) as usize {
            std::thread::yield_now();
        }
    }
    pool.checkin(w);
    let order: Vec<u32> = (0..5).map(|_| receive::<u32>()).collect();
    assert_eq!(order, vec![0, 1, 2, 3, 4]);
    for c in waiters {
        wait_dead(c);
    }
    assert_eq!(status(&pool), (PoolState::Ready, 1, 0, 0));
    assert!(receive_timeout::<u32>(Duration::ZERO).is_none());
    pools.stop().unwrap();
}

#[test]
fn a_queued_checkout_ends_when_the_pool_server_dies() {
    // Not a poolboy case: a consumer queued for a worker gets an error, not a hang, when the
    // pool server dies; the pool's supervisor restarts the pool whole.
    let (pools, pool) = start(1, 0, Strategy::Lifo);
    let _w = pool.checkout().unwrap();
    let me = self_pid();
    let p2 = pool.clone();
    let c = spawn(move || {
        let r = p2.checkout_timeout(Duration::from_secs(30));
        send(me, (self_pid(), r));
    });
    while pool.status().unwrap().waiting == 0 {
        std::thread::yield_now();
    }
    let server = pool.server_pid().unwrap();
    exit(server, ExitReason::Kill);
    let (_, r): (Pid, Result<Pid, CheckoutError>) = receive_match_timeout(
        Duration::from_secs(10),
        |m: &(Pid, Result<Pid, CheckoutError>)| m.0 == c,
    )
    .expect("the queued consumer got an answer");
    assert!(matches!(r, Err(CheckoutError::Pool(_))), "{r:?}");
    wait_dead(c);
    // The restarted pool is whole again (asked until the restart is done: meanwhile the name
    // may be unregistered).
    let mut s = None;
    for _ in 0..1_000_000 {
        s = pool
            .status()
            .ok()
            .filter(|_| pool.server_pid() != Some(server));
        if s.is_some_and(|s| s.idle == 1) {
            break;
        }
        std::thread::yield_now();
    }
    let s = s.expect("the pool restarted");
    assert_eq!((s.idle, s.checked_out, s.waiting), (1, 0, 0));
    pools.stop().unwrap();
}

/// Tells the test that a worker start is under way.
struct Entered;

#[test]
fn checkouts_in_flight_end_when_the_pool_server_dies() {
    // Not a poolboy case: a checkout is a cast with a channel for its answer, so a server that
    // dies must not leave its clients waiting for their timeout, whether it was handling their
    // checkout or had it still in its mailbox. The server is held inside an overflow worker's
    // start (which blocks until the test lets it go) while a second checkout waits behind.
    let me = self_pid();
    let starts = Arc::new(AtomicUsize::new(0));
    let (go, gate) = std::sync::mpsc::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(gate));
    let start_worker = {
        let starts = starts.clone();
        move || -> Result<Pid, ExitReason> {
            if starts.fetch_add(1, Ordering::SeqCst) == 1 {
                send(me, Entered);
                let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(10));
            }
            Ok(worker())
        }
    };
    let name = format!("poolboy_test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let pools = Pools::start_link(vec![
        PoolConfig::new(&name, start_worker).size(1).max_overflow(1),
    ])
    .unwrap();
    let pool = Pool::named(&name);
    let server = pool.server_pid().unwrap();
    let _w = pool.checkout().unwrap();
    let client = |p: &Pool| {
        let p = p.clone();
        spawn(move || {
            let r = p.checkout_timeout(Duration::from_secs(30));
            send(me, (self_pid(), r));
        })
    };
    let a = client(&pool); // being handled: the server starts an overflow worker for it
    let _: Entered = receive_match_timeout(Duration::from_secs(10), |_: &Entered| true).unwrap();
    let b = client(&pool); // in the server's mailbox
    for _ in 0..1_000_000 {
        if runtime::process_info(server).is_some_and(|i| i.message_queue_len > 0) {
            break;
        }
        std::thread::yield_now();
    }
    exit(server, ExitReason::Kill);
    let answer = |c: Pid| {
        receive_match_timeout(
            Duration::from_secs(10),
            |m: &(Pid, Result<Pid, CheckoutError>)| m.0 == c,
        )
        .map(|m| m.1)
    };
    let rb = answer(b);
    let ra = answer(a);
    go.send(()).unwrap();
    assert!(matches!(rb, Some(Err(CheckoutError::Pool(_)))), "{rb:?}");
    assert!(matches!(ra, Some(Err(CheckoutError::Pool(_)))), "{ra:?}");
    pools.stop().unwrap();
}
