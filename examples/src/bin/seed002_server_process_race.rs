//! Seed 002, the race in `Todo.Cache.server_process/1`: "Suppose two clients ask for the same
//! list at the same time, we only want one process created for the list." The seed's answer:
//! look the server up in the client; only if it is missing, call the cache process, which
//! looks again before it starts one under the `ServerSupervisor`. Twenty clients released at
//! once ask for the same new list, through the ETS cache and through the registry; each way
//! gives them all one server.
//!
//! Also the seed's `cache_test` setup: `on_exit fn -> Process.exit(pid, :normal) end`. The
//! on_exit callback runs in another process than the one that started the supervisor, and a
//! supervisor traps exits: a `:normal` exit signal from a process that is not its parent is
//! only a message to it, so the system keeps running; from its parent it stops the tree.
//!
//! Run with `cargo run -p examples --bin seed002_server_process_race`.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, ExitReason, Pid, exit, is_alive, monitor, processes, receive_match_timeout, self_pid,
    send, spawn,
};
use supervisor::DynamicSupervisor;
use todo::{Cache, Config, Key, ProcessRegistry, SERVER_SUPERVISOR, TodoSystem};

const CLIENTS: usize = 20;

/// Starts `CLIENTS` processes that wait at one barrier, then all call `ask(list)`; returns the
/// pids they got.
fn race(c: &Checker, list: &'static str, ask: fn(&str) -> Option<Pid>) -> Vec<Pid> {
    struct Got(Option<Pid>);
    let shell = self_pid();
    let start = Arc::new(Barrier::new(CLIENTS));
    for _ in 0..CLIENTS {
        let start = start.clone();
        spawn(move || {
            start.wait();
            send(shell, Got(ask(list)));
        });
    }
    (0..CLIENTS)
        .map(|_| {
            runtime::receive_timeout::<Got>(Duration::from_secs(10))
                .and_then(|g| g.0)
                .unwrap_or_else(|| c.fail("a client got no server"))
        })
        .collect()
}

fn servers() -> usize {
    DynamicSupervisor::<()>::named(SERVER_SUPERVISOR)
        .count_children()
        .map_or(0, |n| n.active)
}

fn main() {
    let mut c = Checker::new("seed002_server_process_race");
    let shell = self_pid();
    let dir = std::env::temp_dir().join(format!("seed002-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let system = TodoSystem::start_link(Config {
        data_dir: dir.clone(),
        port: None,
        idle_timeout: Duration::from_secs(60),
        db_workers: 3,
    })
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    let top = system.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("iex> Todo.Supervisor.start_link\n{{:ok, {top}}}");

    banner("20 clients ask for \"Alice's list\" at the same time (ETS cache)");
    let got = race(&c, "Alice's list", |l| {
        Cache::server_process(l).ok().map(|s| s.pid())
    });
    println!(
        "iex> for _ <- 1..20, do: spawn(fn -> Todo.Cache.server_process(\"Alice's list\") end)"
    );
    println!(
        "   the 20 answers name {} process(es): {}",
        {
            let mut d = got.clone();
            d.sort();
            d.dedup();
            d.len()
        },
        got[0]
    );
    c.check(
        "every client got the same server",
        got.iter().all(|p| *p == got[0]),
    );
    c.check(
        "and only one was started under the ServerSupervisor",
        servers() == 1
            && ProcessRegistry::whereis(&Key::TodoServer("Alice's list".into())) == Some(got[0]),
    );

    banner("The same race through the registry lookup (the seed's version before ETS)");
    let got = race(&c, "Carol's list", |l| {
        Cache::server_process_via_registry(l).ok().map(|s| s.pid())
    });
    println!(
        "iex> for _ <- 1..20, do: spawn(fn -> Todo.Cache.server_process(\"Carol's list\") end)"
    );
    c.check(
        "every client got the same server, and one more server runs",
        got.iter().all(|p| *p == got[0]) && servers() == 2,
    );

    banner("cache_test's on_exit: Process.exit(pid, :normal) from another process");
    let helper = spawn(move || exit(top, ExitReason::Normal));
    let m = monitor(helper);
    receive_match_timeout(Duration::from_secs(5), |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail("the helper did not end"));
    println!("iex> spawn(fn -> Process.exit(sup, :normal) end)");
    c.check(
        "the supervisor traps exits: a normal exit from a non-parent is a message, it keeps running",
        system.supervisor().count_children().is_ok() && is_alive(top),
    );
    let alice = Cache::server_process("Alice's list")
        .map(|s| s.pid())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Process.exit(sup, :normal)   # from the process that started it");
    let m = monitor(top);
    exit(top, ExitReason::Normal);
    let d = receive_match_timeout(Duration::from_secs(10), |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail("the supervisor did not stop"));
    println!("   {top} exited: {}", d.reason);
    c.check(
        "from its parent, the same signal stops the whole tree",
        d.monitor == m && d.reason == ExitReason::Normal && !is_alive(alice),
    );
    let _ = std::fs::remove_dir_all(&dir);
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
