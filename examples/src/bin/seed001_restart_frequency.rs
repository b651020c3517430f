//! Seed 001, "Restart frequency": "The supervisor will not restart a child process forever
//! since there is a max amount of tries per time period. By default the max restart frequency
//! is three restarts in 5 seconds [...] After the max restart frequency is exceeded then the
//! supervisor will terminate as well as all its children."
//!
//! Also the seed's "Why should you use a named process for a Supervised process?": after a
//! restart the old pid is invalid, and the name finds the new process.
//!
//! The crashes come one right after the other, so the fourth is well inside the 5 seconds; the
//! demo does not wait for anything. Run with
//! `cargo run -p examples --bin seed001_restart_frequency`.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, Exit, ExitReason, Pid, SpawnOpts, exit, monitor, processes, receive_match_timeout, recv,
    self_pid, trap_exit, whereis,
};
use supervisor::{ChildSpec, Supervisor, SupervisorOpts, render_tree};

const WAIT: Duration = Duration::from_secs(5);

/// A registered worker that waits for messages (the seed's to-do cache and database).
fn named_worker(name: &'static str) -> ChildSpec {
    ChildSpec::worker(name, move || {
        SpawnOpts::new()
            .link()
            .name(name)
            .spawn(|| {
                loop {
                    let _ = recv();
                }
            })
            .map(|s| s.pid)
            .map_err(|e| ExitReason::custom(e.to_string()))
    })
}

/// Kills `pid` and waits until it is gone.
fn kill(pid: Pid) {
    let m = monitor(pid);
    exit(pid, ExitReason::Kill);
    let _ = receive_match_timeout(WAIT, |d: &Down| d.monitor == m);
}

fn main() {
    runtime::set_crash_handler(|_| {});
    let mut c = Checker::new("seed001_restart_frequency");
    let before = processes().len().max(1);
    // The shell traps exits, so the supervisor giving up is a message here, not our death.
    trap_exit(true);

    banner("A supervisor with Elixir's defaults: 3 restarts in 5 seconds");
    let sup = Supervisor::start_link(
        vec![named_worker("todo_database"), named_worker("todo_cache")],
        SupervisorOpts::new(),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    let sup_pid = sup.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("iex> Supervisor.start_link([Todo.Database, Todo.Cache], strategy: :one_for_one)");
    println!("{{:ok, {sup_pid}}}");
    let d = sup.describe().unwrap_or_else(|e| c.fail(&e.to_string()));
    c.check(
        "the defaults are max_restarts: 3, max_seconds: 5",
        d.max_restarts == 3 && d.max_seconds == Duration::from_secs(5),
    );
    let database = whereis("todo_database").unwrap_or_else(|| c.fail("no database"));

    banner("Kill the cache three times: it is restarted each time, under its name");
    for n in 1..=3 {
        let old = whereis("todo_cache").unwrap_or_else(|| c.fail("no cache"));
        kill(old);
        // Asking the supervisor waits until it has handled the exit.
        let d = sup.describe().unwrap_or_else(|e| c.fail(&e.to_string()));
        let new = whereis("todo_cache");
        println!("iex> Process.exit(Process.whereis(Todo.Cache), :kill)   # crash {n}");
        println!(
            "iex> Process.whereis(Todo.Cache)\n{}",
            new.map_or(":undefined".into(), |p| p.to_string())
        );
        c.check(
            &format!("crash {n}: a new cache under the same name ({n} restart(s) in the window)"),
            new.is_some_and(|p| p != old) && d.restarts_in_window == n,
        );
        c.check(
            &format!("crash {n}: the old pid is no longer valid"),
            !runtime::is_alive(old),
        );
    }
    print!("{}", render_tree(sup_pid));

    banner("The fourth crash within 5 seconds: the supervisor gives up");
    let cache = whereis("todo_cache").unwrap_or_else(|| c.fail("no cache"));
    kill(cache);
    println!("iex> Process.exit(Process.whereis(Todo.Cache), :kill)   # crash 4");
    let e = receive_match_timeout(WAIT, |e: &Exit| e.from == sup_pid)
        .unwrap_or_else(|| c.fail("the supervisor did not stop"));
    println!("iex> flush()");
    println!("{{:EXIT, {}, :{}}}", e.from, e.reason);
    c.check(
        "the supervisor exited with :shutdown",
        e.reason == ExitReason::Shutdown && !runtime::is_alive(sup_pid),
    );
    c.check(
        "all its children were terminated as well",
        !runtime::is_alive(database)
            && whereis("todo_database").is_none()
            && whereis("todo_cache").is_none(),
    );

    banner("The frequency is an option: max_restarts and max_seconds");
    let sup = Supervisor::start_link(
        vec![named_worker("todo_cache")],
        SupervisorOpts::new()
            .max_restarts(10)
            .max_seconds(Duration::from_secs(1)),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> Supervisor.start_link([Todo.Cache], strategy: :one_for_one, max_restarts: 10, max_seconds: 1)"
    );
    for _ in 0..4 {
        let cache = whereis("todo_cache").unwrap_or_else(|| c.fail("no cache"));
        kill(cache);
        // Answered once the restart is done.
        let _ = sup.count_children();
    }
    let d = sup.describe().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> # four crashes later");
    print!("{}", render_tree(d.pid));
    c.check(
        "with max_restarts: 10 four crashes are fine",
        d.restarts_in_window == 4 && whereis("todo_cache").is_some(),
    );
    sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    let _ = receive_match_timeout(Duration::ZERO, |e: &Exit| e.from == d.pid);
    trap_exit(false);
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == self_pid()) && processes().len() <= before,
    );
    c.finish();
}
