//! Ports of the book's test suites (sasa1977/elixir-in-action, `todo_release/test`):
//! `list_test.exs`, `cache_test.exs`, plus seed 002's two IEx recovery sessions.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected error

mod common;

use common::{date, exclusive, start};
use runtime::{Down, ExitReason, exit, monitor, receive_match};
use todo::{Cache, Database, Key, ProcessRegistry, TodoList};

#[test]
fn list_empty_add_entries_update_delete() {
    // list_test.exs: "empty list", "entries", "add_entry", "update_entry", "delete_entry".
    let mut l = TodoList::new();
    assert_eq!(l.size(), 0);
    l.add_entry(date("2018-12-19"), "Dentist");
    l.add_entry(date("2018-12-20"), "Shopping");
    l.add_entry(date("2018-12-19"), "Movies");
    assert_eq!(l.size(), 3);
    let titles: Vec<String> = l
        .entries(date("2018-12-19"))
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert_eq!(titles, ["Dentist", "Movies"]);
    assert!(l.entries(date("2018-12-18")).is_empty());
    assert!(l.update_entry(1, |e| e.title = "Updated dentist".into()));
    assert!(!l.update_entry(42, |e| e.title = "nothing".into()));
    assert_eq!(l.entries(date("2018-12-19"))[0].title, "Updated dentist");
    assert!(l.delete_entry(2));
    assert!(!l.delete_entry(2));
    assert_eq!(l.size(), 2);
    assert_eq!(
        l.add_entry(date("2018-12-19"), "again"),
        4,
        "ids are never reused"
    );
}

#[test]
fn cache_same_name_same_server_and_operations() {
    // cache_test.exs: "server_process" (same name gives the same pid, another name another)
    // and "to-do operations".
    let _x = exclusive();
    let dir = common::data_dir("cache");
    let system = start(&dir);
    let bob = Cache::server_process("bob").unwrap();
    assert_eq!(Cache::server_process("bob").unwrap().pid(), bob.pid());
    assert_ne!(Cache::server_process("alice").unwrap().pid(), bob.pid());
    let jane = Cache::server_process("jane").unwrap();
    jane.add_entry(date("2018-12-19"), "Dentist").unwrap();
    let entries = jane.entries(date("2018-12-19")).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "Dentist");
    system.stop().unwrap();
}

#[test]
fn persistence_survives_killing_the_server() {
    // cache_test.exs "persistence": a list survives Process.exit(pid, :kill) of its server.
    let _x = exclusive();
    let dir = common::data_dir("persist");
    let system = start(&dir);
    let john = Cache::server_process("john").unwrap();
    john.add_entry(date("2018-12-20"), "Shopping").unwrap();
    assert_eq!(john.entries(date("2018-12-20")).unwrap().len(), 1);
    let old = john.pid();
    let m = monitor(old);
    exit(old, ExitReason::Kill);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
    let again = Cache::server_process("john").unwrap();
    assert_ne!(again.pid(), old);
    let entries = again.entries(date("2018-12-20")).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "Shopping");
    system.stop().unwrap();
}

#[test]
fn seed_002_kill_bobs_list_then_the_registry() {
    // Seed 002: "Process.exit(bobs_list, :kill); Todo.Cache.server_process(\"Bob's list\")",
    // then "Process.whereis(:todo_process_registry) |> Process.exit(:kill)" and ask again:
    // with the rest_for_one tree everything after the registry restarts and Bob's list is
    // served again from disk.
    let _x = exclusive();
    let dir = common::data_dir("seed002");
    let system = start(&dir);
    let bobs_list = Cache::server_process("Bob's list").unwrap();
    bobs_list.add_entry(date("2018-12-19"), "Dentist").unwrap();
    exit(bobs_list.pid(), ExitReason::Kill);
    let again = Cache::server_process("Bob's list").unwrap();
    assert_ne!(again.pid(), bobs_list.pid());
    assert_eq!(
        again.entries(date("2018-12-19")).unwrap()[0].title,
        "Dentist"
    );

    let registry = ProcessRegistry::pid().unwrap();
    let cache = Cache::pid().unwrap();
    let m = monitor(cache);
    exit(registry, ExitReason::Kill);
    // rest_for_one: the system supervisor (and so the cache) is restarted too.
    let d: Down = receive_match(|d: &Down| d.monitor == m);
    assert_eq!(d.reason, ExitReason::Shutdown);
    // The restart happens in the top supervisor; ask it (which waits until it is done).
    let children = system.supervisor().which_children().unwrap();
    assert_eq!(children.len(), 2);
    assert_ne!(ProcessRegistry::pid(), Some(registry));
    let after = Cache::server_process("Bob's list").unwrap();
    assert_ne!(after.pid(), again.pid());
    assert_eq!(
        after.entries(date("2018-12-19")).unwrap()[0].title,
        "Dentist"
    );
    assert_eq!(
        ProcessRegistry::whereis(&Key::TodoServer("Bob's list".into())),
        Some(after.pid())
    );
    system.stop().unwrap();
}

#[test]
fn lists_survive_a_restart_of_the_whole_program() {
    let _x = exclusive();
    let dir = common::data_dir("restart");
    let system = start(&dir);
    for i in 0..20 {
        let s = Cache::server_process(&format!("list {i}")).unwrap();
        for k in 0..5 {
            s.add_entry(date("2018-12-19"), format!("entry {k}"))
                .unwrap();
        }
    }
    system.stop().unwrap();
    assert_eq!(Database::stored_lists(&dir).unwrap().len(), 20);
    let system = start(&dir);
    for i in 0..20 {
        let s = Cache::server_process(&format!("list {i}")).unwrap();
        assert_eq!(s.entries(date("2018-12-19")).unwrap().len(), 5);
    }
    system.stop().unwrap();
}

#[test]
fn two_clients_asking_for_a_new_list_get_one_server() {
    // Seed 002: "two clients ask for the same list at the same time: only one process".
    let _x = exclusive();
    let dir = common::data_dir("race");
    let system = start(&dir);
    for round in 0..20 {
        let name = format!("race {round}");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let n = name.clone();
                runtime::Task::spawn(move || Cache::server_process(&n).map(|s| s.pid()))
            })
            .collect();
        let pids: Vec<_> = tasks
            .into_iter()
            .map(|t| t.join().unwrap().unwrap())
            .collect();
        assert!(
            pids.windows(2).all(|w| w[0] == w[1]),
            "round {round}: {pids:?}"
        );
    }
    system.stop().unwrap();
}

#[test]
fn reads_come_from_the_lists_table_again_after_the_cache_restarts() {
    // Not in the book: GET /entries reads the lists table (owned by the cache) without a
    // message. When the cache restarts, the table is new and empty; the next read of a list
    // goes through its server, which publishes the list again.
    use std::sync::Arc;
    let _x = exclusive();
    let dir = common::data_dir("lists-table");
    let system = start(&dir);
    let row = |name: &str| {
        ets::TypedTable::<(String, runtime::Pid, Arc<TodoList>)>::whereis(todo::LISTS_TABLE)
            .and_then(|t| t.get(&name.to_owned()).ok().flatten())
    };
    let s = Cache::server_process("r").unwrap();
    s.add_entry(date("2018-12-19"), "Dentist").unwrap();
    assert_eq!(
        row("r").map(|r| r.2.size()),
        Some(1),
        "published once durable"
    );

    let cache = Cache::pid().unwrap();
    let m = monitor(cache);
    exit(cache, ExitReason::Kill);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
    let _ = supervisor::Supervisor::named(todo::SYSTEM_SUPERVISOR_NAME).which_children();
    assert_ne!(Cache::pid(), Some(cache));
    assert!(row("r").is_none(), "a new, empty table");

    let entries = Cache::entries("r", date("2018-12-19")).unwrap();
    assert_eq!(entries[0].title, "Dentist");
    assert_eq!(row("r").map(|r| (r.1, r.2.size())), Some((s.pid(), 1)));
    system.stop().unwrap();
}
