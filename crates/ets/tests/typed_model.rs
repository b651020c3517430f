//! Model-based tests of the typed front: random operation sequences on typed tables of each of
//! the four types, checked after every step against a plain model (keys with their records in
//! insertion order).

use ets::{EtsError, Options, TableType, TypedTable};
use proptest::prelude::*;

type Row = (u8, u8);

#[derive(Clone, Debug)]
enum Op {
    Insert(Row),
    InsertMany(Vec<Row>),
    InsertNew(Row),
    Take(u8),
    Delete(u8),
    DeleteObject(Row),
    Update(u8),
    SelectDelete(u8),
    SelectReplace(u8),
    Clear,
}

fn row() -> impl Strategy<Value = Row> {
    (0u8..6, 0u8..3)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => row().prop_map(Op::Insert),
        2 => prop::collection::vec(row(), 0..4).prop_map(Op::InsertMany),
        2 => row().prop_map(Op::InsertNew),
        1 => (0u8..6).prop_map(Op::Take),
        2 => (0u8..6).prop_map(Op::Delete),
        2 => row().prop_map(Op::DeleteObject),
        2 => (0u8..6).prop_map(Op::Update),
        1 => (0u8..3).prop_map(Op::SelectDelete),
        1 => (0u8..3).prop_map(Op::SelectReplace),
        1 => Just(Op::Clear),
    ]
}

struct Model {
    kind: TableType,
    entries: Vec<(u8, Vec<Row>)>,
}

impl Model {
    fn find(&self, k: u8) -> Option<usize> {
        self.entries.iter().position(|(ek, _)| *ek == k)
    }

    fn lookup(&self, k: u8) -> Vec<Row> {
        self.find(k)
            .map(|i| self.entries[i].1.clone())
            .unwrap_or_default()
    }

    fn insert(&mut self, r: Row) {
        match (self.find(r.0), self.kind) {
            (None, _) => self.entries.push((r.0, vec![r])),
            (Some(i), TableType::Set | TableType::OrderedSet) => self.entries[i].1 = vec![r],
            (Some(i), TableType::Bag) => {
                if !self.entries[i].1.contains(&r) {
                    self.entries[i].1.push(r);
                }
            }
            (Some(i), TableType::DuplicateBag) => self.entries[i].1.push(r),
        }
    }

    fn retain(&mut self, keep: impl Fn(&Row) -> bool) -> usize {
        let before: usize = self.entries.iter().map(|e| e.1.len()).sum();
        for (_, rows) in &mut self.entries {
            rows.retain(|r| keep(r));
        }
        self.entries.retain(|(_, rows)| !rows.is_empty());
        before - self.entries.iter().map(|e| e.1.len()).sum::<usize>()
    }

    fn all(&self) -> Vec<Row> {
        let mut v: Vec<Row> = self.entries.iter().flat_map(|e| e.1.clone()).collect();
        if self.kind == TableType::OrderedSet {
            v.sort_by_key(|r| r.0);
        }
        v
    }
}

fn fail(e: EtsError) -> TestCaseError {
    TestCaseError::fail(format!("unexpected error: {e}"))
}

fn step(t: &TypedTable<Row>, m: &mut Model, op: Op) -> Result<(), TestCaseError> {
    let set = m.kind.is_set();
    match op {
        Op::Insert(r) => {
            t.insert(r).map_err(fail)?;
            m.insert(r);
        }
        Op::InsertMany(rs) => {
            t.insert_many(rs.clone()).map_err(fail)?;
            rs.into_iter().for_each(|r| m.insert(r));
        }
        Op::InsertNew(r) => {
            let fresh = m.find(r.0).is_none();
            prop_assert_eq!(t.insert_new(r).map_err(fail)?, fresh);
            if fresh {
                m.insert(r);
            }
        }
        Op::Take(k) => {
            let want = m.lookup(k);
            m.retain(|r| r.0 != k);
            prop_assert_eq!(t.take(&k).map_err(fail)?, want);
        }
        Op::Delete(k) => {
            t.delete(&k).map_err(fail)?;
            m.retain(|r| r.0 != k);
        }
        Op::DeleteObject(r) => {
            t.delete_object(&r).map_err(fail)?;
            m.retain(|x| *x != r);
        }
        Op::Update(k) => {
            let got = t.update(&k, |r| (r.0, r.1.wrapping_add(1)));
            if !set {
                prop_assert_eq!(got, Err(EtsError::WrongType(m.kind)));
            } else if let Some(i) = m.find(k) {
                let new = (k, m.entries[i].1[0].1.wrapping_add(1));
                m.entries[i].1 = vec![new];
                prop_assert_eq!(got, Ok(Some(new)));
            } else {
                prop_assert_eq!(got, Ok(None));
            }
        }
        Op::SelectDelete(v) => {
            let removed = m.retain(|r| r.1 != v);
            prop_assert_eq!(t.select_delete(|r| r.1 == v).map_err(fail)?, removed);
        }
        Op::SelectReplace(v) => {
            let got = t.select_replace(|r| (r.1 == v).then_some((r.0, v + 10)));
            if m.kind == TableType::Bag {
                prop_assert_eq!(got, Err(EtsError::WrongType(TableType::Bag)));
            } else {
                let mut n = 0;
                for (_, rows) in &mut m.entries {
                    for r in rows.iter_mut().filter(|r| r.1 == v) {
                        r.1 = v + 10;
                        n += 1;
                    }
                }
                prop_assert_eq!(got, Ok(n));
            }
        }
        Op::Clear => {
            t.delete_all_objects().map_err(fail)?;
            m.entries.clear();
        }
    }
    let all = m.all();
    prop_assert_eq!(t.len().map_err(fail)?, all.len());
    let mut got = t.tab2list().map_err(fail)?;
    if m.kind == TableType::OrderedSet {
        prop_assert_eq!(got, all);
    } else {
        let mut want = all;
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }
    for k in 0u8..6 {
        prop_assert_eq!(t.lookup(&k).map_err(fail)?, m.lookup(k));
    }
    Ok(())
}

/// Runs `ops` on a table of `kind` (reader-biased when `read_concurrency`) and on the model.
fn run(kind: TableType, read_concurrency: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let t: TypedTable<Row> = TypedTable::new(
        "typed_model",
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
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn typed_set_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::Set, rc, ops)?;
    }

    #[test]
    fn typed_ordered_set_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::OrderedSet, rc, ops)?;
    }

    #[test]
    fn typed_bag_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::Bag, rc, ops)?;
    }

    #[test]
    fn typed_duplicate_bag_matches_model(rc in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        run(TableType::DuplicateBag, rc, ops)?;
    }
}
