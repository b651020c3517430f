//! Seed 002, "Performance testing our cache": Saša's `Profiler.run(function, operations,
//! concurrency)` on a trivial workload and on GenServer calls, with one client and with 100
//! (the seed's two runs), then what the profiler reports beyond reqs/sec: latency
//! percentiles, errors counted instead of fatal, and two targets compared side by side.
//!
//! The seed runs its profiler on the to-do cache; that comparison (registry cache against
//! ETS cache) lives in the benchmark table, `cargo xtask bench`.

use std::time::Duration;

use examples::{Checker, banner};
use profiler::{Profile, compare};
use runtime::gen_server::{self, GenServer, Init, Reply, ReplyTo, StartOpts};
use runtime::{ExitReason, processes};

/// A cache-like server: every read is a call, as in the seed's registry-based cache.
struct Lookup {
    served: u64,
}

impl GenServer for Lookup {
    type Arg = ();
    type Call = u32;
    type Reply = u32;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self> {
        Init::Ok(Lookup { served: 0 })
    }

    fn handle_call(&mut self, key: u32, _from: ReplyTo<u32>) -> Reply<u32> {
        self.served += 1;
        Reply::Reply(key.wrapping_mul(2_654_435_761))
    }
}

fn main() {
    let mut c = Checker::new("seed002_profiler");
    // The main thread becomes a process on its first runtime call; count it in.
    let _ = runtime::self_pid();
    let before = processes().len();

    banner("Profiler.run(fn -> :ok end, 100_000): the profiler's own cost");
    // The seed's output is one line, "N reqs/sec".
    match profiler::run(|| (), 100_000, 1) {
        Ok(r) => {
            println!("iex> Profiler.run(fn -> :ok end, 100_000)");
            println!("{}", r.seed_line());
            c.check(
                "one client ran 100,000 operations, none failed",
                r.operations == 100_000 && r.errors == 0,
            );
        }
        Err(e) => c.fail(&format!("the run did not start: {e}")),
    }

    banner("Profiler.run(fn -> GenServer.call(server, key) end, 50_000)");
    let server = match gen_server::start::<Lookup>((), StartOpts::new()) {
        Ok(s) => s,
        Err(e) => c.fail(&format!("the server did not start: {e}")),
    };
    let s = server.clone();
    let one = Profile::new("GenServer call, 1 client")
        .operations(50_000)
        .warmup(Duration::from_millis(50))
        .run(move || s.call(7));
    let Ok(one) = one else {
        c.fail("the one-client run did not start")
    };
    println!("iex> Profiler.run(fn -> GenServer.call(server, 7) end, 50_000)");
    println!("{}\n", one.seed_line());
    print!("{}", one.table());
    c.check(
        "50,000 calls, all answered, each one timed",
        one.operations == 50_000 && one.errors == 0 && one.latency.count == 50_000,
    );
    c.check(
        "the percentiles are in order",
        one.latency.p50 <= one.latency.p90
            && one.latency.p90 <= one.latency.p99
            && one.latency.p99 <= one.latency.p999
            && one.latency.p999 <= one.latency.max,
    );

    banner(
        "Profiler.run(fn -> GenServer.call(server, key) end, 1_000, 100): one server, 100 clients",
    );
    let s = server.clone();
    let hundred = Profile::new("GenServer call, 100 clients")
        .operations(1_000)
        .concurrency(100)
        .run(move || s.call(7));
    let Ok(hundred) = hundred else {
        c.fail("the 100-client run did not start")
    };
    println!("iex> Profiler.run(fn -> GenServer.call(server, 7) end, 1_000, 100)");
    println!("{}\n", hundred.seed_line());
    print!("{}", hundred.table());
    c.check(
        "100 clients x 1,000 calls, all answered",
        hundred.operations == 100_000 && hundred.errors == 0,
    );
    // One server serialises every call: more clients queue behind it, and the queue shows in
    // the tail latency rather than in throughput.
    println!("\n{}", compare(&one, &hundred));

    banner("A failing operation is counted, not fatal");
    let s = server.clone();
    let flaky = Profile::new("flaky")
        .operations(1_000)
        .concurrency(2)
        .run(move || {
            s.call(7).map_err(|e| e.to_string())?;
            // One operation in twenty panics and one in twenty returns an error.
            match rand_ish() % 20 {
                0 => panic!("an unlucky draw"),
                1 => Err("one in twenty fails".to_owned()),
                _ => Ok(()),
            }
        });
    let Ok(flaky) = flaky else {
        c.fail("the flaky run did not start")
    };
    print!("{}", flaky.table());
    c.check(
        "every operation ran; the failures were counted",
        flaky.operations == 2_000 && flaky.errors > 0 && flaky.errors < 2_000,
    );

    banner("JSON, for programs");
    let json = one.to_json();
    println!("{}", json.lines().take(12).collect::<Vec<_>>().join("\n"));
    println!("  ...");
    c.check(
        "the JSON has the percentiles and the machine",
        json.contains("\"p99_9\"") && json.contains("\"cores\""),
    );

    c.check("the server survived all of it", server.call(0).is_ok());
    if server.stop(ExitReason::Normal, None).is_err() {
        c.fail("the server did not stop");
    }
    c.check(
        "no client process is left running",
        processes().len() == before,
    );
    c.finish();
}

/// A cheap, thread-local pseudo-random number (xorshift), enough to make some calls fail.
fn rand_ish() -> u64 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) });
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}
