//! first/next/last/prev, foldl/foldr and tab2list, ported from the ETS reference manual and
//! erlang/otp issue #3679 (next/prev on a missing key).

use ets::{Options, Table, TableType, Term, atom};

// Origin: ETS docs first/1, next/2, last/1, prev/2 for ordered_set (term order) and
// erlang/otp issue #3679: next/prev of a key that is not in an ordered_set give its neighbours.
#[test]
fn ordered_set_walks_in_term_order_from_any_key() {
    let t = Table::new("walk", Options::ordered_set()).expect("new");
    t.insert_many([10, 20, 30].map(|k| (k, atom!(v))))
        .expect("insert");
    assert_eq!(t.first(), Ok(Some(Term::Int(10))));
    assert_eq!(t.last(), Ok(Some(Term::Int(30))));
    assert_eq!(t.next(10), Ok(Some(Term::Int(20))));
    assert_eq!(t.next(15), Ok(Some(Term::Int(20))));
    assert_eq!(t.next(30), Ok(None));
    assert_eq!(t.prev(20), Ok(Some(Term::Int(10))));
    assert_eq!(t.prev(25.5), Ok(Some(Term::Int(20))));
    assert_eq!(t.prev(10), Ok(None));
    assert_eq!(
        t.next(atom!(a_key_of_another_type)),
        Ok(None),
        "atoms sort after numbers"
    );
}

// Origin: ETS docs: for set, bag and duplicate_bag, last/prev are first/next.
#[test]
fn hash_tables_walk_every_key_once() {
    for kind in [TableType::Set, TableType::Bag, TableType::DuplicateBag] {
        let t = Table::new("walk_hash", Options::new().kind(kind)).expect("new");
        t.insert_many((0..500).map(|k| (k, atom!(v))))
            .expect("insert");
        let mut seen = Vec::new();
        let mut k = t.first().expect("first");
        while let Some(key) = k {
            k = t.next(key.clone()).expect("next");
            seen.push(key);
        }
        seen.sort();
        assert_eq!(seen, (0..500).map(Term::Int).collect::<Vec<_>>());
        assert_eq!(t.last(), t.first());
        let first = t.first().expect("first").expect("a key");
        assert_eq!(t.prev(first.clone()), t.next(first));
        assert_eq!(
            Table::new("empty", Options::new().kind(kind))
                .expect("new")
                .first(),
            Ok(None)
        );
    }
}

// Origin: ETS docs foldl/3, foldr/3 and tab2list/1.
#[test]
fn folds_and_tab2list() {
    let t = Table::new("fold", Options::ordered_set()).expect("new");
    t.insert_many((1..=5).map(|k| (k, k * k))).expect("insert");
    let sum = t.foldl(0, |acc, o| {
        acc + o.as_tuple().expect("tuple")[1].as_int().expect("int")
    });
    assert_eq!(sum, Ok(55));
    let order = t.foldr(Vec::new(), |mut acc, o| {
        acc.push(o.as_tuple().expect("tuple")[0].clone());
        acc
    });
    assert_eq!(order, Ok((1..=5).rev().map(Term::Int).collect()));
    let list = t.tab2list().expect("tab2list");
    assert_eq!(list.len(), 5);
    assert_eq!(list[0], Term::from((1, 1)));
}

// Folds run user code with no lock held: the closure may write the table it folds over.
#[test]
fn fold_closures_may_use_the_table() {
    let t = Table::new("reentrant", Options::set()).expect("new");
    t.insert_many((0..1000).map(|k| (k, 0))).expect("insert");
    let n = t.foldl(0, |n, o| {
        let k = o.as_tuple().expect("tuple")[0].clone();
        t.update_counter(k, 1).expect("update inside fold");
        n + 1
    });
    assert_eq!(n, Ok(1000));
    assert_eq!(
        t.select_count(Term::list([Term::from((
            (ets::any(), 1),
            Term::nil(),
            Term::list([Term::from(true)])
        ))])),
        Ok(1000)
    );
}

// Not ETS (Erlang has no NaN or infinity, and tables reject them as objects), but next/prev take
// any key: they answer in `Term::compare`'s order, which puts NaN after every number (before
// every number when its sign bit is set) and the infinities at the two ends of the numbers.
#[test]
fn ordered_set_walks_from_non_finite_keys_in_term_order() {
    let t = Table::new("walk_nan", Options::ordered_set()).expect("new");
    t.insert_many([1, 2, 3].map(|k| (k, atom!(v))))
        .expect("insert");
    t.insert((atom!(a), atom!(v))).expect("insert");
    let (nan, neg_nan) = (Term::Float(f64::NAN), Term::Float(-f64::NAN));
    assert_eq!(t.next(nan.clone()), Ok(Some(atom!(a))), "next(+NaN)");
    assert_eq!(t.prev(nan), Ok(Some(Term::Int(3))), "prev(+NaN)");
    assert_eq!(
        t.next(neg_nan.clone()),
        Ok(Some(Term::Int(1))),
        "next(-NaN)"
    );
    assert_eq!(t.prev(neg_nan), Ok(None), "prev(-NaN)");
    assert_eq!(t.next(f64::INFINITY), Ok(Some(atom!(a))), "next(inf)");
    assert_eq!(t.prev(f64::NEG_INFINITY), Ok(None), "prev(-inf)");
    assert_eq!(
        t.next(f64::NEG_INFINITY),
        Ok(Some(Term::Int(1))),
        "next(-inf)"
    );
}
