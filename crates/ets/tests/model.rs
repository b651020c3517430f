//! Model-based tests: random operation sequences on each of the four table types, checked after
//! every step against a plain model (a list of keys, each with its objects in insertion order).
//!
//! Keys are drawn from small integers and their float twins (`1` and `1.0`), so the model also
//! checks exact key equality in hash tables and numeric key equality in `ordered_set`.

use ets::{CounterOp, EtsError, Options, Table, TableType, Term, var};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Insert(Term),
    InsertMany(Vec<Term>),
    InsertNew(Term),
    InsertNewMany(Vec<Term>),
    Lookup(Term),
    Member(Term),
    Take(Term),
    Delete(Term),
    DeleteObject(Term),
    DeleteAll,
    UpdateCounter(Term, i64, bool),
    UpdateElement(Term, Term),
    MatchDelete(Term),
    MatchObject(Term),
    SelectCount,
    LookupElement(Term),
}

fn key() -> impl Strategy<Value = Term> {
    prop_oneof![
        3 => (0i64..5).prop_map(Term::Int),
        1 => (0i64..5).prop_map(|i| Term::Float(i as f64)),
        1 => (0usize..2).prop_map(|i| Term::atom(["a", "b"][i])),
        // Keys an ordered_set files under one abbreviation: a fraction and the integer below
        // it, strings alike in their first seven bytes.
        1 => (0i64..5).prop_map(|i| Term::Float(i as f64 + 0.5)),
        1 => (0usize..3).prop_map(|i| Term::from(["user-001", "user-002", "user-0"][i])),
    ]
}

fn value() -> impl Strategy<Value = Term> {
    prop_oneof![
        4 => (0i64..3).prop_map(Term::Int),
        1 => (0i64..3).prop_map(|i| Term::Float(i as f64)),
        // Not a number: the table keeps such objects as shared tuples, the others inline, and
        // update_element moves an object from one form to the other.
        1 => (0usize..2).prop_map(|i| Term::atom(["x", "y"][i])),
    ]
}

fn object() -> impl Strategy<Value = Term> {
    (key(), value()).prop_map(|(k, v)| Term::tuple([k, v]))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => object().prop_map(Op::Insert),
        2 => prop::collection::vec(object(), 0..4).prop_map(Op::InsertMany),
        2 => object().prop_map(Op::InsertNew),
        1 => prop::collection::vec(object(), 0..3).prop_map(Op::InsertNewMany),
        2 => key().prop_map(Op::Lookup),
        1 => key().prop_map(Op::Member),
        1 => key().prop_map(Op::Take),
        2 => key().prop_map(Op::Delete),
        2 => object().prop_map(Op::DeleteObject),
        1 => Just(Op::DeleteAll),
        2 => (key(), -3i64..4, any::<bool>()).prop_map(|(k, i, d)| Op::UpdateCounter(k, i, d)),
        1 => (key(), value()).prop_map(|(k, v)| Op::UpdateElement(k, v)),
        1 => value().prop_map(Op::MatchDelete),
        1 => value().prop_map(Op::MatchObject),
        1 => Just(Op::SelectCount),
        1 => key().prop_map(Op::LookupElement),
    ]
}

/// The reference: keys in first-insertion order, each with its objects in insertion order.
struct Model {
    kind: TableType,
    entries: Vec<(Term, Vec<Term>)>,
}

fn key_of(o: &Term) -> Term {
    o.as_tuple().expect("objects are tuples")[0].clone()
}

fn val_of(o: &Term) -> Term {
    o.as_tuple().expect("objects are tuples")[1].clone()
}

impl Model {
    fn same_key(&self, a: &Term, b: &Term) -> bool {
        if self.kind == TableType::OrderedSet {
            a.equals(b)
        } else {
            a == b
        }
    }

    fn find(&self, k: &Term) -> Option<usize> {
        self.entries.iter().position(|(ek, _)| self.same_key(ek, k))
    }

    fn lookup(&self, k: &Term) -> Vec<Term> {
        self.find(k)
            .map(|i| self.entries[i].1.clone())
            .unwrap_or_default()
    }

    fn insert(&mut self, o: Term) {
        let k = key_of(&o);
        match self.find(&k) {
            None => self.entries.push((k, vec![o])),
            Some(i) => match self.kind {
                TableType::Set | TableType::OrderedSet => self.entries[i] = (k, vec![o]),
                TableType::Bag => {
                    if !self.entries[i].1.contains(&o) {
                        self.entries[i].1.push(o);
                    }
                }
                TableType::DuplicateBag => self.entries[i].1.push(o),
            },
        }
    }

    fn take(&mut self, k: &Term) -> Vec<Term> {
        match self.find(k) {
            Some(i) => self.entries.remove(i).1,
            None => Vec::new(),
        }
    }

    fn retain(&mut self, keep: impl Fn(&Term) -> bool) {
        for (_, objs) in &mut self.entries {
            objs.retain(|o| keep(o));
        }
        self.entries.retain(|(_, objs)| !objs.is_empty());
    }

    fn all(&self) -> Vec<Term> {
        let mut v: Vec<Term> = self.entries.iter().flat_map(|(_, o)| o.clone()).collect();
        if self.kind == TableType::OrderedSet {
            v.sort_by(|a, b| key_of(a).compare(&key_of(b)));
        }
        v
    }
}

fn sorted(mut v: Vec<Term>) -> Vec<Term> {
    v.sort();
    v
}

/// Compares results in table order for ordered_set, as multisets otherwise.
fn same_objects(kind: TableType, got: Vec<Term>, want: Vec<Term>) -> bool {
    if kind == TableType::OrderedSet {
        got == want
    } else {
        sorted(got) == sorted(want)
    }
}

fn step(t: &Table, m: &mut Model, op: Op) -> Result<(), TestCaseError> {
    let set = m.kind.is_set();
    match op {
        Op::Insert(o) => {
            t.insert(o.clone()).map_err(fail)?;
            m.insert(o);
        }
        Op::InsertMany(os) => {
            t.insert_many(os.clone()).map_err(fail)?;
            os.into_iter().for_each(|o| m.insert(o));
        }
        Op::InsertNew(o) => {
            let fresh = m.find(&key_of(&o)).is_none();
            prop_assert_eq!(t.insert_new(o.clone()).map_err(fail)?, fresh);
            if fresh {
                m.insert(o);
            }
        }
        Op::InsertNewMany(os) => {
            let fresh = os.iter().all(|o| m.find(&key_of(o)).is_none());
            prop_assert_eq!(t.insert_new_many(os.clone()).map_err(fail)?, fresh);
            if fresh {
                os.into_iter().for_each(|o| m.insert(o));
            }
        }
        Op::Lookup(k) => prop_assert_eq!(t.lookup(k.clone()).map_err(fail)?, m.lookup(&k)),
        Op::Member(k) => prop_assert_eq!(t.member(k.clone()).map_err(fail)?, m.find(&k).is_some()),
        Op::Take(k) => prop_assert_eq!(t.take(k.clone()).map_err(fail)?, m.take(&k)),
        Op::Delete(k) => {
            t.delete(k.clone()).map_err(fail)?;
            m.take(&k);
        }
        Op::DeleteObject(o) => {
            t.delete_object(o.clone()).map_err(fail)?;
            let k = key_of(&o);
            let kind = m.kind;
            m.retain(|x| {
                let same_key = if kind == TableType::OrderedSet {
                    key_of(x).equals(&k)
                } else {
                    key_of(x) == k
                };
                !(same_key && *x == o)
            });
        }
        Op::DeleteAll => {
            t.delete_all_objects().map_err(fail)?;
            m.entries.clear();
        }
        Op::UpdateCounter(k, incr, with_default) => {
            let default = with_default.then(|| Term::tuple([k.clone(), Term::Int(0)]));
            let got = t.update_counters(k.clone(), &[CounterOp::new(2, incr)], default.clone());
            if !set {
                prop_assert_eq!(got, Err(EtsError::WrongType(m.kind)));
            } else {
                match (m.find(&k), default) {
                    (Some(i), _) => {
                        let obj = m.entries[i].1[0].clone();
                        match val_of(&obj) {
                            Term::Int(v) => {
                                prop_assert_eq!(got, Ok(vec![v + incr]));
                                m.entries[i].1[0] =
                                    Term::tuple([key_of(&obj), Term::Int(v + incr)]);
                            }
                            _ => prop_assert_eq!(got, Err(EtsError::NotAnInteger(2))),
                        }
                    }
                    (None, None) => prop_assert_eq!(got, Err(EtsError::KeyNotFound)),
                    (None, Some(_)) => {
                        prop_assert_eq!(got, Ok(vec![incr]));
                        m.insert(Term::tuple([k, Term::Int(incr)]));
                    }
                }
            }
        }
        Op::UpdateElement(k, v) => {
            let got = t.update_element(k.clone(), &[(2, v.clone())]);
            if !set {
                prop_assert_eq!(got, Err(EtsError::WrongType(m.kind)));
            } else if let Some(i) = m.find(&k) {
                prop_assert_eq!(got, Ok(true));
                let old_key = key_of(&m.entries[i].1[0]);
                m.entries[i].1[0] = Term::tuple([old_key, v]);
            } else {
                prop_assert_eq!(got, Ok(false));
            }
        }
        Op::MatchDelete(v) => {
            let before = m.all().len();
            m.retain(|o| val_of(o) != v);
            let removed = before - m.all().len();
            prop_assert_eq!(t.match_delete((ets::any(), v)).map_err(fail)?, removed);
        }
        Op::MatchObject(v) => {
            let want: Vec<Term> = m.all().into_iter().filter(|o| val_of(o) == v).collect();
            let got = t.match_object((ets::any(), v)).map_err(fail)?;
            prop_assert!(
                same_objects(m.kind, got.clone(), want.clone()),
                "{got:?} != {want:?}"
            );
        }
        Op::SelectCount => {
            let ms = vec![Term::tuple([
                Term::tuple([var(1), var(2)]),
                Term::list([Term::tuple([Term::atom(">"), var(2), Term::Int(1)])]),
                Term::list([Term::atom("true")]),
            ])];
            let want = m
                .all()
                .iter()
                .filter(|o| val_of(o).compare(&Term::Int(1)).is_gt())
                .count();
            prop_assert_eq!(t.select_count(ms).map_err(fail)?, want);
        }
        Op::LookupElement(k) => {
            let objs = m.lookup(&k);
            let got = t.lookup_element(k, 2);
            if objs.is_empty() {
                prop_assert_eq!(got, Err(EtsError::KeyNotFound));
            } else if set {
                prop_assert_eq!(got, Ok(val_of(&objs[0])));
            } else {
                prop_assert_eq!(got, Ok(Term::list(objs.iter().map(val_of))));
            }
        }
    }
    check_contents(t, m)
}

fn fail(e: EtsError) -> TestCaseError {
    TestCaseError::fail(format!("unexpected error: {e}"))
}

/// The whole table against the model: size, every object (in order for ordered_set), every
/// key's objects in insertion order, and a first/next walk over the keys.
fn check_contents(t: &Table, m: &Model) -> Result<(), TestCaseError> {
    let all = m.all();
    prop_assert_eq!(t.len().map_err(fail)?, all.len());
    let got = t.tab2list().map_err(fail)?;
    prop_assert!(
        same_objects(m.kind, got.clone(), all.clone()),
        "{got:?} != {all:?}"
    );
    for (k, objs) in &m.entries {
        prop_assert_eq!(&t.lookup(k.clone()).map_err(fail)?, objs);
    }
    let mut keys = Vec::new();
    let mut k = t.first().map_err(fail)?;
    while let Some(key) = k {
        k = t.next(key.clone()).map_err(fail)?;
        keys.push(key);
    }
    let want: Vec<Term> = m.entries.iter().map(|(k, _)| k.clone()).collect();
    if m.kind == TableType::OrderedSet {
        let mut want = want;
        want.sort_by(|a, b| a.compare(b));
        prop_assert_eq!(keys, want);
    } else {
        prop_assert_eq!(sorted(keys), sorted(want));
    }
    Ok(())
}

/// Runs `ops` on a table of `kind` (reader-biased when `read_concurrency`) and on the model.
fn run(kind: TableType, read_concurrency: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let t = Table::new(
        "model",
        Options::new().kind(kind).read_concurrency(read_concurrency),
    )
    .map_err(fail)?;
    let mut m = Model {
        kind,
        entries: Vec::new(),
    };
    let r = ops.into_iter().try_for_each(|op| step(&t, &mut m, op));
    t.delete_table().map_err(fail)?;
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn set_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::Set, rc, ops)?;
    }

    #[test]
    fn ordered_set_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::OrderedSet, rc, ops)?;
    }

    #[test]
    fn bag_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::Bag, rc, ops)?;
    }

    #[test]
    fn duplicate_bag_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::DuplicateBag, rc, ops)?;
    }
}
