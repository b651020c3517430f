//! Seed 002, "Performance testing our cache": `Todo.Cache.server_process("list #{n}")` for a
//! random list of 100, with 1 client and with 100 clients, first through the registry-based
//! cache (every lookup a call to the process registry, the book's chapter 9), then through
//! the ETS cache (the client reads the table itself). Printed as the seed prints it
//! ("N reqs/sec"), then with latency percentiles and the two compared.
//!
//! A short run (a fraction of a second each); the full-size run is in the benchmark table,
//! `cargo xtask bench` (rows `cache_registry_1`, `cache_registry_100`, `cache_ets_1`,
//! `cache_ets_100`), next to the BEAM's with `--beam`.

use std::time::Duration;

use examples::{Checker, banner};
use profiler::{Profile, Report, compare};
use todo::{Cache, Config, TodoError, TodoServer, TodoSystem};

/// The number of lists, as in the seed.
const LISTS: u64 = 100;

/// A client's random list numbers (xorshift; `:rand.uniform(100)` in the seed).
struct Lists {
    state: u64,
    name: String,
}

impl Lists {
    fn new() -> Lists {
        let seed = runtime::self_pid().to_string().len() as u64;
        Lists {
            state: 0x9E37_79B9_7F4A_7C15 ^ seed ^ (&seed as *const u64 as u64),
            name: String::with_capacity(16),
        }
    }

    /// `"list #{:rand.uniform(100)}"`.
    fn next(&mut self) -> &str {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.name.clear();
        use std::fmt::Write as _;
        let _ = write!(self.name, "list {}", 1 + self.state % LISTS);
        &self.name
    }
}

fn run(
    title: &str,
    clients: usize,
    ops: u64,
    lookup: fn(&str) -> Result<TodoServer, TodoError>,
) -> Result<Report, String> {
    Profile::new(title)
        .concurrency(clients)
        .operations(ops)
        .samples(3)
        .warmup(Duration::from_millis(20))
        .run_with(Lists::new, move |l: &mut Lists| {
            lookup(l.next()).map(|_| ())
        })
        .map_err(|e| e.to_string())
}

fn main() {
    let mut c = Checker::new("seed002_cache_perf");
    let dir = std::env::temp_dir().join(format!("seed002-cache-perf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let system = match TodoSystem::start_link(Config {
        data_dir: dir.clone(),
        port: None,
        idle_timeout: Duration::from_secs(600),
        db_workers: 3,
    }) {
        Ok(s) => s,
        Err(e) => c.fail(&format!("the system did not start: {e}")),
    };
    // The seed's lists exist before the runs (the first lookup of each starts its server).
    for n in 1..=LISTS {
        if let Err(e) = Cache::server_process(&format!("list {n}")) {
            c.fail(&format!("list {n}: {e}"));
        }
    }

    let mut reports = Vec::new();
    for (title, clients, ops, lookup) in [
        (
            "registry cache, 1 client",
            1,
            10_000,
            Cache::server_process_via_registry as fn(&str) -> _,
        ),
        (
            "registry cache, 100 clients",
            100,
            100,
            Cache::server_process_via_registry,
        ),
        ("ETS cache, 1 client", 1, 100_000, Cache::server_process),
        ("ETS cache, 100 clients", 100, 1_000, Cache::server_process),
    ] {
        banner(title);
        let seed_call = if clients == 1 {
            format!("Profiler.run(func, {ops})")
        } else {
            format!("Profiler.run(func, {ops}, {clients})")
        };
        println!("iex> {seed_call}");
        match run(title, clients, ops, lookup) {
            Ok(r) => {
                println!("{}\n", r.seed_line());
                print!("{}", r.table());
                c.check(
                    &format!("{title}: every lookup found its server"),
                    r.errors == 0 && r.operations == 3 * ops * clients as u64,
                );
                reports.push(r);
            }
            Err(e) => c.fail(&format!("{title}: {e}")),
        }
    }

    banner("registry cache against ETS cache");
    for (ets, registry) in [(2, 0), (3, 1)] {
        let cmp = compare(&reports[ets], &reports[registry]);
        println!("{cmp}");
    }
    // Not a benchmark assertion (tests never assert on time): the ETS reads must not be
    // slower than calls through one process, or something is badly wrong.
    c.check(
        "with 100 clients the ETS cache serves more lookups per second than the registry",
        reports[3].throughput.mean > reports[1].throughput.mean,
    );

    let stopped = system.stop();
    let _ = std::fs::remove_dir_all(&dir);
    c.check("the system stops cleanly", stopped.is_ok());
    c.finish();
}
