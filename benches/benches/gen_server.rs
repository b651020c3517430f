//! Criterion benchmarks of the behaviours: GenServer call round trip (DESIGN.md section 4:
//! BEAM 2.5 us, target <= 2 us), cast throughput, and an Agent get for comparison.
//!
//! Run with `cargo bench -p benches --bench gen_server`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_main};
use runtime::{Agent, ExitReason, GenServer, Init, Next, Reply, ReplyTo, StartOpts, gen_server};

/// A counter: calls read it (or echo), casts add to it.
struct Counter(u64);

impl GenServer for Counter {
    type Arg = ();
    type Call = u64;
    type Reply = u64;
    type Cast = u64;
    type Continue = ();

    fn init((): ()) -> Init<Self> {
        Init::Ok(Counter(0))
    }

    /// Echoes the request; a request of 0 reads the counter.
    fn handle_call(&mut self, n: u64, _from: ReplyTo<u64>) -> Reply<u64> {
        Reply::Reply(if n == 0 { self.0 } else { n })
    }

    fn handle_cast(&mut self, n: u64) -> Next {
        self.0 += n;
        Next::Wait
    }
}

fn call_round_trip(c: &mut Criterion) {
    c.bench_function("GenServer call round trip", |b| {
        b.iter_custom(|iters| {
            // One server per batch, outside the timed loop, warmed up by a first call.
            let s = gen_server::start::<Counter>((), StartOpts::new()).expect("start");
            let _ = s.call(1);
            let start = Instant::now();
            for i in 0..iters {
                black_box(s.call(black_box(i | 1)).expect("call"));
            }
            let t = start.elapsed();
            s.stop(ExitReason::Normal, None).expect("stop");
            t
        });
    });
}

/// Casts per round of the cast throughput bench.
const CAST_BATCH: u64 = 10_000;

fn cast_throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("GenServer cast");
    g.throughput(Throughput::Elements(CAST_BATCH));
    g.bench_function("10k casts then one call, per batch", |b| {
        b.iter_custom(|iters| {
            let s = gen_server::start::<Counter>((), StartOpts::new()).expect("start");
            let _ = s.call(1);
            let start = Instant::now();
            for _ in 0..iters {
                for _ in 0..CAST_BATCH {
                    s.cast(1);
                }
                // The call is answered after every cast before it has been handled.
                black_box(s.call(0).expect("call"));
            }
            let t = start.elapsed();
            assert_eq!(s.call(0), Ok(iters * CAST_BATCH));
            s.stop(ExitReason::Normal, None).expect("stop");
            t
        });
    });
    g.finish();
}

fn agent_get(c: &mut Criterion) {
    c.bench_function("Agent get round trip", |b| {
        b.iter_custom(|iters| {
            let a = Agent::start(|| 7u64, StartOpts::new()).expect("start");
            let _ = a.get(|n| *n);
            let start = Instant::now();
            for _ in 0..iters {
                black_box(a.get(|n| *n).expect("get"));
            }
            let t = start.elapsed();
            a.stop().expect("stop");
            t
        });
    });
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
    call_round_trip(&mut c);
    cast_throughput(&mut c);
    agent_get(&mut c);
}

criterion_main!(benches);
