//! Seed 003's key-value bucket as an `Agent`, the `KV.Bucket` of Elixir's Mix and OTP guide
//! (the seed's supervision lessons build on it):
//!
//! ```elixir
//! defmodule KV.Bucket do
//!   use Agent
//!   def start_link(_opts), do: Agent.start_link(fn -> %{} end)
//!   def get(bucket, key), do: Agent.get(bucket, &Map.get(&1, key))
//!   def put(bucket, key, value), do: Agent.update(bucket, &Map.put(&1, key, value))
//!   def delete(bucket, key), do: Agent.get_and_update(bucket, &Map.pop(&1, key))
//! end
//! ```
//!
//! Run with `cargo run -p examples --bin seed003_kv_agent`.

use std::collections::HashMap;

use examples::{Checker, banner};
use runtime::{
    Agent, CallError, Down, StartError, StartOpts, Task, is_alive, monitor, processes,
    receive_match, self_pid, whereis,
};

/// `KV.Bucket`: a map from strings to integers behind an agent.
#[derive(Clone)]
struct Bucket(Agent<HashMap<String, i64>>);

impl Bucket {
    fn start_link(opts: StartOpts) -> Result<Bucket, StartError> {
        Agent::start_link(HashMap::new, opts).map(Bucket)
    }

    fn named(name: &str) -> Bucket {
        Bucket(Agent::named(name))
    }

    fn get(&self, key: &str) -> Result<Option<i64>, CallError> {
        let key = key.to_owned();
        self.0.get(move |m| m.get(&key).copied())
    }

    fn put(&self, key: &str, value: i64) -> Result<(), CallError> {
        let key = key.to_owned();
        self.0.update(move |m| {
            m.insert(key, value);
        })
    }

    fn delete(&self, key: &str) -> Result<Option<i64>, CallError> {
        let key = key.to_owned();
        self.0.get_and_update(move |m| m.remove(&key))
    }
}

/// Prints an optional integer the way IEx does.
fn iex(v: Option<i64>) -> String {
    v.map_or_else(|| "nil".to_string(), |v| v.to_string())
}

fn main() {
    let mut c = Checker::new("seed003_kv_agent");

    banner("A bucket");
    println!("iex> {{:ok, bucket}} = KV.Bucket.start_link([])");
    let bucket = Bucket::start_link(StartOpts::new()).unwrap_or_else(|e| c.fail(&e.to_string()));
    let pid = bucket.0.pid().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{{:ok, #PID{pid}}}");

    println!("iex> KV.Bucket.get(bucket, \"milk\")");
    let v = bucket
        .get("milk")
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", iex(v));
    c.check("a new bucket is empty", v.is_none());

    println!("iex> KV.Bucket.put(bucket, \"milk\", 3)");
    let r = bucket.put("milk", 3);
    println!("{}", if r.is_ok() { ":ok" } else { "error" });
    c.check("put returns ok", r.is_ok());

    println!("iex> KV.Bucket.get(bucket, \"milk\")");
    let v = bucket
        .get("milk")
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", iex(v));
    c.check("get sees the put", v == Some(3));

    println!("iex> KV.Bucket.delete(bucket, \"milk\")");
    let v = bucket
        .delete("milk")
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", iex(v));
    c.check("delete returns the old value", v == Some(3));

    println!("iex> KV.Bucket.get(bucket, \"milk\")");
    let v = bucket
        .get("milk")
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", iex(v));
    c.check("the key is gone", v.is_none());

    banner("Agent.cast does not wait; a later get still sees it");
    println!("iex> Agent.cast(bucket, &Map.update(&1, \"eggs\", 1, fn n -> n + 1 end))");
    for _ in 0..12 {
        bucket
            .0
            .cast(|m| *m.entry("eggs".to_string()).or_insert(0) += 1);
    }
    println!(":ok  (12 times)");
    println!("iex> KV.Bucket.get(bucket, \"eggs\")");
    let v = bucket
        .get("eggs")
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", iex(v));
    c.check("the twelve casts were applied in order", v == Some(12));

    banner("Many clients, one bucket");
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let b = bucket.clone();
            Task::spawn(move || {
                for _ in 0..100 {
                    b.0.update(|m| *m.entry("visits".to_string()).or_insert(0) += 1)
                        .map_err(|e| e.to_string())?;
                }
                Ok::<u32, String>(i)
            })
        })
        .collect();
    println!("iex> for _ <- 1..4, do: Task.async(fn -> 100 updates of \"visits\" end)");
    // Each task's own monitor, to wait until its process has ended, not just replied.
    let ends: Vec<_> = clients.iter().map(|t| monitor(t.pid())).collect();
    let all_ok = clients
        .into_iter()
        .map(|t| matches!(t.join(), Ok(Ok(_))))
        .collect::<Vec<bool>>()
        .into_iter()
        .all(|ok| ok);
    for r in ends {
        let _: Down = receive_match(|d: &Down| d.monitor == r);
    }
    println!("iex> KV.Bucket.get(bucket, \"visits\")");
    let v = bucket
        .get("visits")
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", iex(v));
    c.check(
        "400 updates from 4 tasks, none lost",
        all_ok && v == Some(400),
    );

    banner("A named bucket");
    println!("iex> KV.Bucket.start_link(name: :shopping)");
    let named = Bucket::start_link(StartOpts::new().name("shopping"))
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let npid = named.0.pid().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{{:ok, #PID{npid}}}");
    println!("iex> KV.Bucket.put(:shopping, \"bread\", 2)");
    let r = Bucket::named("shopping").put("bread", 2);
    println!("{}", if r.is_ok() { ":ok" } else { "error" });
    println!("iex> KV.Bucket.get(:shopping, \"bread\")");
    let v = Bucket::named("shopping").get("bread");
    println!("{}", v.clone().map_or_else(|e| e.to_string(), iex));
    c.check("the bucket is reachable by name", v == Ok(Some(2)));
    c.check(
        "the name belongs to the bucket",
        whereis("shopping") == Some(npid),
    );

    banner("Stopping");
    println!("iex> Agent.stop(bucket)");
    let r = bucket.0.stop();
    println!("{}", if r.is_ok() { ":ok" } else { "error" });
    c.check("stop returns ok", r.is_ok());
    println!("iex> Agent.stop(:shopping)");
    let r = named.0.stop();
    println!("{}", if r.is_ok() { ":ok" } else { "error" });
    c.check("the named bucket stops", r.is_ok());
    println!("iex> KV.Bucket.get(bucket, \"eggs\")");
    let gone = bucket.get("eggs");
    if gone == Err(CallError::NoProc) {
        println!("** (exit) exited in: GenServer.call(#PID{pid}, {{:get, ...}}, 5000)");
        println!("    ** (EXIT) no process");
    }
    c.check(
        "a stopped bucket answers NoProc",
        gone == Err(CallError::NoProc),
    );
    c.check(
        "the name is free again",
        whereis("shopping").is_none() && !is_alive(npid),
    );
    c.check(
        "no process is left running",
        processes() == vec![self_pid()],
    );

    c.finish();
}
