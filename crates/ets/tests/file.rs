//! tab2file/file2tab: a table survives a round trip through a file; damaged files are refused.
//! Origin: ETS docs tab2file/2 and file2tab/1 (name, type, protection, named_table and keypos
//! are saved with the objects).

use std::path::PathBuf;

use ets::{Access, EtsError, Options, Table, TableType, Term, atom};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ets-test-{}-{name}", std::process::id()))
}

fn sorted(mut v: Vec<Term>) -> Vec<Term> {
    v.sort();
    v
}

#[test]
fn round_trip_keeps_objects_and_options() {
    let path = temp("round_trip");
    let t = Table::new(
        "saved",
        Options::bag().public().keypos(2).read_concurrency(true),
    )
    .expect("new");
    let objs = vec![
        Term::from((atom!(a), 1, "text", 2.5)),
        Term::from((atom!(b), 1, Term::list([Term::Int(-3), Term::nil()]))),
        Term::from((
            atom!(c),
            2,
            Term::map([(atom!(k), Term::binary(&[0, 255]))]),
        )),
    ];
    t.insert_many(objs.clone()).expect("insert");
    t.tab2file(&path).expect("tab2file");
    t.delete_table().expect("delete");
    let back = Table::file2tab(&path).expect("file2tab");
    let info = back.info().expect("info");
    assert_eq!(info.name.as_str(), "saved");
    assert_eq!(info.kind, TableType::Bag);
    assert_eq!(info.protection, Access::Public);
    assert_eq!(info.keypos, 2);
    assert!(info.read_concurrency);
    assert_eq!(info.owner, runtime::self_pid());
    assert_eq!(sorted(back.tab2list().expect("tab2list")), sorted(objs));
    assert_eq!(back.lookup(1).expect("lookup").len(), 2);
    back.delete_table().expect("delete");
    std::fs::remove_file(&path).expect("cleanup");
}

#[test]
fn damaged_files_are_refused() {
    let path = temp("damaged");
    let t = Table::new("to_damage", Options::ordered_set()).expect("new");
    t.insert_many((0..100).map(|i| (i, atom!(x))))
        .expect("insert");
    t.tab2file(&path).expect("tab2file");
    let good = std::fs::read(&path).expect("read");
    let mut flipped = good.clone();
    flipped[40] ^= 1;
    std::fs::write(&path, &flipped).expect("write");
    assert!(matches!(Table::file2tab(&path), Err(EtsError::BadFile(_))));
    std::fs::write(&path, &good[..good.len() / 2]).expect("write");
    assert!(matches!(Table::file2tab(&path), Err(EtsError::BadFile(_))));
    std::fs::write(&path, b"not a table").expect("write");
    assert!(matches!(Table::file2tab(&path), Err(EtsError::BadFile(_))));
    std::fs::remove_file(&path).expect("cleanup");
    assert!(matches!(Table::file2tab(&path), Err(EtsError::Io(_))));
}

#[test]
fn named_table_reload_needs_its_name_free() {
    let path = temp("named");
    let t = Table::new("named_saved", Options::set().named_table()).expect("new");
    t.insert((1,)).expect("insert");
    t.tab2file(&path).expect("tab2file");
    assert!(matches!(
        Table::file2tab(&path),
        Err(EtsError::NameTaken(_))
    ));
    t.delete_table().expect("delete");
    let back = Table::file2tab(&path).expect("file2tab");
    assert_eq!(ets::whereis("named_saved"), Some(back.tid()));
    back.delete_table().expect("delete");
    std::fs::remove_file(&path).expect("cleanup");
}

#[test]
fn pids_cannot_be_saved() {
    let path = temp("pids");
    let t = Table::new("with_pids", Options::set()).expect("new");
    t.insert((1, runtime::self_pid())).expect("insert");
    assert_eq!(t.tab2file(&path), Err(EtsError::Unserializable("pid")));
}
