//! The workloads of the benchmark table, by key. Each has a BEAM twin under the same key in
//! `benches/beam/profiler.exs`, with the same clients, operations, samples and warm-up.
//!
//! # Adding a workload
//!
//! Add a [`Workload`] to [`workloads`] (and its twin to `Workloads.all/1` in the Elixir
//! script); to print "X is 7.2x faster than Y" under the table, add the pair of keys to
//! [`comparisons`]. A workload is a plain function from the [`Scale`] to a profiler
//! [`Report`]; anything it starts it stops before returning, so the next one starts clean.
//!
//! The to-do cache comparison of seed 002 (registry cache against ETS cache, 1 and 100
//! clients, `Cache.server_process("list #{:rand.uniform(100)}")`) is in `cache.rs`: four
//! workloads, `cache_registry_1`, `cache_registry_100`, `cache_ets_1`, `cache_ets_100`, and
//! two comparisons, with their BEAM twins (the seed's two caches) in
//! `benches/beam/cache_perf.exs`, which the Elixir script loads.

use std::time::Duration;

use ets::{Options, TypedTable};
use profiler::{Profile, Report};
use runtime::gen_server::{self, GenServer, Init, Reply, ReplyTo, StartOpts};
use runtime::{Down, ExitReason, Pid, Ref, monitor, receive, receive_match, self_pid, send};

/// How much of each workload to run: `1.0`, or `0.1` with `--quick`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale(pub(crate) f64);

impl Scale {
    pub(crate) fn ops(self, full: u64) -> u64 {
        ((full as f64 * self.0).round() as u64).max(1)
    }
}

/// One row of the table; the row's title is its report's name.
pub(crate) struct Workload {
    /// The key shared with the BEAM script and the JSON report.
    pub(crate) key: &'static str,
    /// Runs it.
    pub(crate) run: fn(Scale) -> Result<Report, String>,
}

/// The table's workloads, in order.
pub(crate) fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            key: "empty_op",
            run: empty_op,
        },
        Workload {
            key: "gen_server_call",
            run: gen_server_call,
        },
        Workload {
            key: "gen_server_call_100",
            run: gen_server_call_100,
        },
        Workload {
            key: "send",
            run: one_way_send,
        },
        Workload {
            key: "spawn_monitor_down",
            run: spawn_monitor_down,
        },
        Workload {
            key: "ping_pong",
            run: ping_pong,
        },
        Workload {
            key: "gen_server_call_fixed_rate",
            run: gen_server_call_fixed_rate,
        },
        // Seed 002's cache perf test (in cache.rs; the BEAM twins are the seed's two caches).
        Workload {
            key: "cache_registry_1",
            run: crate::cache::cache_registry_1,
        },
        Workload {
            key: "cache_registry_100",
            run: crate::cache::cache_registry_100,
        },
        Workload {
            key: "cache_ets_1",
            run: crate::cache::cache_ets_1,
        },
        Workload {
            key: "cache_ets_100",
            run: crate::cache::cache_ets_100,
        },
        Workload {
            key: "ets_set_lookup",
            run: ets_set_lookup,
        },
        Workload {
            key: "ets_set_lookup_2",
            run: ets_set_lookup_2,
        },
    ]
}

/// Pairs of keys compared under the table, faster or slower either way round.
pub(crate) fn comparisons() -> Vec<(&'static str, &'static str)> {
    vec![
        ("gen_server_call", "gen_server_call_100"),
        ("gen_server_call", "ping_pong"),
        // Seed 002's point in miniature: reading shared state from ETS against asking a server.
        ("ets_set_lookup", "gen_server_call"),
        // Seed 002: the ETS cache against the registry-based one.
        ("cache_ets_1", "cache_registry_1"),
        ("cache_ets_100", "cache_registry_100"),
    ]
}

/// The common settings: five samples after a 100 ms warm-up.
fn profile(title: &str, clients: usize, ops: u64) -> Profile {
    Profile::new(title)
        .concurrency(clients)
        .operations(ops)
        .samples(5)
        .warmup(Duration::from_millis(100))
}

fn empty_op(s: Scale) -> Result<Report, String> {
    profile("empty operation (profiler floor)", 1, s.ops(1_000_000))
        .run(|| ())
        .map_err(|e| e.to_string())
}

/// The server of the call workloads: it answers every call at once.
struct Lookup;

impl GenServer for Lookup {
    type Arg = ();
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self> {
        Init::Ok(Lookup)
    }

    fn handle_call(&mut self, key: u64, _from: ReplyTo<u64>) -> Reply<u64> {
        Reply::Reply(key.wrapping_mul(2_654_435_761))
    }
}

/// Runs `profile` against a fresh [`Lookup`] server, stopped afterwards.
fn against_server(profile: Profile) -> Result<Report, String> {
    let server = gen_server::start::<Lookup>((), StartOpts::new())
        .map_err(|e| format!("the server did not start: {e}"))?;
    let client = server.clone();
    let report = profile.run(move || client.call(7));
    let _ = server.stop(ExitReason::Normal, None);
    report.map_err(|e| e.to_string())
}

fn gen_server_call(s: Scale) -> Result<Report, String> {
    against_server(profile("GenServer call round trip", 1, s.ops(100_000)))
}

fn gen_server_call_100(s: Scale) -> Result<Report, String> {
    against_server(profile("GenServer call, 100 clients", 100, s.ops(500)).samples(3))
}

fn gen_server_call_fixed_rate(s: Scale) -> Result<Report, String> {
    // One second of schedule per sample at full scale; latencies from the intended start.
    let p = profile("GenServer call at 20k/s (open loop)", 1, s.ops(20_000))
        .samples(1)
        .rate(Some(20_000.0));
    against_server(p)
}

/// A helper process for one client, asked to stop (and awaited) when the client is done.
struct Helper {
    pid: Pid,
    monitor: Ref,
}

/// Asks a helper to stop: it answers after everything sent before.
struct Stop;

impl Helper {
    fn start(body: fn()) -> Helper {
        let pid = runtime::spawn(body);
        Helper {
            pid,
            monitor: monitor(pid),
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        // Messages from one process arrive in order, so the helper has taken every message
        // of the sample before it sees Stop: the sample's time includes the receiving side.
        send(self.pid, Stop);
        let mref = self.monitor;
        let _: Down = receive_match(|d: &Down| d.monitor == mref);
    }
}

/// The message of the one-way send workload.
struct Msg;

fn sink() {
    loop {
        let m = runtime::recv();
        if m.is::<Stop>() {
            return;
        }
    }
}

fn one_way_send(s: Scale) -> Result<Report, String> {
    profile("one-way send, per message", 1, s.ops(500_000))
        .run_with(|| Helper::start(sink), |h: &mut Helper| send(h.pid, Msg))
        .map_err(|e| e.to_string())
}

fn spawn_monitor_down(s: Scale) -> Result<Report, String> {
    profile("spawn + monitor + Down", 1, s.ops(50_000))
        .run(|| {
            let (_, mref) = runtime::spawn_monitor(|| {});
            let _: Down = receive_match(|d: &Down| d.monitor == mref);
        })
        .map_err(|e| e.to_string())
}

/// A ping carrying the pid to answer, and its answer.
struct Ping(Pid);
struct Pong;

fn echo() {
    loop {
        let m = runtime::recv();
        match m.downcast::<Ping>() {
            Ok(Ping(from)) => send(from, Pong),
            Err(m) if m.is::<Stop>() => return,
            Err(_) => {}
        }
    }
}

fn ping_pong(s: Scale) -> Result<Report, String> {
    profile("ping-pong round trip", 1, s.ops(100_000))
        .run_with(
            || Helper::start(echo),
            |h: &mut Helper| {
                send(h.pid, Ping(self_pid()));
                let Pong = receive();
            },
        )
        .map_err(|e| e.to_string())
}

/// Keys in the ETS table (the BEAM twin uses the same).
const ETS_KEYS: u64 = 1_000;

/// ETS set lookups: one public set of `{K, K}` for K in 0..1000, owned by the caller and
/// shared by every client; each client looks up the keys in turn (its own counter).
fn ets_lookup(title: &str, clients: usize, ops: u64) -> Result<Report, String> {
    let t: TypedTable<(u64, u64)> = TypedTable::new("bench_table_set", Options::set().public())
        .map_err(|e| format!("cannot create the table: {e}"))?;
    t.insert_many((0..ETS_KEYS).map(|k| (k, k)))
        .map_err(|e| format!("cannot fill the table: {e}"))?;
    let reader = t.clone();
    let report = profile(title, clients, ops).run_with(
        || 0u64,
        move |next: &mut u64| {
            let k = *next;
            *next = (k + 1) % ETS_KEYS;
            match reader.get(&k) {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(format!("key {k} missing")),
                Err(e) => Err(e.to_string()),
            }
        },
    );
    let _ = t.delete_table();
    report.map_err(|e| e.to_string())
}

fn ets_set_lookup(s: Scale) -> Result<Report, String> {
    ets_lookup("ETS set lookup", 1, s.ops(1_000_000))
}

fn ets_set_lookup_2(s: Scale) -> Result<Report, String> {
    ets_lookup("ETS set lookup, 2 clients", 2, s.ops(500_000))
}
