//! Seed 002, "ETS" (and the same lists in seeds 000 and 004): the table characteristics the
//! seed enumerates, each shown and checked.
//!
//! - "ETS tables are mutable. A write will affect subsequent reads."
//! - "Multiple processes can read from or write to a table, reads and writes are concurrent."
//! - "Minimum isolation is ensured. Multiple processes can write to same row - last write wins."
//! - "Any data coming in or out is deep copied" (here: reads return owned copies).
//! - "An ETS table is connected to an 'owner process'. If the owner dies, the table is
//!   reclaimed."
//! - The four types (`:set`, `:ordered_set`, `:bag`, `:duplicate_bag`) and the three access
//!   rights (`:protected`, `:public`, `:private`).
//! - Seed 004's "Data Durability" (DETS: a disk-based ETS): `tab2file`/`file2tab`, ETS's own
//!   dump to disk, outlives the process that owned the table.
//!
//! Run with `cargo run -p examples --bin seed002_ets_tables`.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use ets::{EtsError, Options, Table, Term};
use examples::{Checker, banner};
use runtime::{Down, Task, monitor, processes, receive_match_timeout, self_pid, send, spawn};

fn show(terms: &[Term]) -> String {
    let rows: Vec<String> = terms.iter().map(Term::to_string).collect();
    format!("[{}]", rows.join(", "))
}

fn main() {
    let mut c = Checker::new("seed002_ets_tables");
    let shell = self_pid();

    banner("The four table types: the same five inserts");
    let rows: [(&str, i64); 5] = [("b", 2), ("a", 1), ("b", 2), ("b", 3), ("c", 4)];
    println!("rows: {{\"b\", 2}}, {{\"a\", 1}}, {{\"b\", 2}}, {{\"b\", 3}}, {{\"c\", 4}}");
    let mut got = Vec::new();
    for (kind, opts) in [
        ("set", Options::set()),
        ("ordered_set", Options::ordered_set()),
        ("bag", Options::bag()),
        ("duplicate_bag", Options::duplicate_bag()),
    ] {
        let t = Table::new(kind, opts).unwrap_or_else(|e| c.fail(&e.to_string()));
        for r in rows {
            t.insert(r).unwrap_or_else(|e| c.fail(&e.to_string()));
        }
        let all = if kind == "ordered_set" {
            t.tab2list().unwrap_or_default()
        } else {
            let mut v = t.tab2list().unwrap_or_default();
            v.sort();
            v
        };
        let b = t.lookup("b").unwrap_or_default();
        println!(
            "iex> :ets.new(:t, [:{kind}]) ... :ets.lookup(t, \"b\")\n{}    # {} objects",
            show(&b),
            all.len()
        );
        got.push((b.len(), all.len()));
        if kind == "ordered_set" {
            c.check(
                "ordered_set keeps rows in term order",
                all.first().and_then(|t| t.as_tuple().map(|x| x[0].clone()))
                    == Some(Term::from("a")),
            );
        }
        t.delete_table().unwrap_or_else(|e| c.fail(&e.to_string()));
    }
    c.check(
        "set/ordered_set: one row per key (last write wins); bag: distinct rows; duplicate_bag: all",
        got == vec![(1, 3), (1, 3), (2, 4), (3, 5)],
    );

    banner("Access rights: protected (the default), public, private");
    for (kind, opts) in [
        ("protected", Options::set()),
        ("public", Options::set().public()),
        ("private", Options::set().private()),
    ] {
        let t = Table::new(kind, opts).unwrap_or_else(|e| c.fail(&e.to_string()));
        t.insert(("k", 1))
            .unwrap_or_else(|e| c.fail(&e.to_string()));
        let tid = t.tid();
        let other = Task::spawn(move || {
            let t = Table::from_tid(tid).unwrap_or_else(|| panic!("no table"));
            (t.lookup("k").is_ok(), t.insert(("k", 2)).is_ok())
        })
        .join()
        .unwrap_or_else(|e| c.fail(&e.to_string()));
        println!(
            "another process on a :{kind} table: read {}, write {}",
            if other.0 { "ok" } else { "denied" },
            if other.1 { "ok" } else { "denied" }
        );
        let expected = match kind {
            "protected" => (true, false),
            "public" => (true, true),
            _ => (false, false),
        };
        c.check(&format!(":{kind} rights hold"), other == expected);
        t.delete_table().unwrap_or_else(|e| c.fail(&e.to_string()));
    }

    banner("Mutable, shared, concurrent: 4 processes x 1000 increments on one row");
    let t = Table::new("hits", Options::set().public().named_table())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    t.insert(("hits", 0))
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let start = Arc::new(Barrier::new(4));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let start = start.clone();
            Task::spawn(move || {
                let t = Table::whereis("hits").unwrap_or_else(|| panic!("no table"));
                start.wait();
                for _ in 0..1000 {
                    let _ = t.update_counter("hits", 1);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap_or_else(|e| c.fail(&e.to_string()));
    }
    let hits = t.lookup("hits").unwrap_or_default();
    println!(
        "iex> :ets.lookup(:hits, \"hits\")   # after :ets.update_counter x 4000\n{}",
        show(&hits)
    );
    c.check(
        "every write is seen by later reads, none lost",
        hits == vec![Term::from(("hits", 4000))],
    );
    let copy = t.lookup("hits").unwrap_or_default();
    t.insert(("hits", 0))
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    c.check(
        "a read is a copy: a later write does not change what was read",
        copy == vec![Term::from(("hits", 4000))],
    );
    t.delete_table().unwrap_or_else(|e| c.fail(&e.to_string()));

    banner("The owner process dies: its table is reclaimed");
    #[derive(Debug)]
    struct Made(Result<(), String>);
    let owner = spawn(move || {
        let made = Table::new("owned", Options::set().public().named_table())
            .and_then(|t| t.insert(("k", 1)))
            .map_err(|e| e.to_string());
        send(shell, Made(made));
        let _: () = runtime::receive();
    });
    let made = runtime::receive_timeout::<Made>(Duration::from_secs(5))
        .unwrap_or_else(|| c.fail("the owner did not report"));
    let t = Table::whereis("owned").unwrap_or_else(|| c.fail("no table"));
    println!(
        "iex> :ets.lookup(:owned, \"k\")   # owned by {owner}\n{}",
        show(&t.lookup("k").unwrap_or_default())
    );
    c.check("the owner created its table", made.0.is_ok());
    let m = monitor(owner);
    runtime::exit(owner, runtime::ExitReason::Kill);
    receive_match_timeout(Duration::from_secs(5), |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail("the owner did not exit"));
    let after = t.lookup("k");
    println!(
        "iex> Process.exit(owner, :kill); :ets.lookup(:owned, \"k\")\n** (ArgumentError) {}",
        after
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    c.check(
        "the table is gone with its owner",
        after == Err(EtsError::NoTable) && Table::whereis("owned").is_none(),
    );

    banner("Data durability (seed 004): tab2file / file2tab");
    let path = std::env::temp_dir().join(format!("seed002-ets-{}.tab", std::process::id()));
    let t = Table::new("game_state", Options::set().named_table())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    t.insert((
        "Morandi",
        Term::map([(Term::atom("player2"), Term::from("Hokusai"))]),
    ))
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    t.tab2file(&path).unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> :ets.tab2file(:game_state, ~c\"game_state.tab\")\n:ok");
    t.delete_table().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> :ets.delete(:game_state)   # the node restarts: memory is gone");
    let back = Table::file2tab(&path).unwrap_or_else(|e| c.fail(&e.to_string()));
    let rows = back.tab2list().unwrap_or_default();
    println!(
        "iex> :ets.file2tab(~c\"game_state.tab\"); :ets.tab2list(:game_state)\n{}",
        show(&rows)
    );
    c.check(
        "the table came back from disk, name and rows",
        rows.len() == 1 && Table::whereis("game_state").is_some(),
    );
    back.delete_table()
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let _ = std::fs::remove_file(&path);

    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
