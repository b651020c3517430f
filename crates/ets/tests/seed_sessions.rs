//! The seeds' IEx sessions with ETS, run against this crate.

use std::time::Duration;

use ets::{Access, EtsError, Options, Table, Term, TypedTable, any, var};
use runtime::Pid;

/// Runs `f` in a new process and returns its result.
fn in_other_process<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let me = runtime::self_pid();
    runtime::spawn(move || runtime::send(me, Box::new(f())));
    *runtime::receive_timeout::<Box<T>>(Duration::from_secs(10)).expect("the process answers")
}

fn sorted(mut v: Vec<Term>) -> Vec<Term> {
    v.sort();
    v
}

// Origin: seed 000 (notes on The Little Elixir & OTP Guidebook, ch. 6), "Understanding ETSs".
#[test]
fn tv_shows_session() {
    // iex> :ets.new(:tv_shows, [:set, :private, :named_table])
    let t = Table::new("tv_shows", Options::set().private().named_table()).expect("new");
    // iex(5)> :ets.insert(:tv_shows, {"The Flash", "Grant Gustin", 7.9})
    t.insert(("The Flash", "Grant Gustin", 7.9))
        .expect("insert");
    t.insert(("How I Met Your Mother", "Josh Radnor", 8.3))
        .expect("insert");
    t.insert(("Supergirl", "Melissa Benoist", 6.4))
        .expect("insert");
    t.insert(("Agents of S.H.I.E.L.D.", "Chloe Bennet", 7.5))
        .expect("insert");
    // iex(9)> :ets.tab2list :tv_shows (a set's order is internal: compare as sets)
    let all = vec![
        Term::from(("The Flash", "Grant Gustin", 7.9)),
        Term::from(("Agents of S.H.I.E.L.D.", "Chloe Bennet", 7.5)),
        Term::from(("Supergirl", "Melissa Benoist", 6.4)),
        Term::from(("How I Met Your Mother", "Josh Radnor", 8.3)),
    ];
    assert_eq!(sorted(t.tab2list().expect("tab2list")), sorted(all.clone()));
    // iex(10)> :ets.delete(:tv_shows, "Agents of S.H.I.E.L.D.")
    t.delete("Agents of S.H.I.E.L.D.").expect("delete");
    let rest: Vec<Term> = all
        .into_iter()
        .filter(|o| o.as_tuple().expect("tuple")[0] != Term::from("Agents of S.H.I.E.L.D."))
        .collect();
    assert_eq!(sorted(t.tab2list().expect("tab2list")), sorted(rest));
    // iex(12)> :ets.lookup(:tv_shows, "The Flash")
    assert_eq!(
        t.lookup("The Flash").expect("lookup"),
        vec![Term::from(("The Flash", "Grant Gustin", 7.9))]
    );
    // iex(13)> :ets.match(:tv_shows, {:"$1", "Grant Gustin", :"$2"})
    assert_eq!(
        t.match_((var(1), "Grant Gustin", var(2))).expect("match"),
        vec![vec![Term::from("The Flash"), Term::from(7.9)]]
    );
    // iex(15)> :ets.match(:tv_shows, {:"$2", "Grant Gustin", :"$1"})
    assert_eq!(
        t.match_((var(2), "Grant Gustin", var(1))).expect("match"),
        vec![vec![Term::from(7.9), Term::from("The Flash")]]
    );
    // iex(31)> :ets.match(:tv_shows, {:"$1", "Grant Gustin", :_})
    assert_eq!(
        t.match_((var(1), "Grant Gustin", any())).expect("match"),
        vec![vec![Term::from("The Flash")]]
    );
    // The named table is reachable by name; being private, only its owner may use it.
    let named = Table::whereis("tv_shows").expect("named table");
    let denied = in_other_process(move || named.lookup("The Flash"));
    assert_eq!(
        denied,
        Err(EtsError::AccessDenied {
            access: Access::Private,
            op: "read"
        })
    );
    t.delete_table().expect("delete table");
    assert!(Table::whereis("tv_shows").is_none());
}

// Origin: seed 002 (notes on Elixir in Action part 3), the ETS-backed to-do cache:
// :ets.new(:ets_todo_cache, [:set, :named_table, :protected]) and server_process/1.
#[test]
fn todo_cache_session() {
    let cache: TypedTable<(String, Pid)> =
        TypedTable::new("ets_todo_cache", Options::set().named_table().protected()).expect("new");
    let worker = runtime::spawn(|| {});
    // handle_call({:server_process, name}, ...): look up, else start and insert.
    let server_process = |name: &str| -> Pid {
        let cache = TypedTable::<(String, Pid)>::whereis("ets_todo_cache").expect("named");
        match cache.lookup(&name.to_string()).expect("lookup").as_slice() {
            [(_, pid)] => *pid,
            _ => {
                cache.insert((name.to_string(), worker)).expect("insert");
                worker
            }
        }
    };
    assert_eq!(server_process("bob"), worker);
    assert_eq!(server_process("bob"), worker);
    assert_eq!(cache.len().expect("len"), 1);
    // Protected: clients read the cache directly, but only the owner (the cache server) writes.
    let reader = cache.clone();
    let seen = in_other_process(move || reader.get(&"bob".to_string()));
    assert_eq!(seen, Ok(Some(("bob".to_string(), worker))));
    let writer = cache.clone();
    let denied = in_other_process(move || writer.insert(("alice".to_string(), worker)));
    assert_eq!(
        denied,
        Err(EtsError::AccessDenied {
            access: Access::Protected,
            op: "write"
        })
    );
    cache.delete_table().expect("delete table");
}

// Origin: seed 004 (notes in Japanese on supervision), the ETS summary:
// :ets.new(:table_name, [:set, :public, :named_table]) and :ets.insert(:table_name, {:key, "value"}).
#[test]
fn public_named_table_session() {
    let t = Table::new("table_name", Options::set().public().named_table()).expect("new");
    let other = in_other_process(|| {
        let t = Table::whereis("table_name").expect("named");
        t.insert((Term::atom("key"), "value"))
    });
    assert_eq!(other, Ok(()));
    assert_eq!(
        t.lookup(Term::atom("key")).expect("lookup"),
        vec![Term::tuple([Term::atom("key"), Term::from("value")])]
    );
    t.delete_table().expect("delete table");
}
