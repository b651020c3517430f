//! Seed 002's cache perf test: `Todo.Cache.server_process("list #{:rand.uniform(100)}")` with
//! the to-do system running, through the registry-based cache (every lookup a call to the
//! process registry, the book's chapter 9) and through the ETS cache (the client reads the
//! table), with 1 client and with 100. The BEAM twins are the seed's two caches, in
//! `benches/beam/profiler.exs` (the same workloads, from `benches/beam/cache_perf.exs`).

use std::time::Duration;

use profiler::{Profile, Report};
use todo::{Cache, Config, TodoError, TodoServer, TodoSystem};

use crate::workloads::Scale;

/// The number of lists, as in the seed.
const LISTS: u64 = 100;

/// A client's random list names (xorshift standing for `:rand.uniform(100)`); the name is
/// formatted for every lookup, as the seed's string interpolation does.
struct Lists {
    state: u64,
    name: String,
}

impl Lists {
    fn new() -> Lists {
        let salt = runtime::self_pid().to_string();
        Lists {
            state: salt.bytes().fold(0x9E37_79B9_7F4A_7C15, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(31)
            }),
            name: String::with_capacity(16),
        }
    }

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

/// Starts the system in a fresh directory with the seed's 100 lists, runs the profile, stops
/// the system and removes the directory.
fn with_system(
    title: &str,
    clients: usize,
    ops: u64,
    lookup: fn(&str) -> Result<TodoServer, TodoError>,
) -> Result<Report, String> {
    // A hundred servers start in every run: their start lines would bury the table.
    todo::set_server_log(false);
    let dir = std::env::temp_dir().join(format!("bench-todo-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let system = TodoSystem::start_link(Config {
        data_dir: dir.clone(),
        port: None,
        idle_timeout: Duration::from_secs(3_600),
        db_workers: 3,
    })
    .map_err(|e| format!("the to-do system did not start: {e}"))?;
    let run = || -> Result<Report, String> {
        for n in 1..=LISTS {
            Cache::server_process(&format!("list {n}")).map_err(|e| e.to_string())?;
        }
        Profile::new(title)
            .concurrency(clients)
            .operations(ops)
            .samples(5)
            .warmup(Duration::from_millis(100))
            .run_with(Lists::new, move |l: &mut Lists| {
                lookup(l.next()).map(|_| ())
            })
            .map_err(|e| e.to_string())
    };
    let report = run();
    let _ = system.stop();
    let _ = std::fs::remove_dir_all(&dir);
    report
}

pub(crate) fn cache_registry_1(s: Scale) -> Result<Report, String> {
    with_system(
        "seed 002 cache, registry, 1 client",
        1,
        s.ops(100_000),
        Cache::server_process_via_registry,
    )
}

pub(crate) fn cache_registry_100(s: Scale) -> Result<Report, String> {
    with_system(
        "seed 002 cache, registry, 100 clients",
        100,
        s.ops(1_000),
        Cache::server_process_via_registry,
    )
}

pub(crate) fn cache_ets_1(s: Scale) -> Result<Report, String> {
    with_system(
        "seed 002 cache, ETS, 1 client",
        1,
        s.ops(1_000_000),
        Cache::server_process,
    )
}

pub(crate) fn cache_ets_100(s: Scale) -> Result<Report, String> {
    with_system(
        "seed 002 cache, ETS, 100 clients",
        100,
        s.ops(10_000),
        Cache::server_process,
    )
}
