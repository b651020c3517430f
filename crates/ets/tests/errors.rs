//! Bad input gives a typed error, never a panic: ETS's `badarg` cases from the reference
//! manual ("Failures"), split by cause.

use ets::{EtsError, Options, Table, TableType, Term, atom, tuple, var};

fn table() -> Table {
    Table::new("errors", Options::set()).expect("new")
}

#[test]
fn objects_must_be_tuples_holding_the_key() {
    let t = table();
    assert_eq!(
        t.insert(Term::Int(5)),
        Err(EtsError::NotATuple(Term::Int(5)))
    );
    assert_eq!(
        t.insert(Term::tuple([])),
        Err(EtsError::TooShort {
            arity: 0,
            keypos: 1
        })
    );
    let k3 = Table::new("keypos3", Options::set().keypos(3)).expect("new");
    assert_eq!(
        k3.insert((1, 2)),
        Err(EtsError::TooShort {
            arity: 2,
            keypos: 3
        })
    );
    assert_eq!(
        Table::new("keypos0", Options::set().keypos(0)).err(),
        Some(EtsError::BadKeypos(0))
    );
}

#[test]
fn a_bad_object_in_a_list_inserts_nothing() {
    let t = table();
    assert_eq!(
        t.insert_many([tuple!(1), tuple!(2), Term::Int(3)]),
        Err(EtsError::NotATuple(Term::Int(3)))
    );
    assert_eq!(t.len(), Ok(0));
    assert_eq!(
        t.insert_new_many([tuple!(1), Term::nil()]),
        Err(EtsError::NotATuple(Term::nil()))
    );
    assert_eq!(t.len(), Ok(0));
}

#[test]
fn floats_must_be_finite() {
    let t = table();
    assert_eq!(t.insert((1, f64::NAN)), Err(EtsError::NonFiniteFloat));
    assert_eq!(t.insert((f64::INFINITY, 1)), Err(EtsError::NonFiniteFloat));
    t.insert((1, 2)).expect("insert");
    assert_eq!(
        t.update_element(1, &[(2, Term::Float(f64::NEG_INFINITY))]),
        Err(EtsError::NonFiniteFloat)
    );
}

#[test]
fn a_deleted_table_is_gone_for_every_operation() {
    let t = table();
    t.delete_table().expect("delete");
    assert_eq!(t.insert((1,)), Err(EtsError::NoTable));
    assert_eq!(t.lookup(1), Err(EtsError::NoTable));
    assert_eq!(t.select(Term::nil()), Err(EtsError::NoTable));
    assert_eq!(t.first(), Err(EtsError::NoTable));
    assert_eq!(t.delete_table(), Err(EtsError::NoTable));
    assert_eq!(t.rename("x"), Err(EtsError::NoTable));
    assert_eq!(t.give_away(runtime::self_pid(), 0), Err(EtsError::NoTable));
    assert_eq!(t.foldl(0, |a, _| a), Err(EtsError::NoTable));
}

#[test]
fn bad_patterns() {
    let t = table();
    t.insert((1, 2)).expect("insert");
    assert!(matches!(
        t.match_(Term::Int(5)),
        Err(EtsError::BadPattern(_))
    ));
    assert!(matches!(
        t.match_object(Term::from("x")),
        Err(EtsError::BadPattern(_))
    ));
    // An atom that only looks like a variable is a constant.
    assert_eq!(t.match_((atom!("$x"), var(1))), Ok(vec![]));
}

#[test]
fn bad_match_specs() {
    let t = table();
    let bad = |ms: Term| matches!(t.select(ms), Err(EtsError::BadMatchSpec(_)));
    assert!(bad(Term::Int(1)), "not a list");
    assert!(bad(Term::list([Term::Int(1)])), "clause not a tuple");
    assert!(
        bad(Term::list([tuple!(var(1), Term::nil())])),
        "clause of two elements"
    );
    assert!(
        bad(Term::list([tuple!(var(1), Term::nil(), Term::nil())])),
        "empty body"
    );
    assert!(
        bad(Term::list([tuple!(var(1), atom!(x), Term::list([var(1)]))])),
        "guards not a list"
    );
    assert!(
        bad(Term::list([tuple!(
            Term::Int(3),
            Term::nil(),
            Term::list([var(1)])
        )])),
        "head"
    );
    assert!(
        bad(Term::list([tuple!(
            var(1),
            Term::nil(),
            Term::list([var(2)])
        )])),
        "unbound var"
    );
    assert!(
        bad(Term::list([tuple!(
            var(1),
            Term::list([tuple!(atom!(no_such_fun), var(1))]),
            Term::list([var(1)])
        )])),
        "unknown function"
    );
    assert!(
        bad(Term::list([tuple!(
            var(1),
            Term::nil(),
            Term::list([tuple!(1, 2)])
        )])),
        "a bare tuple in a body"
    );
}

#[test]
fn bad_positions_and_wrong_types() {
    let t = table();
    t.insert((1, 2)).expect("insert");
    assert_eq!(
        t.lookup_element(1, 0),
        Err(EtsError::BadPosition { pos: 0, arity: 2 })
    );
    assert_eq!(
        t.update_element(1, &[(0, Term::Int(1))]),
        Err(EtsError::BadPosition { pos: 0, arity: 2 })
    );
    let bag = Table::new("bag_errors", Options::bag()).expect("new");
    assert_eq!(
        bag.update_element(1, &[(2, Term::Int(1))]),
        Err(EtsError::WrongType(TableType::Bag))
    );
}

#[test]
fn traversal_from_a_missing_key_in_a_hash_table() {
    let t = table();
    t.insert((1,)).expect("insert");
    assert_eq!(t.next(99), Err(EtsError::TraversalKeyGone));
    let o = Table::new("ordered_errors", Options::ordered_set()).expect("new");
    o.insert((1,)).expect("insert");
    assert_eq!(
        o.next(0),
        Ok(Some(Term::Int(1))),
        "ordered_set accepts any key"
    );
}

#[test]
fn typed_tables_reject_a_key_position() {
    let r = ets::TypedTable::<(u8, u8)>::new("typed_keypos", Options::set().keypos(2));
    assert_eq!(r.err(), Some(EtsError::BadKeypos(2)));
}
