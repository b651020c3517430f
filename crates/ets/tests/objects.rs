//! `IntoObject`: a Rust tuple goes into a table exactly as the `Term` tuple built from it does.
//! A pair of numbers takes a shortcut (it is stored without building the tuple), so pairs of
//! every mix of element kinds are compared against the same pair passed as a `Term`.

use ets::{EtsError, Options, Table, TableType, Term};
use proptest::prelude::*;

const KINDS: [TableType; 4] = [
    TableType::Set,
    TableType::OrderedSet,
    TableType::Bag,
    TableType::DuplicateBag,
];

/// A pair element: integers, floats (including ones equal to integers and non-finite ones),
/// and non-numbers.
#[derive(Clone, Debug)]
enum El {
    Int(i64),
    Float(f64),
    Str(String),
}

impl From<El> for Term {
    fn from(e: El) -> Term {
        match e {
            El::Int(i) => Term::Int(i),
            El::Float(f) => Term::Float(f),
            El::Str(s) => Term::from(s),
        }
    }
}

fn el() -> impl Strategy<Value = El> {
    prop_oneof![
        (-3i64..3).prop_map(El::Int),
        any::<i64>().prop_map(El::Int),
        (-3i64..3).prop_map(|i| El::Float(i as f64)),
        (-3i64..3).prop_map(|i| El::Float(i as f64 + 0.5)),
        Just(El::Float(f64::NAN)),
        Just(El::Float(f64::INFINITY)),
        "[ab]{0,2}".prop_map(El::Str),
    ]
}

fn pair_table(kind: TableType, keypos: usize, name: &str) -> Table {
    Table::new(name, Options::new().kind(kind).public().keypos(keypos)).expect("new")
}

proptest! {
    #[test]
    fn a_rust_pair_is_stored_as_its_term(
        pairs in prop::collection::vec((el(), el()), 0..24),
        keypos in 1usize..=3,
    ) {
        for kind in KINDS {
            let rust = pair_table(kind, keypos, "rust_pairs");
            let term = pair_table(kind, keypos, "term_pairs");
            for (a, b) in &pairs {
                let via_rust = rust.insert((a.clone(), b.clone()));
                let via_term = term.insert(Term::from((a.clone(), b.clone())));
                prop_assert_eq!(&via_rust, &via_term);
                if keypos == 3 {
                    let too_short = matches!(via_rust, Err(EtsError::TooShort { arity: 2, keypos: 3 }));
                    prop_assert!(too_short, "{:?}", via_rust);
                }
                let delete_rust = rust.delete_object((b.clone(), a.clone()));
                let delete_term = term.delete_object(Term::from((b.clone(), a.clone())));
                prop_assert_eq!(delete_rust, delete_term);
            }
            let mut list_rust = rust.tab2list().expect("tab2list");
            let mut list_term = term.tab2list().expect("tab2list");
            list_rust.sort_by(Term::compare);
            list_term.sort_by(Term::compare);
            prop_assert_eq!(list_rust, list_term);
            // Lists: atomic either way, the same outcome.
            let many_rust = rust.insert_many(pairs.iter().cloned());
            let many_term = term.insert_many(pairs.iter().cloned().map(Term::from));
            prop_assert_eq!(many_rust, many_term);
            let new_rust = rust.insert_new_many(pairs.iter().cloned());
            let new_term = term.insert_new_many(pairs.iter().cloned().map(Term::from));
            prop_assert_eq!(new_rust, new_term);
            prop_assert_eq!(rust.len().expect("len"), term.len().expect("len"));
            rust.delete_table().expect("delete");
            term.delete_table().expect("delete");
        }
    }
}

#[test]
fn every_object_form_is_accepted() {
    let t = Table::new("forms", Options::new().kind(TableType::OrderedSet)).expect("new");
    let show = Term::from(("The Flash", "Grant Gustin", 7.9));
    t.insert(&show).expect("a borrowed term");
    t.insert(show.clone()).expect("an owned term");
    t.insert((1,)).expect("a one-tuple");
    t.insert((2, 2)).expect("a pair");
    t.insert((3, "three", 3.0, atom_c())).expect("a 4-tuple");
    assert_eq!(
        t.insert(()),
        Err(EtsError::TooShort {
            arity: 0,
            keypos: 1
        })
    );
    assert_eq!(
        t.insert(Term::from("a string")),
        Err(EtsError::NotATuple(Term::from("a string")))
    );
    assert_eq!(
        t.insert((f64::NAN, 1)),
        Err(EtsError::NonFiniteFloat),
        "a pair of numbers is checked like any object"
    );
    assert_eq!(t.lookup("The Flash").expect("lookup"), vec![show]);
    assert_eq!(t.lookup(2).expect("lookup"), vec![Term::from((2, 2))]);
    assert_eq!(t.len().expect("len"), 4);
}

fn atom_c() -> Term {
    ets::atom!(c)
}
