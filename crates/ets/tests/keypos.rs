//! Key position 2 in every table type, checked against the same operations on a key position 1
//! table holding the mirrored objects (`{V, K}` there is `{K, V}` here). Term tables keep a pair
//! of numbers inline and find a hash bucket by asking its first object for the key at the key
//! position, so both forms must answer for position 2 exactly as for position 1.

use ets::{EtsError, Options, Table, TableType, Term, any, var};
use proptest::prelude::*;

fn num_or_atom() -> impl Strategy<Value = Term> {
    prop_oneof![
        3 => (0i64..4).prop_map(Term::Int),
        1 => (0i64..4).prop_map(|i| Term::Float(i as f64)),
        1 => Just(Term::Float(-0.0)),
        1 => (0usize..2).prop_map(|i| Term::atom(["a", "b"][i])),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Insert(Term, Term),
    DeleteObject(Term, Term),
    Delete(Term),
    Take(Term),
    UpdateElement(Term, Term),
    UpdateCounter(Term, i64),
    MatchDelete(Term),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (num_or_atom(), num_or_atom()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => (num_or_atom(), num_or_atom()).prop_map(|(k, v)| Op::DeleteObject(k, v)),
        1 => num_or_atom().prop_map(Op::Delete),
        1 => num_or_atom().prop_map(Op::Take),
        2 => (num_or_atom(), num_or_atom()).prop_map(|(k, v)| Op::UpdateElement(k, v)),
        2 => (num_or_atom(), -2i64..3).prop_map(|(k, i)| Op::UpdateCounter(k, i)),
        1 => num_or_atom().prop_map(Op::MatchDelete),
    ]
}

fn swap(t: &Term) -> Term {
    let e = t.as_tuple().expect("a pair");
    Term::tuple([e[1].clone(), e[0].clone()])
}

fn swapped(v: Vec<Term>) -> Vec<Term> {
    v.iter().map(swap).collect()
}

fn sorted(mut v: Vec<Term>) -> Vec<Term> {
    v.sort();
    v
}

/// Results compared with errors by kind only: the two tables name different positions.
fn same<T: PartialEq>(a: Result<T, EtsError>, b: Result<T, EtsError>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => std::mem::discriminant(&a) == std::mem::discriminant(&b),
        _ => false,
    }
}

fn keys(t: &Table) -> Result<Vec<Term>, EtsError> {
    let mut out = Vec::new();
    let mut k = t.first()?;
    while let Some(key) = k {
        k = t.next(key.clone())?;
        out.push(key);
    }
    Ok(out)
}

fn run(kind: TableType, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let one = Table::new("keypos1", Options::new().kind(kind)).expect("new");
    let two = Table::new("keypos2", Options::new().kind(kind).keypos(2)).expect("new");
    for op in ops {
        match op {
            Op::Insert(k, v) => {
                prop_assert_eq!(
                    one.insert(Term::tuple([k.clone(), v.clone()])),
                    two.insert(Term::tuple([v, k]))
                );
            }
            Op::DeleteObject(k, v) => {
                prop_assert_eq!(
                    one.delete_object(Term::tuple([k.clone(), v.clone()])),
                    two.delete_object(Term::tuple([v, k]))
                );
            }
            Op::Delete(k) => prop_assert_eq!(one.delete(k.clone()), two.delete(k)),
            Op::Take(k) => {
                let a = one.take(k.clone()).map(swapped);
                prop_assert_eq!(a, two.take(k));
            }
            Op::UpdateElement(k, v) => prop_assert!(same(
                one.update_element(k.clone(), &[(2, v.clone())]),
                two.update_element(k, &[(1, v)])
            )),
            Op::UpdateCounter(k, i) => prop_assert!(same(
                one.update_counters(k.clone(), &[ets::CounterOp::new(2, i)], None),
                two.update_counters(k, &[ets::CounterOp::new(1, i)], None)
            )),
            Op::MatchDelete(v) => prop_assert_eq!(
                one.match_delete((any(), v.clone())),
                two.match_delete((v, any()))
            ),
        }
        // The whole table, every key's objects, and a first/next walk.
        let all = one.tab2list().expect("tab2list");
        prop_assert_eq!(
            sorted(swapped(all.clone())),
            sorted(two.tab2list().expect("tab2list"))
        );
        prop_assert_eq!(one.len(), two.len());
        let ks = keys(&one).expect("walk");
        prop_assert_eq!(sorted(ks.clone()), sorted(keys(&two).expect("walk")));
        for k in ks {
            let a = swapped(one.lookup(k.clone()).expect("lookup"));
            prop_assert_eq!(a, two.lookup(k.clone()).expect("lookup"));
            prop_assert_eq!(one.member(k.clone()), two.member(k.clone()));
            prop_assert!(same(
                one.lookup_element(k.clone(), 2),
                two.lookup_element(k.clone(), 1)
            ));
            let a = one.select(vec![Term::tuple([
                Term::tuple([k.clone(), var(1)]),
                Term::list([]),
                Term::list([var(1)]),
            ])]);
            let b = two.select(vec![Term::tuple([
                Term::tuple([var(1), k.clone()]),
                Term::list([]),
                Term::list([var(1)]),
            ])]);
            prop_assert_eq!(a, b);
        }
    }
    one.delete_table().expect("delete");
    two.delete_table().expect("delete");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn keypos_2_matches_keypos_1(
        kind in prop_oneof![
            Just(TableType::Set),
            Just(TableType::OrderedSet),
            Just(TableType::Bag),
            Just(TableType::DuplicateBag),
        ],
        ops in prop::collection::vec(op(), 1..40),
    ) {
        run(kind, ops)?;
    }
}
