//! Seed 002, "Elixir in Action - Part 3": the to-do system's supervision tree. Start it, get
//! Bob's list, kill its server and get it again (a temporary child, started again on demand,
//! its data loaded from disk); then kill the process registry, the error kernel, and get the
//! list again: the `rest_for_one` top supervisor restarts everything started after the
//! registry, and the system works. Each step prints an IEx-like line, the pids, and the tree.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{Down, ExitReason, Pid, exit, monitor, receive_match};
use supervisor::{ChildPid, Supervisor, render_tree};
use todo::{Cache, Config, Key, ProcessRegistry, SYSTEM_SUPERVISOR_NAME, TodoSystem};

/// Kills `pid` and waits for its death.
fn kill(pid: Pid) {
    let m = monitor(pid);
    exit(pid, ExitReason::Kill);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
}

fn child(sup: &Supervisor, id: &str) -> Option<Pid> {
    sup.which_children()
        .ok()?
        .into_iter()
        .find(|c| c.id.as_deref() == Some(id))
        .and_then(|c| match c.pid {
            ChildPid::Pid(p) => Some(p),
            _ => None,
        })
}

fn main() {
    let mut c = Checker::new("seed002_todo");
    let dir = std::env::temp_dir().join(format!("seed002-todo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config {
        data_dir: dir.clone(),
        port: None,
        idle_timeout: Duration::from_secs(60),
        db_workers: 3,
    };
    let dentist = "2018-12-19"
        .parse()
        .unwrap_or_else(|e| c.fail(&format!("{e}")));

    banner("Todo.Supervisor.start_link");
    println!("iex> Todo.Supervisor.start_link");
    let system = match TodoSystem::start_link(config) {
        Ok(s) => s,
        Err(e) => c.fail(&format!("the system did not start: {e}")),
    };
    let Some(top) = system.pid() else {
        c.fail("the top supervisor has no pid")
    };
    print!("{}", render_tree(top));
    let registry = ProcessRegistry::pid();
    let cache = Cache::pid();
    let system_sup = Supervisor::named(SYSTEM_SUPERVISOR_NAME).pid();
    c.check(
        "the registry, the system supervisor and the cache run",
        registry.is_some() && cache.is_some() && system_sup.is_some(),
    );

    banner("bobs_list = Todo.Cache.server_process(\"Bob's list\")");
    let bobs_list = match Cache::server_process("Bob's list") {
        Ok(s) => s,
        Err(e) => c.fail(&format!("no server for Bob's list: {e}")),
    };
    println!("iex> bobs_list = Todo.Cache.server_process(\"Bob's list\")");
    println!("{}", bobs_list.pid());
    println!(
        "iex> Todo.Server.add_entry(bobs_list, %{{date: ~D[2018-12-19], title: \"Dentist\"}})"
    );
    let added = bobs_list.add_entry(dentist, "Dentist");
    println!("{added:?}");
    c.check("the entry is acknowledged (durable)", added == Ok(1));
    c.check(
        "the server registered itself as {:todo_server, \"Bob's list\"}",
        ProcessRegistry::whereis(&Key::TodoServer("Bob's list".into())) == Some(bobs_list.pid()),
    );
    c.check(
        "asking again gives the same server",
        Cache::server_process("Bob's list").map(|s| s.pid()) == Ok(bobs_list.pid()),
    );

    banner("Process.exit(bobs_list, :kill); Todo.Cache.server_process(\"Bob's list\")");
    println!("iex> Process.exit(bobs_list, :kill)");
    kill(bobs_list.pid());
    println!("true");
    let again = match Cache::server_process("Bob's list") {
        Ok(s) => s,
        Err(e) => c.fail(&format!("Bob's list is gone: {e}")),
    };
    println!("iex> Todo.Cache.server_process(\"Bob's list\")");
    println!("{}   (was {})", again.pid(), bobs_list.pid());
    c.check(
        "a new server, started on demand by the dynamic supervisor",
        again.pid() != bobs_list.pid(),
    );
    let entries = again.entries(dentist).unwrap_or_default();
    println!("iex> Todo.Server.entries(bobs_list, ~D[2018-12-19])");
    println!("{:?}", entries.iter().map(|e| &e.title).collect::<Vec<_>>());
    c.check(
        "it loaded the list from disk: the entry is there",
        entries.len() == 1 && entries[0].title == "Dentist",
    );
    c.check(
        "nothing else restarted (the server is a temporary child)",
        ProcessRegistry::pid() == registry && Cache::pid() == cache,
    );

    banner("Process.whereis(:todo_process_registry) |> Process.exit(:kill)");
    let Some(old_registry) = registry else {
        c.fail("no registry")
    };
    let old_db = ProcessRegistry::whereis(&Key::DatabaseWorker(1));
    println!("iex> Process.whereis(:todo_process_registry) |> Process.exit(:kill)");
    kill(old_registry);
    println!("true");
    // Asking the top supervisor waits until it has handled the registry's exit.
    let children = system.supervisor().which_children().unwrap_or_default();
    c.check(
        "the top supervisor still has its two children",
        children.len() == 2,
    );
    let after = match Cache::server_process("Bob's list") {
        Ok(s) => s,
        Err(e) => c.fail(&format!(
            "the system does not work after the registry died: {e}"
        )),
    };
    println!("iex> Todo.Cache.server_process(\"Bob's list\")");
    println!("{}   (was {})", after.pid(), again.pid());
    print!("{}", render_tree(top));
    println!(
        "registry {old_registry} -> {}, cache {} -> {}, system supervisor {} -> {}, database worker 1 {} -> {}",
        show(ProcessRegistry::pid()),
        show(cache),
        show(Cache::pid()),
        show(system_sup),
        show(Supervisor::named(SYSTEM_SUPERVISOR_NAME).pid()),
        show(old_db),
        show(ProcessRegistry::whereis(&Key::DatabaseWorker(1))),
    );
    c.check(
        "rest_for_one: a new registry, and everything after it restarted",
        ProcessRegistry::pid().is_some_and(|p| p != old_registry)
            && Cache::pid().is_some_and(|p| Some(p) != cache)
            && Supervisor::named(SYSTEM_SUPERVISOR_NAME).pid() != system_sup
            && ProcessRegistry::whereis(&Key::DatabaseWorker(1)).is_some_and(|p| Some(p) != old_db),
    );
    c.check(
        "the new registry knows the new processes (no stale pids)",
        ProcessRegistry::whereis(&Key::TodoServer("Bob's list".into())) == Some(after.pid()),
    );
    let entries = after.entries(dentist).unwrap_or_default();
    c.check(
        "Bob's list is served again, with its entry",
        after.pid() != again.pid() && entries.len() == 1,
    );
    c.check(
        "the top supervisor itself did not restart",
        system.pid() == Some(top) && child(system.supervisor(), "process_registry").is_some(),
    );

    banner("Todo.Supervisor stop");
    let stopped = system.stop();
    let _ = std::fs::remove_dir_all(&dir);
    c.check("the system stops cleanly", stopped.is_ok());
    c.finish();
}

fn show(p: Option<Pid>) -> String {
    p.map_or_else(|| "none".to_owned(), |p| p.to_string())
}
