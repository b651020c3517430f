//! Criterion benchmarks of the runtime's primitives, the workloads of DESIGN.md section 4:
//! spawn + monitor + Down, ping-pong, one-way send, spawn_link + crash + trapped Exit, and a
//! selective receive past a long mailbox.
//!
//! Run with `cargo bench -p benches --bench runtime`. The BEAM counterparts are in
//! `benches/beam/runtime_bench.exs`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_main};
use runtime::{
    Down, Exit, Pid, receive, self_pid, send, set_crash_handler, spawn, spawn_link, spawn_monitor,
    trap_exit,
};

/// Asks a bench helper process to stop.
struct Stop;

/// A ping carrying the pid to answer.
struct Ping(Pid);

/// The answer to a [`Ping`].
struct Pong;

/// Tells the one-way sender to send `n` messages to the counter.
struct Go(u64);

/// The counter's answer once it has counted every message of a round.
struct Counted;

/// A message nobody waits for, to make a mailbox long.
struct Filler;

/// The message the selective receive bench waits for.
struct Wanted(u64);

/// Ends `pid` (which must answer [`Stop`] by returning) and waits until it has gone, so the
/// next benchmark starts with no helper process running.
fn stop_and_wait(pid: Pid) {
    let r = runtime::monitor(pid);
    send(pid, Stop);
    let d: Down = runtime::receive_match(|d: &Down| d.monitor == r);
    black_box(d);
}

fn spawn_monitor_down(c: &mut Criterion) {
    c.bench_function("spawn + monitor + Down", |b| {
        b.iter(|| {
            let (_, r) = spawn_monitor(|| {});
            let d: Down = receive();
            debug_assert_eq!(d.monitor, r);
            black_box(d);
        });
    });
}

fn ping_pong(c: &mut Criterion) {
    c.bench_function("ping-pong round trip", |b| {
        b.iter_custom(|iters| {
            // One echo process per batch, outside the timed loop.
            let echo = spawn(|| {
                loop {
                    match runtime::recv().downcast::<Ping>() {
                        Ok(Ping(from)) => send(from, Pong),
                        Err(_) => return, // Stop
                    }
                }
            });
            let me = self_pid();
            // One round trip before the clock starts, so the echo thread is running.
            send(echo, Ping(me));
            let Pong = receive();
            let start = Instant::now();
            for _ in 0..iters {
                send(echo, Ping(me));
                let Pong = receive();
            }
            let t = start.elapsed();
            stop_and_wait(echo);
            t
        });
    });
}

/// Messages per round of the one-way send bench.
const ONE_WAY_BATCH: u64 = 10_000;

fn one_way_send(c: &mut Criterion) {
    let mut g = c.benchmark_group("one-way send");
    g.throughput(Throughput::Elements(ONE_WAY_BATCH));
    g.bench_function("sender to counting receiver, per batch of 10k", |b| {
        b.iter_custom(|iters| {
            let main = self_pid();
            let counter = spawn(move || {
                loop {
                    let m = runtime::recv();
                    if m.is::<Stop>() {
                        return;
                    }
                    if let Ok(Go(n)) = m.downcast::<Go>() {
                        // The round's size comes first, then its messages.
                        let mut left = n;
                        while left > 0 {
                            let v: u64 = receive();
                            black_box(v);
                            left -= 1;
                        }
                        send(main, Counted);
                    }
                }
            });
            let sender = spawn(move || {
                loop {
                    let m = runtime::recv();
                    if m.is::<Stop>() {
                        return;
                    }
                    if let Ok(Go(n)) = m.downcast::<Go>() {
                        send(counter, Go(n));
                        for i in 0..n {
                            send(counter, i);
                        }
                    }
                }
            });
            // Warm both threads up outside the clock.
            send(sender, Go(100));
            let Counted = receive();
            let start = Instant::now();
            for _ in 0..iters {
                send(sender, Go(ONE_WAY_BATCH));
                let Counted = receive();
            }
            let t = start.elapsed();
            stop_and_wait(sender);
            stop_and_wait(counter);
            t
        });
    });
    g.finish();
}

fn spawn_link_crash_exit(c: &mut Criterion) {
    // Crash reports would flood stderr and cost more than the crash itself.
    set_crash_handler(|_| {});
    trap_exit(true);
    c.bench_function("spawn_link + crash + trapped Exit", |b| {
        b.iter(|| {
            let pid = spawn_link(|| panic!("boom"));
            let e: Exit = receive();
            debug_assert_eq!(e.from, pid);
            black_box((pid, e));
        });
    });
    trap_exit(false);
    runtime::reset_crash_handler();
}

fn selective_receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("selective receive");
    for len in [100usize, 10_000] {
        g.bench_function(format!("past {len} non-matching messages"), |b| {
            b.iter_custom(|iters| {
                let me = self_pid();
                for _ in 0..len {
                    send(me, Filler);
                }
                let start = Instant::now();
                for i in 0..iters {
                    send(me, Wanted(i));
                    let w: Wanted = receive();
                    black_box(w.0);
                }
                let t = start.elapsed();
                for _ in 0..len {
                    let Filler = receive();
                }
                t
            });
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// Runs every benchmark of this file (what `criterion_group!` would generate, written out so
/// that it carries documentation).
fn benches() {
    let mut c = config().configure_from_args();
    spawn_monitor_down(&mut c);
    ping_pong(&mut c);
    one_way_send(&mut c);
    spawn_link_crash_exit(&mut c);
    selective_receive(&mut c);
}

criterion_main!(benches);
