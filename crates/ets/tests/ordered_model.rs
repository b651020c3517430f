//! An ordered_set `Table` against an exact sorted model: keys at the edges of the packed form
//! (±2^58, -0.0, whole floats), key positions 1 and 2, objects moving in and out of the packed
//! map through counters and element updates, and traversal from every key.
use std::cmp::Ordering;

use ets::{CounterOp, Options, Table, TableType, Term};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = Term> {
    let limit = 1i64 << 58;
    prop_oneof![
        3 => prop::sample::select(vec![-limit - 1, -limit, -limit + 1, -1, 0, 1, 2, 3, limit - 1, limit])
            .prop_map(Term::Int),
        3 => prop::sample::select(vec![-(limit as f64), -0.0, 0.0, 0.5, 1.0, 1.5, 3.0, 3.5, -0.5, (limit - 32) as f64, limit as f64, 1e300])
            .prop_map(Term::Float),
        1 => Just(Term::atom("a")),
    ]
}
fn value() -> impl Strategy<Value = Term> {
    prop_oneof![
        3 => (-2i64..3).prop_map(Term::Int),
        1 => prop::sample::select(vec![-0.0, 0.0, 2.5]).prop_map(Term::Float),
        1 => Just(Term::atom("x")),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Term, Term, bool),
    InsertNew(Term, Term),
    Delete(Term),
    DeleteObject(Term, Term),
    Counter(Term, i64),
    Element(Term, Term),
    Many(Vec<(Term, Term)>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key(), value(), any::<bool>()).prop_map(|(k, v, r)| Op::Insert(k, v, r)),
        2 => (key(), value()).prop_map(|(k, v)| Op::InsertNew(k, v)),
        2 => key().prop_map(Op::Delete),
        1 => (key(), value()).prop_map(|(k, v)| Op::DeleteObject(k, v)),
        2 => (key(), -2i64..3).prop_map(|(k, i)| Op::Counter(k, i)),
        2 => (key(), value()).prop_map(|(k, v)| Op::Element(k, v)),
        1 => prop::collection::vec((key(), value()), 0..40).prop_map(Op::Many),
    ]
}

struct Model {
    keypos: usize,
    objs: Vec<Term>, // sorted by key, distinct keys
}
impl Model {
    fn key(&self, o: &Term) -> Term {
        o.as_tuple().expect("a tuple")[self.keypos - 1].clone()
    }
    fn find(&self, k: &Term) -> Option<usize> {
        self.objs
            .iter()
            .position(|o| self.key(o).compare(k) == Ordering::Equal)
    }
    fn put(&mut self, o: Term) {
        let k = self.key(&o);
        if let Some(i) = self.find(&k) {
            self.objs[i] = o;
        } else {
            self.objs.push(o);
            let kp = self.keypos;
            self.objs.sort_by(|a, b| {
                a.as_tuple().expect("a tuple")[kp - 1]
                    .compare(&b.as_tuple().expect("a tuple")[kp - 1])
            });
        }
    }
}

fn pair(keypos: usize, k: &Term, v: &Term) -> (Term, Term) {
    if keypos == 1 {
        (k.clone(), v.clone())
    } else {
        (v.clone(), k.clone())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn ordered_set_matches_a_sorted_model(ops in prop::collection::vec(op(), 1..60), keypos in 1usize..=2) {
        let t = Table::new("ordered_model", Options::new().kind(TableType::OrderedSet).public().keypos(keypos)).expect("ok");
        let mut m = Model { keypos, objs: vec![] };
        let vpos = 3 - keypos;
        for op in ops {
            match op {
                Op::Insert(k, v, rust) => {
                    let p = pair(keypos, &k, &v);
                    if rust { t.insert(p.clone()).expect("ok"); } else { t.insert(Term::from(p.clone())).expect("ok"); }
                    m.put(Term::from(p));
                }
                Op::InsertNew(k, v) => {
                    let p = pair(keypos, &k, &v);
                    let fresh = m.find(&k).is_none();
                    prop_assert_eq!(t.insert_new(p.clone()).expect("ok"), fresh);
                    if fresh { m.put(Term::from(p)); }
                }
                Op::Delete(k) => {
                    t.delete(k.clone()).expect("ok");
                    if let Some(i) = m.find(&k) { m.objs.remove(i); }
                }
                Op::DeleteObject(k, v) => {
                    let p = Term::from(pair(keypos, &k, &v));
                    t.delete_object(p.clone()).expect("ok");
                    if let Some(i) = m.objs.iter().position(|o| *o == p) { m.objs.remove(i); }
                }
                Op::Counter(k, incr) => {
                    let got = t.update_counters(k.clone(), &[CounterOp::new(vpos, incr)], None);
                    match m.find(&k) {
                        Some(i) => {
                            let o = m.objs[i].as_tuple().expect("a tuple").to_vec();
                            match o[vpos - 1].as_int() {
                                Some(c) => {
                                    prop_assert_eq!(got.clone().ok(), Some(vec![c + incr]), "{:?}", got);
                                    let mut o = o; o[vpos - 1] = Term::Int(c + incr);
                                    m.objs[i] = Term::tuple(o);
                                }
                                None => prop_assert!(got.is_err()),
                            }
                        }
                        None => prop_assert!(got.is_err()),
                    }
                }
                Op::Element(k, v) => {
                    let got = t.update_element(k.clone(), &[(vpos, v.clone())]).expect("ok");
                    match m.find(&k) {
                        Some(i) => {
                            prop_assert!(got);
                            let mut o = m.objs[i].as_tuple().expect("a tuple").to_vec();
                            o[vpos - 1] = v;
                            m.objs[i] = Term::tuple(o);
                        }
                        None => prop_assert!(!got),
                    }
                }
                Op::Many(items) => {
                    let ps: Vec<(Term, Term)> = items.iter().map(|(k, v)| pair(keypos, k, v)).collect();
                    t.insert_many(ps.clone()).expect("ok");
                    for p in ps { m.put(Term::from(p)); }
                }
            }
            prop_assert_eq!(t.len().expect("ok"), m.objs.len());
            prop_assert_eq!(t.tab2list().expect("ok"), m.objs.clone());
            let keys: Vec<Term> = m.objs.iter().map(|o| m.key(o)).collect();
            prop_assert_eq!(t.first().expect("ok"), keys.first().cloned());
            prop_assert_eq!(t.last().expect("ok"), keys.last().cloned());
            let mut probes = keys.clone();
            probes.extend([Term::Float(-0.0), Term::Float(3.0), Term::Int(3), Term::Float(0.75), Term::Int(1 << 58)]);
            for p in &probes {
                let after = keys.iter().find(|k| k.compare(p) == Ordering::Greater).cloned();
                let before = keys.iter().rev().find(|k| k.compare(p) == Ordering::Less).cloned();
                prop_assert_eq!(t.next(p.clone()).expect("ok"), after);
                prop_assert_eq!(t.prev(p.clone()).expect("ok"), before);
                let want: Vec<Term> = m.find(p).map(|i| vec![m.objs[i].clone()]).unwrap_or_default();
                prop_assert_eq!(t.lookup(p.clone()).expect("ok"), want);
            }
        }
        t.delete_table().expect("ok");
    }
}
