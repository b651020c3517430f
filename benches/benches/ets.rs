//! Criterion benchmarks of the `ets` crate, the ETS workloads of DESIGN.md section 4: set
//! lookup, set insert and ordered_set insert with 1, 2 and 64 client threads, for both fronts
//! (typed rows `(u64, u64)` and Term tuples `{Int, Int}`). A plain `RwLock<BTreeMap>` under the
//! same ordered insert load is measured beside the ordered_set, as the baseline its
//! range-partitioned design has to beat once writers contend.
//!
//! The same set lookup on a table of 100 keys, without and with `read_concurrency`, shows what
//! the option is for: with a table that small, readers on two cores meet on the same shard
//! locks all the time.
//!
//! Workload: a public table prefilled with every key of 0..KEYS; each operation picks a key
//! uniformly at random (a per-thread xorshift) and looks it up or inserts `{Key, Value}` over it.
//! Figures are total operations per second over all threads. The tables have the options of the
//! BEAM script's tables: `read_concurrency` on (the BEAM's `write_concurrency` is how our hash
//! tables and ordered_sets always work).
//!
//! Run with `cargo bench -p benches --bench ets`. The BEAM counterpart is
//! `benches/beam/ets_bench.exs`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier, RwLock};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use ets::{Options, Table, TableType, Term, TypedTable};

/// Keys in the table (the BEAM bench uses the same range).
const KEYS: u64 = 100_000;
/// Keys in the small read-mostly table of the `read_concurrency` comparison.
const SMALL: u64 = 100;
const THREADS: [usize; 3] = [1, 2, 64];

/// A small, fast per-thread random number generator.
struct XorShift(u64);

impl XorShift {
    fn new(seed: usize) -> Self {
        XorShift(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    #[inline]
    fn key(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % KEYS
    }
}

/// Runs `op` `iters` times in total, split over `threads` threads released together, and returns
/// the time from the first thread's start to the last thread's end. Each thread reads the clock
/// itself: the spawning thread may be descheduled when the barrier opens, and timing from there
/// would miss work already done (with 64 threads on 2 cores, a lot of it).
fn run_threads(
    threads: usize,
    iters: u64,
    op: Arc<dyn Fn(&mut XorShift) + Send + Sync>,
) -> Duration {
    let start = Arc::new(Barrier::new(threads));
    let per = iters / threads as u64 + 1;
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (start, op) = (start.clone(), op.clone());
            std::thread::spawn(move || {
                let mut rng = XorShift::new(i);
                start.wait();
                let t0 = Instant::now();
                for _ in 0..per {
                    op(&mut rng);
                }
                (t0, Instant::now())
            })
        })
        .collect();
    let spans: Vec<(Instant, Instant)> = handles
        .into_iter()
        .map(|h| h.join().expect("bench thread"))
        .collect();
    let first = spans.iter().map(|s| s.0).min();
    let last = spans.iter().map(|s| s.1).max();
    match (first, last) {
        (Some(a), Some(b)) => b - a,
        _ => Duration::ZERO,
    }
}

/// The options of the BEAM script's tables (see the module docs).
fn options(kind: TableType) -> Options {
    Options::new().kind(kind).public().read_concurrency(true)
}

fn typed_table(kind: TableType) -> TypedTable<(u64, u64)> {
    let t = TypedTable::new("bench_typed", options(kind)).expect("new");
    t.insert_many((0..KEYS).map(|k| (k, k))).expect("prefill");
    t
}

fn term_table(kind: TableType) -> Table {
    let t = Table::new("bench_term", options(kind)).expect("new");
    t.insert_many((0..KEYS as i64).map(|k| (k, k)))
        .expect("prefill");
    t
}

/// One workload over every thread count.
fn workload(
    c: &mut Criterion,
    name: &str,
    make: impl Fn() -> Arc<dyn Fn(&mut XorShift) + Send + Sync>,
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(1));
    for threads in THREADS {
        let op = make();
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{threads} threads")),
            &threads,
            |b, &n| {
                b.iter_custom(|iters| run_threads(n, iters, op.clone()));
            },
        );
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    workload(c, "ets set lookup (typed)", || {
        let t = typed_table(TableType::Set);
        Arc::new(move |r: &mut XorShift| {
            black_box(t.get(&r.key()).expect("lookup"));
        })
    });
    workload(c, "ets set lookup (Term)", || {
        let t = term_table(TableType::Set);
        Arc::new(move |r: &mut XorShift| {
            black_box(t.lookup(Term::Int(r.key() as i64)).expect("lookup"));
        })
    });
    workload(c, "ets set insert (typed)", || {
        let t = typed_table(TableType::Set);
        Arc::new(move |r: &mut XorShift| {
            let k = r.key();
            t.insert((k, k ^ 1)).expect("insert");
        })
    });
    workload(c, "ets set insert (Term)", || {
        let t = term_table(TableType::Set);
        Arc::new(move |r: &mut XorShift| {
            let k = r.key() as i64;
            t.insert((k, k ^ 1)).expect("insert");
        })
    });
    workload(c, "ets ordered_set insert (typed)", || {
        let t = typed_table(TableType::OrderedSet);
        Arc::new(move |r: &mut XorShift| {
            let k = r.key();
            t.insert((k, k ^ 1)).expect("insert");
        })
    });
    workload(c, "ets ordered_set insert (Term)", || {
        let t = term_table(TableType::OrderedSet);
        Arc::new(move |r: &mut XorShift| {
            let k = r.key() as i64;
            t.insert((k, k ^ 1)).expect("insert");
        })
    });
    // `read_concurrency` where it is meant to help: a small table every client reads (seed
    // 002's cache of 100 lists), without and with the option.
    for (name, rc) in [
        ("ets set lookup, 100 keys (typed)", false),
        ("ets set lookup, 100 keys, read_concurrency (typed)", true),
    ] {
        workload(c, name, || {
            let opts = Options::set().public().read_concurrency(rc);
            let t: TypedTable<(u64, u64)> = TypedTable::new("bench_small", opts).expect("new");
            t.insert_many((0..SMALL).map(|k| (k, k))).expect("prefill");
            Arc::new(move |r: &mut XorShift| {
                black_box(t.get(&(r.key() % SMALL)).expect("lookup"));
            })
        });
    }
    workload(c, "baseline RwLock<BTreeMap> insert", || {
        let m: Arc<RwLock<BTreeMap<u64, (u64, u64)>>> =
            Arc::new(RwLock::new((0..KEYS).map(|k| (k, (k, k))).collect()));
        Arc::new(move |r: &mut XorShift| {
            let k = r.key();
            m.write().expect("lock").insert(k, (k, k ^ 1));
        })
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args()
}

fn ets_benches() {
    let mut c = config();
    benches(&mut c);
}

criterion_main!(ets_benches);
