//! Ownership, heirs, give_away, names and access rights, ported from the ETS reference manual
//! (new/2 options, give_away/3, rename/2, whereis/1, all/0, delete/1) and its ownership
//! lifecycle (erts erl_db.c: owner exit hands the table to a live heir or deletes it).

use std::time::Duration;

use ets::{Access, EtsError, EtsTransfer, Options, Table, Term, TypedTable, atom, tuple};
use runtime::{Down, Pid};

const WAIT: Duration = Duration::from_secs(10);

/// A process that creates a table with `opts`, reports its id, then waits for `Stop`.
struct Stop;

fn spawn_owner(name: &'static str, opts: Options) -> (Pid, ets::Tid) {
    let me = runtime::self_pid();
    let pid = runtime::spawn(move || {
        let t = Table::new(name, opts).expect("new");
        t.insert((atom!(k), 1)).expect("insert");
        runtime::send(me, t.tid());
        runtime::receive::<Stop>();
    });
    let tid = runtime::receive_timeout::<ets::Tid>(WAIT).expect("the owner reports");
    (pid, tid)
}

/// Stops a process and waits until it is gone (its exit hooks have run by then).
fn stop(pid: Pid) {
    let m = runtime::monitor(pid);
    runtime::send(pid, Stop);
    let down = runtime::receive_timeout::<Down>(WAIT).expect("down");
    assert_eq!(down.monitor, m);
}

/// Runs `f` in a new process and returns its result.
fn in_other_process<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let me = runtime::self_pid();
    runtime::spawn(move || runtime::send(me, Box::new(f())));
    *runtime::receive_timeout::<Box<T>>(WAIT).expect("the process answers")
}

// Origin: ETS docs moduledoc: "a table lives until its owner dies"; the name is freed.
#[test]
fn owner_death_deletes_the_table() {
    let (owner, tid) = spawn_owner("doomed", Options::set().public().named_table());
    let t = Table::from_tid(tid).expect("live");
    assert_eq!(t.info().expect("info").owner, owner);
    assert_eq!(ets::whereis("doomed"), Some(tid));
    stop(owner);
    assert!(Table::from_tid(tid).is_none());
    assert_eq!(ets::whereis("doomed"), None);
    assert!(!ets::all().contains(&tid));
    assert_eq!(t.lookup(atom!(k)), Err(EtsError::NoTable));
    assert_eq!(t.info(), Err(EtsError::NoTable));
}

// Origin: ETS docs new/2 {heir, Pid, HeirData}: the heir inherits the table and is sent
// {'ETS-TRANSFER', Tid, FromPid, HeirData}.
#[test]
fn heir_inherits_the_table() {
    let me = runtime::self_pid();
    let (owner, tid) = spawn_owner("inherited", Options::set().heir(me, "please"));
    stop(owner);
    let msg = runtime::receive_timeout::<EtsTransfer>(WAIT).expect("transfer message");
    assert_eq!(
        msg,
        EtsTransfer {
            table: tid,
            from: owner,
            heir_data: Term::from("please")
        }
    );
    let t = Table::from_tid(tid).expect("still alive");
    assert_eq!(t.info().expect("info").owner, me);
    // The heir is the owner now: it may write the protected table.
    t.insert((atom!(mine), 2)).expect("insert");
    assert_eq!(
        t.lookup(atom!(k)).expect("lookup"),
        vec![tuple!(atom!(k), 1)]
    );
    t.delete_table().expect("delete");
}

// Origin: erts erl_db.c give_away_to_heir: a dead heir means the table is deleted.
#[test]
fn dead_heir_means_deletion() {
    let heir = runtime::spawn(|| {});
    let m = runtime::monitor(heir);
    runtime::receive_timeout::<Down>(WAIT).expect("heir gone");
    let _ = m;
    let (owner, tid) = spawn_owner("orphan", Options::set().heir(heir, 0));
    stop(owner);
    assert!(Table::from_tid(tid).is_none());
}

// Origin: ETS docs give_away/3: only the owner may give the table away, to a live process
// other than itself; the receiver gets an 'ETS-TRANSFER' message; the heir is unchanged.
#[test]
fn give_away() {
    let me = runtime::self_pid();
    let t = Table::new("gift", Options::set()).expect("new");
    let receiver = runtime::spawn(move || {
        let msg = runtime::receive::<EtsTransfer>();
        let t = Table::from_tid(msg.table).expect("table");
        t.insert((atom!(from), msg.from))
            .expect("the new owner writes");
        runtime::send(me, msg.heir_data);
        runtime::receive::<Stop>();
    });
    assert_eq!(t.give_away(me, 0), Err(EtsError::AlreadyOwner(me)));
    t.give_away(receiver, "data").expect("give_away");
    assert_eq!(
        runtime::receive_timeout::<Term>(WAIT),
        Some(Term::from("data"))
    );
    assert_eq!(t.info().expect("info").owner, receiver);
    assert_eq!(
        t.lookup(atom!(from)).expect("lookup"),
        vec![tuple!(atom!(from), me)]
    );
    // The old owner lost its rights on the protected table.
    assert!(matches!(
        t.insert((atom!(x), 1)),
        Err(EtsError::AccessDenied { .. })
    ));
    assert!(matches!(
        t.give_away(me, 0),
        Err(EtsError::AccessDenied { .. })
    ));
    // The new owner's death deletes it (the old owner's hook no longer applies).
    stop(receiver);
    assert!(Table::from_tid(t.tid()).is_none());
}

#[test]
fn give_away_to_a_dead_process_fails() {
    let dead = runtime::spawn(|| {});
    runtime::monitor(dead);
    runtime::receive_timeout::<Down>(WAIT).expect("gone");
    let t = Table::new("kept", Options::set()).expect("new");
    assert_eq!(t.give_away(dead, 0), Err(EtsError::NoProc(dead)));
    assert_eq!(t.info().expect("info").owner, runtime::self_pid());
    t.delete_table().expect("delete");
}

// Origin: ETS docs new/2 access table: public (anyone reads and writes), protected (anyone
// reads, the owner writes), private (only the owner).
#[test]
fn access_rights_are_checked_against_the_caller() {
    for (access, read_ok, write_ok) in [
        (Access::Public, true, true),
        (Access::Protected, true, false),
        (Access::Private, false, false),
    ] {
        let t = Table::new("rights", Options::set().access(access)).expect("new");
        t.insert((atom!(k), 1)).expect("the owner always writes");
        let t2 = t.clone();
        let (read, write, delete) = in_other_process(move || {
            (
                t2.lookup(atom!(k)),
                t2.insert((atom!(k), 2)),
                t2.delete_table(),
            )
        });
        assert_eq!(read.is_ok(), read_ok, "{access:?} read");
        assert_eq!(write.is_ok(), write_ok, "{access:?} write");
        assert_eq!(delete.is_ok(), write_ok, "{access:?} delete");
        if !write_ok {
            assert_eq!(
                write,
                Err(EtsError::AccessDenied {
                    access,
                    op: "write"
                })
            );
            t.delete_table().expect("delete");
        }
    }
}

// Origin: ETS docs rename/2 and whereis/1: the old name stops working; a tid of a deleted
// table stays invalid even if its name is reused.
#[test]
fn names_rename_whereis_and_reuse() {
    let t = Table::new("first_name", Options::set().named_table()).expect("new");
    assert_eq!(
        Table::new("first_name", Options::set().named_table()).err(),
        Some(EtsError::NameTaken(ets::Atom::new("first_name")))
    );
    t.rename("second_name").expect("rename");
    assert_eq!(ets::whereis("first_name"), None);
    assert_eq!(ets::whereis("second_name"), Some(t.tid()));
    assert_eq!(t.info().expect("info").name.as_str(), "second_name");
    let old = t.tid();
    t.delete_table().expect("delete");
    let again =
        Table::new("second_name", Options::set().named_table()).expect("name is free again");
    assert_ne!(again.tid(), old);
    assert!(Table::from_tid(old).is_none());
    // Unnamed tables may share a name and are not found by it.
    let a = Table::new("anon", Options::set()).expect("new");
    let b = Table::new("anon", Options::set()).expect("new");
    assert!(ets::whereis("anon").is_none());
    assert!(ets::all().contains(&a.tid()) && ets::all().contains(&b.tid()));
    for t in [again, a, b] {
        t.delete_table().expect("delete");
    }
}

// Origin: ETS docs info/1.
#[test]
fn info_reports_the_table() {
    let t = Table::new("described", Options::bag().public().keypos(2)).expect("new");
    t.insert_many([(atom!(x), 1), (atom!(y), 1)])
        .expect("insert");
    let i = t.info().expect("info");
    assert_eq!(i.kind, ets::TableType::Bag);
    assert_eq!(i.protection, Access::Public);
    assert_eq!(i.keypos, 2);
    assert_eq!(i.size, 2);
    assert_eq!(i.owner, runtime::self_pid());
    assert!(!i.named_table);
    assert!(i.memory > 0);
    assert_eq!(ets::info(t.tid()), Some(i));
    t.delete_table().expect("delete");
}

// Origin: ETS docs setopts/2: the heir is the one settable option, owner only.
#[test]
fn set_heir() {
    let me = runtime::self_pid();
    let owner = runtime::spawn(move || {
        let t = Table::new("late_heir", Options::set().public()).expect("new");
        runtime::send(me, t.tid());
        let heir = runtime::receive::<Pid>();
        runtime::send(me, t.set_heir(Some((heir, Term::atom("late")))));
        runtime::receive::<Stop>();
    });
    let tid = runtime::receive_timeout::<ets::Tid>(WAIT).expect("tid");
    let t = Table::from_tid(tid).expect("live");
    assert!(matches!(
        t.set_heir(Some((me, Term::Int(1)))),
        Err(EtsError::AccessDenied { .. })
    ));
    runtime::send(owner, me);
    assert_eq!(
        runtime::receive_timeout::<Result<(), EtsError>>(WAIT),
        Some(Ok(()))
    );
    assert_eq!(t.info().expect("info").heir, Some(me));
    stop(owner);
    let msg = runtime::receive_timeout::<EtsTransfer>(WAIT).expect("transfer");
    assert_eq!((msg.table, msg.heir_data), (tid, Term::atom("late")));
    t.delete_table().expect("delete");
}

// Typed tables share ownership rules.
#[test]
fn typed_tables_follow_the_owner() {
    let me = runtime::self_pid();
    let owner = runtime::spawn(move || {
        let t: TypedTable<(u32, String)> =
            TypedTable::new("typed_owned", Options::set().heir(me, atom!(yours))).expect("new");
        t.insert((1, "one".into())).expect("insert");
        runtime::receive::<Stop>();
    });
    let m = runtime::monitor(owner);
    runtime::send(owner, Stop);
    let down = runtime::receive_timeout::<Down>(WAIT).expect("down");
    assert_eq!(down.monitor, m);
    let msg = runtime::receive_timeout::<EtsTransfer>(WAIT).expect("transfer");
    assert_eq!(msg.heir_data, atom!(yours));
    let t = TypedTable::<(u32, String)>::from_tid(msg.table).expect("typed table");
    assert_eq!(t.get(&1).expect("get"), Some((1, "one".to_string())));
    assert!(Table::from_tid(msg.table).is_none(), "not a Term table");
    t.delete_table().expect("delete");
}
