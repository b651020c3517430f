//! Criterion benchmarks of the `pool` crate, the pool workload of DESIGN.md section 4
//! (poolboy: 206 k checkout+checkin/s with 1 client, 164 k/s with 100 clients, pool size 10;
//! target: at least twice that).
//!
//! - checkout+checkin by 1 client process;
//! - checkout+checkin by 100 client processes started together, each doing the same number of
//!   operations: the figure is total operations over the wall time from the start signal to the
//!   last client's end (with 100 clients and 10 workers, most checkouts wait in the queue and
//!   are served by a checkin's hand-off);
//! - a transaction whose closure makes one GenServer call on the worker;
//! - as a baseline, the same 1 and 100 client loops making one plain GenServer call each: a
//!   checkout is a call and a checkin a cast, so this is the floor of a server-based pool.
//!
//! Run with `cargo bench -p benches --bench pool`. `benches/beam/pool.exs` is a BEAM reference
//! with the same workloads (a poolboy-like pool in plain Elixir, not poolboy itself).

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_main};
use pool::{Pool, PoolConfig, Pools};
use runtime::{GenServer, Init, Pid, Reply, ReplyTo, Server, StartOpts, gen_server, receive, send};

/// The pool size of DESIGN.md's figures.
const SIZE: usize = 10;
/// Client processes of the concurrent bench.
const CLIENTS: usize = 100;

/// A worker: a GenServer that echoes its request.
struct Echo;

impl GenServer for Echo {
    type Arg = ();
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Continue = ();

    fn init((): ()) -> Init<Self> {
        Init::Ok(Echo)
    }

    fn handle_call(&mut self, n: u64, _from: ReplyTo<u64>) -> Reply<u64> {
        Reply::Reply(n)
    }
}

fn echo_worker() -> Result<Server<Echo>, runtime::StartError> {
    gen_server::start_link::<Echo>((), StartOpts::new())
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Starts a pool of `SIZE` echo workers (no overflow, as the BEAM figures) under a fresh name.
fn start_pool() -> (Pools, Pool) {
    let name = format!("bench_pool_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let cfg = PoolConfig::new(&name, echo_worker)
        .size(SIZE)
        .max_overflow(0);
    let pools = Pools::start_link(vec![cfg]).expect("the pool starts");
    (pools, Pool::named(&name))
}

fn one_client(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool checkout+checkin");
    g.throughput(Throughput::Elements(1));
    g.bench_function("1 client", |b| {
        b.iter_custom(|iters| {
            let (pools, pool) = start_pool();
            let start = Instant::now();
            for _ in 0..iters {
                let w = pool.checkout().expect("checkout");
                pool.checkin(black_box(w));
            }
            let t = start.elapsed();
            pools.stop().expect("stop");
            t
        });
    });
    g.bench_function("100 clients", |b| {
        b.iter_custom(|iters| {
            let (pools, pool) = start_pool();
            let me = runtime::self_pid();
            // Each client does `per` operations; one bench iteration stands for one operation.
            let per = iters.div_ceil(CLIENTS as u64).max(1);
            let clients: Vec<Pid> = (0..CLIENTS)
                .map(|_| {
                    let pool = pool.clone();
                    runtime::spawn(move || {
                        let () = receive();
                        for _ in 0..per {
                            let w = pool.checkout().expect("checkout");
                            pool.checkin(black_box(w));
                        }
                        send(me, Done);
                    })
                })
                .collect();
            let start = Instant::now();
            for c in &clients {
                send(*c, ());
            }
            for _ in 0..CLIENTS {
                let Done = receive();
            }
            let t = start.elapsed();
            pools.stop().expect("stop");
            // Scale to the `iters` operations criterion asked for.
            t.mul_f64(iters as f64 / (per * CLIENTS as u64) as f64)
        });
    });
    g.finish();
}

struct Done;

/// The floor of the server-based design: the same client loops, each doing one plain call to a
/// GenServer instead of a checkout+checkin (a checkout is a call; a checkin is a cast).
fn baseline(c: &mut Criterion) {
    let mut g = c.benchmark_group("baseline: GenServer call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("1 client", |b| {
        b.iter_custom(|iters| {
            let s = gen_server::start::<Echo>((), StartOpts::new()).expect("start");
            let start = Instant::now();
            for i in 0..iters {
                black_box(s.call(black_box(i)).expect("call"));
            }
            let t = start.elapsed();
            s.stop(runtime::ExitReason::Normal, None).expect("stop");
            t
        });
    });
    g.bench_function("100 clients", |b| {
        b.iter_custom(|iters| {
            let s = gen_server::start::<Echo>((), StartOpts::new()).expect("start");
            let me = runtime::self_pid();
            let per = iters.div_ceil(CLIENTS as u64).max(1);
            let clients: Vec<Pid> = (0..CLIENTS)
                .map(|_| {
                    let s = s.clone();
                    runtime::spawn(move || {
                        let () = receive();
                        for i in 0..per {
                            black_box(s.call(black_box(i)).expect("call"));
                        }
                        send(me, Done);
                    })
                })
                .collect();
            let start = Instant::now();
            for c in &clients {
                send(*c, ());
            }
            for _ in 0..CLIENTS {
                let Done = receive();
            }
            let t = start.elapsed();
            s.stop(runtime::ExitReason::Normal, None).expect("stop");
            t.mul_f64(iters as f64 / (per * CLIENTS as u64) as f64)
        });
    });
    g.finish();
}

fn transaction(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool transaction");
    g.throughput(Throughput::Elements(1));
    g.bench_function("1 client, one call to the worker", |b| {
        b.iter_custom(|iters| {
            let (pools, pool) = start_pool();
            let start = Instant::now();
            for i in 0..iters {
                let r = pool
                    .transaction(|w| Server::<Echo>::from_pid(w).call(black_box(i)))
                    .expect("checkout");
                black_box(r.expect("call"));
            }
            let t = start.elapsed();
            pools.stop().expect("stop");
            t
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// Runs every benchmark of this file (what `criterion_group!` would generate, written out so
/// that it carries documentation).
fn benches() {
    let mut c = config().configure_from_args();
    one_client(&mut c);
    transaction(&mut c);
    baseline(&mut c);
}

criterion_main!(benches);
