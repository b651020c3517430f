//! The four table types' semantics, ported from the ETS reference manual (stdlib `ets`) and
//! the OTP issues named on each test.

use ets::{EtsError, Options, Table, TableType, Term, atom, tuple};

fn table(kind: TableType) -> Table {
    Table::new("types", Options::new().kind(kind).public()).expect("new")
}

// Origin: ETS docs, insert/2 ("bag: skipped if the whole object matches; duplicate_bag:
// always added") and the moduledoc on table types.
#[test]
fn bag_skips_identical_objects_duplicate_bag_keeps_copies() {
    let bag = table(TableType::Bag);
    let dbag = table(TableType::DuplicateBag);
    for t in [&bag, &dbag] {
        t.insert((atom!(a), 1)).expect("insert");
        t.insert((atom!(a), 1)).expect("insert");
        t.insert((atom!(a), 2)).expect("insert");
    }
    assert_eq!(
        bag.lookup(atom!(a)).expect("lookup"),
        vec![tuple!(atom!(a), 1), tuple!(atom!(a), 2)]
    );
    assert_eq!(
        dbag.lookup(atom!(a)).expect("lookup"),
        vec![
            tuple!(atom!(a), 1),
            tuple!(atom!(a), 1),
            tuple!(atom!(a), 2)
        ]
    );
    assert_eq!(bag.len().expect("len"), 2);
    assert_eq!(dbag.len().expect("len"), 3);
}

// Origin: erlang/otp issue #6730 (fixed by PR #6752): bags keep list insertion order.
#[test]
fn bag_list_insert_keeps_list_order() {
    for kind in [TableType::Bag, TableType::DuplicateBag] {
        let t = table(kind);
        t.insert_many([(atom!(a), 1), (atom!(a), 2), (atom!(a), 3)])
            .expect("insert");
        assert_eq!(
            t.lookup(atom!(a)).expect("lookup"),
            vec![
                tuple!(atom!(a), 1),
                tuple!(atom!(a), 2),
                tuple!(atom!(a), 3)
            ]
        );
    }
}

// Origin: ETS docs moduledoc: "1 and 1.0 are two keys in a set and one key in an ordered_set;
// lookup(T, 1.0) in an ordered_set returns the object stored under 1".
#[test]
fn integer_and_float_keys() {
    let set = table(TableType::Set);
    set.insert((1, atom!(int))).expect("insert");
    set.insert((1.0, atom!(float))).expect("insert");
    assert_eq!(set.len().expect("len"), 2);
    assert_eq!(
        set.lookup(1.0).expect("lookup"),
        vec![tuple!(1.0, atom!(float))]
    );

    let ord = table(TableType::OrderedSet);
    ord.insert((1, atom!(int))).expect("insert");
    assert_eq!(
        ord.lookup(1.0).expect("lookup"),
        vec![tuple!(1, atom!(int))]
    );
    ord.insert((1.0, atom!(float))).expect("insert");
    assert_eq!(ord.len().expect("len"), 1);
    // The newer object replaces the older one, key included.
    assert_eq!(ord.first().expect("first"), Some(Term::Float(1.0)));
    assert!(ord.member(1).expect("member"));
}

// Origin: ETS docs, ordered_set: objects are kept in Erlang term order.
#[test]
fn ordered_set_is_in_term_order() {
    let t = table(TableType::OrderedSet);
    let keys = [
        Term::from("bin"),
        Term::list([Term::Int(1)]),
        Term::nil(),
        Term::tuple([Term::Int(1), Term::Int(2)]),
        Term::tuple([Term::Int(9)]),
        atom!(b),
        atom!(a),
        Term::Float(2.5),
        Term::Int(3),
        Term::Int(-7),
    ];
    for k in &keys {
        t.insert((k.clone(), 0)).expect("insert");
    }
    let got: Vec<Term> = t
        .tab2list()
        .expect("tab2list")
        .into_iter()
        .map(|o| o.as_tuple().expect("tuple")[0].clone())
        .collect();
    let want = vec![
        Term::Int(-7),
        Term::Float(2.5),
        Term::Int(3),
        atom!(a),
        atom!(b),
        Term::tuple([Term::Int(9)]),
        Term::tuple([Term::Int(1), Term::Int(2)]),
        Term::nil(),
        Term::list([Term::Int(1)]),
        Term::from("bin"),
    ];
    assert_eq!(got, want);
}

// Origin: ETS docs, insert_new/2: "returns false, and changes nothing, if any key is present";
// the list is checked in full first.
#[test]
fn insert_new_with_a_list_is_all_or_nothing() {
    for kind in [
        TableType::Set,
        TableType::OrderedSet,
        TableType::Bag,
        TableType::DuplicateBag,
    ] {
        let t = table(kind);
        t.insert((2, atom!(old))).expect("insert");
        assert!(
            !t.insert_new_many([(1, atom!(x)), (2, atom!(y)), (3, atom!(z))])
                .expect("insert_new")
        );
        assert_eq!(t.len().expect("len"), 1, "{kind:?}");
        assert!(
            t.insert_new_many([(1, atom!(x)), (3, atom!(z))])
                .expect("insert_new")
        );
        assert_eq!(t.len().expect("len"), 3);
        assert!(!t.insert_new((1, atom!(again))).expect("insert_new"));
    }
}

// Origin: ETS docs, delete_object/2: "in a duplicate_bag all copies go"; other objects with
// the key stay.
#[test]
fn delete_object_removes_exact_objects_only() {
    let t = table(TableType::DuplicateBag);
    t.insert_many([(atom!(k), 1), (atom!(k), 1), (atom!(k), 2)])
        .expect("insert");
    t.delete_object((atom!(k), 1)).expect("delete_object");
    assert_eq!(
        t.lookup(atom!(k)).expect("lookup"),
        vec![tuple!(atom!(k), 2)]
    );
    let s = table(TableType::Set);
    s.insert((atom!(k), 1)).expect("insert");
    s.delete_object((atom!(k), 2)).expect("delete_object");
    assert!(
        s.member(atom!(k)).expect("member"),
        "a different object leaves the key alone"
    );
    s.delete_object((atom!(k), 1)).expect("delete_object");
    assert!(!s.member(atom!(k)).expect("member"));
}

// Origin: ETS docs, take/2, delete/2 ("succeeds even if the key is absent") and
// delete_all_objects/1.
#[test]
fn take_delete_and_delete_all() {
    let t = table(TableType::Bag);
    t.insert_many([(1, atom!(a)), (1, atom!(b)), (2, atom!(c))])
        .expect("insert");
    assert_eq!(
        t.take(1).expect("take"),
        vec![tuple!(1, atom!(a)), tuple!(1, atom!(b))]
    );
    assert_eq!(t.take(1).expect("take"), Vec::<Term>::new());
    t.delete(42).expect("deleting an absent key is fine");
    t.delete_all_objects().expect("delete_all_objects");
    assert!(t.is_empty().expect("is_empty"));
}

// Origin: ETS docs, lookup_element/3,4 (OTP 26 added the default, erlang/otp PR #6234).
#[test]
fn lookup_element_for_sets_and_bags() {
    let s = table(TableType::Set);
    s.insert((atom!(k), 1, 2)).expect("insert");
    assert_eq!(s.lookup_element(atom!(k), 3), Ok(Term::Int(2)));
    assert_eq!(s.lookup_element(atom!(nope), 2), Err(EtsError::KeyNotFound));
    assert_eq!(
        s.lookup_element_or(atom!(nope), 2, atom!(none)),
        Ok(atom!(none))
    );
    assert_eq!(
        s.lookup_element(atom!(k), 4),
        Err(EtsError::BadPosition { pos: 4, arity: 3 })
    );
    let b = table(TableType::Bag);
    b.insert_many([(atom!(k), 1), (atom!(k), 2)])
        .expect("insert");
    assert_eq!(
        b.lookup_element(atom!(k), 2),
        Ok(Term::list([Term::Int(1), Term::Int(2)]))
    );
}

// Origin: ETS docs new/2: {keypos, Pos} picks the key element.
#[test]
fn key_position() {
    let t = Table::new("keypos", Options::set().keypos(2)).expect("new");
    t.insert((atom!(user), 7, "ann")).expect("insert");
    t.insert((atom!(user), 8, "bob")).expect("insert");
    assert_eq!(
        t.lookup(7).expect("lookup"),
        vec![tuple!(atom!(user), 7, "ann")]
    );
    assert_eq!(t.len().expect("len"), 2);
}

// A list insert big enough to be merged in bulk must still store each new object's own key:
// `{1.0, _}` inserted over `{1, _}` leaves the float key, as a single insert does.
#[test]
fn bulk_list_insert_replaces_keys_like_single_inserts() {
    let ord = table(TableType::OrderedSet);
    ord.insert_many((0..100).map(|i| (i, atom!(int))))
        .expect("insert");
    let floats: Vec<Term> = (0..200)
        .map(|i| tuple!(f64::from(i), atom!(float)))
        .collect();
    ord.insert_many(floats).expect("insert");
    assert_eq!(ord.len().expect("len"), 200);
    assert_eq!(ord.first().expect("first"), Some(Term::Float(0.0)));
    assert_eq!(
        ord.lookup(7).expect("lookup"),
        vec![tuple!(7.0, atom!(float))]
    );
}
