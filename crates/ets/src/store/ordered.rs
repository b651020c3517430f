//! Range-partitioned ordered storage for `ordered_set`, adapting to contention like ETS's CA tree.
//!
//! The key space is cut into contiguous ranges ("leaves"), each an ordered map (a
//! [`LeafMap`]: a `BTreeMap` for typed tables, an abbreviated-key B-tree for Term tables)
//! under its own reader-writer lock. A route (the sorted lower bounds of the leaves) maps a key
//! to its leaf. A table starts as one leaf, so a single writer pays for one lock and one
//! B-tree, nothing more.
//! When writers keep colliding on a leaf (its lock is often busy when tried), the leaf is split
//! at its median key and a new route is published; writers on the two halves then no longer
//! collide. This is the contention-adapting idea of ETS's CA tree, without joins: leaves are
//! capped at [`MAX_LEAVES`], so a table's partitioning stays bounded.
//!
//! Why not a lock-free skip list (crossbeam-skiplist): published figures show it 20-50x slower
//! than a B-tree for single-threaded work, which is the common case, and it would add a
//! dependency. Our benches (benches/benches/ets.rs) measure this store against one
//! `RwLock<BTreeMap>`.
//!
//! Routes are immutable once published and read through an atomic pointer without any lock or
//! reference count (a shared count would make every reader write to one cache line). Retired
//! routes are kept until the store is dropped: there are at most `MAX_LEAVES` of them, so the
//! memory is bounded, and no reader can ever hold a dangling route.
//!
//! A split marks the old leaf invalid while holding its write lock; an operation that found the
//! old leaf through an old route sees the flag once it gets the lock, and retries with the new
//! route. Operations on several leaves (list inserts, clear) lock them in key order, so they
//! cannot deadlock with each other.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

use crossbeam::utils::CachePadded;

use super::leaf::LeafMap;
use super::lock::ShardLock;
use parking_lot::Mutex;

/// The most leaves a table is split into.
pub(crate) const MAX_LEAVES: usize = 64;
/// Contention score above which a leaf splits. A failed `try_write` adds `FAIL_COST`, a
/// successful one takes `SUCCESS_GAIN` off, as in ETS's CA tree; unlike the CA tree the score
/// never goes below zero, so a leaf that was quiet for a long time still splits after a few
/// close collisions (on a 2-core machine collisions are rare but each one is costly).
const SPLIT_AT: i32 = 1000;
const FAIL_COST: i32 = 250;
const SUCCESS_GAIN: i32 = 1;
const MIN_SPLIT_LEN: usize = 64;
/// A list insert of at least this many objects, into one leaf holding no more objects than the
/// list, rebuilds the leaf in bulk instead of inserting one by one.
const BULK_MIN: usize = 32;

struct LeafData<M> {
    valid: bool,
    stat: i32,
    map: M,
}

type Leaf<M> = CachePadded<ShardLock<LeafData<M>>>;

fn new_leaf<M>(map: M, read_concurrency: bool) -> Arc<Leaf<M>> {
    Arc::new(CachePadded::new(ShardLock::new(
        LeafData {
            valid: true,
            stat: 0,
            map,
        },
        read_concurrency,
    )))
}

struct Route<K, M> {
    /// `bounds[i]` is the lowest key of leaf `i + 1`.
    bounds: Vec<K>,
    leaves: Vec<Arc<Leaf<M>>>,
}

impl<K: Ord, M> Route<K, M> {
    #[inline]
    fn index(&self, key: &K) -> usize {
        self.bounds.partition_point(|b| b <= key)
    }
}

/// Objects of type `O` ordered by keys of type `K`, each leaf's held in an `M`.
pub(crate) struct OrderedStore<K, O, M = BTreeMap<K, O>> {
    route: AtomicPtr<Route<K, M>>,
    /// The table's key position, for leaf maps that read keys from the objects.
    keypos: usize,
    /// Whether leaf locks are reader-biased (ETS's `read_concurrency`).
    read_concurrency: bool,
    /// Serialises splits; also owns every route ever published (the current one is last).
    // Boxed so that a route keeps its address when the vector grows: readers hold pointers.
    #[allow(clippy::vec_box)]
    routes: Mutex<Vec<Box<Route<K, M>>>>,
    _objects: PhantomData<fn() -> O>,
}

// SAFETY: the raw pointer only ever points into a `Box<Route>` owned by `routes`; the store
// shares `K` and `O` between threads exactly as `RwLock<BTreeMap<K, O>>` would.
unsafe impl<K: Send + Sync, O: Send + Sync, M: Send + Sync> Send for OrderedStore<K, O, M> {}
// SAFETY: as above.
unsafe impl<K: Send + Sync, O: Send + Sync, M: Send + Sync> Sync for OrderedStore<K, O, M> {}

type WriteGuard<'a, M> = super::lock::WriteGuard<'a, LeafData<M>>;

impl<K: Ord + Clone, O: Clone + PartialEq, M: LeafMap<K, O>> OrderedStore<K, O, M> {
    /// An empty store for a table with key position `keypos`; `read_concurrency` makes its
    /// leaf locks reader-biased.
    pub(crate) fn new(keypos: usize, read_concurrency: bool) -> Self {
        let mut first = Box::new(Route {
            bounds: Vec::new(),
            leaves: vec![new_leaf(M::empty(keypos), read_concurrency)],
        });
        let ptr: *mut Route<K, M> = &mut *first;
        OrderedStore {
            route: AtomicPtr::new(ptr),
            keypos,
            read_concurrency,
            routes: Mutex::new(vec![first]),
            _objects: PhantomData,
        }
    }

    #[inline]
    fn route(&self) -> &Route<K, M> {
        // SAFETY: the pointer always points into a Box kept in `self.routes` until `self` is
        // dropped, and routes are never mutated after being published.
        unsafe { &*self.route.load(Ordering::Acquire) }
    }

    /// Read-locks the leaf holding `key` and runs `f` on its map.
    fn with_leaf<R>(&self, key: &K, f: impl FnOnce(&M) -> R) -> R {
        let mut f = Some(f);
        loop {
            let route = self.route();
            let leaf = route.leaves[route.index(key)].read();
            if leaf.valid {
                // `f` is taken only once: we return right after.
                if let Some(f) = f.take() {
                    return f(&leaf.map);
                }
            }
        }
    }

    /// Write-locks the leaf holding `key`, counting contention, and runs `f` on its map; may
    /// split the leaf afterwards.
    fn with_leaf_mut<R>(&self, key: &K, f: impl FnOnce(&mut M) -> R) -> R {
        let mut f = Some(f);
        loop {
            let route = self.route();
            let leaf = &route.leaves[route.index(key)];
            let mut g = match leaf.try_write() {
                Some(mut g) => {
                    g.stat -= SUCCESS_GAIN;
                    g
                }
                None => {
                    let mut g = leaf.write();
                    g.stat += FAIL_COST;
                    g
                }
            };
            if !g.valid {
                continue;
            }
            let Some(f) = f.take() else { continue };
            let r = f(&mut g.map);
            if g.stat > SPLIT_AT {
                self.maybe_split(route, leaf, &mut g);
            } else if g.stat < 0 {
                // A long quiet spell does not bank credit against the next burst of contention:
                // four failed lock attempts close together split the leaf.
                g.stat = 0;
            }
            return r;
        }
    }

    /// Splits a contended leaf at its median key and publishes the new route.
    fn maybe_split(&self, route: &Route<K, M>, leaf: &Arc<Leaf<M>>, g: &mut WriteGuard<'_, M>) {
        g.stat = 0;
        if g.map.len() < MIN_SPLIT_LEN || route.leaves.len() >= MAX_LEAVES {
            return;
        }
        // Never wait for another split while holding a leaf lock; skip this one instead.
        let Some(mut routes) = self.routes.try_lock() else {
            return;
        };
        let current = self.route();
        let Some(i) = current.leaves.iter().position(|l| Arc::ptr_eq(l, leaf)) else {
            return;
        };
        let Some((median, upper)) = g.map.split_upper() else {
            return;
        };
        let lower = std::mem::replace(&mut g.map, M::empty(self.keypos));
        g.valid = false;
        let mut bounds = current.bounds.clone();
        bounds.insert(i, median);
        let mut leaves = current.leaves.clone();
        leaves[i] = new_leaf(lower, self.read_concurrency);
        leaves.insert(i + 1, new_leaf(upper, self.read_concurrency));
        let mut next = Box::new(Route { bounds, leaves });
        let ptr: *mut Route<K, M> = &mut *next;
        routes.push(next);
        self.route.store(ptr, Ordering::Release);
    }

    /// Write-locks, in key order, the leaves holding all `keys`; retries after a split.
    /// Returns the guards and, per key, the index of its guard.
    fn lock_many<'a>(&'a self, keys: &[&K]) -> (Vec<WriteGuard<'a, M>>, Vec<usize>) {
        'retry: loop {
            let route = self.route();
            let mut idx: Vec<usize> = keys.iter().map(|k| route.index(k)).collect();
            let mut order = idx.clone();
            order.sort_unstable();
            order.dedup();
            let mut guards = Vec::with_capacity(order.len());
            for &l in &order {
                let g = route.leaves[l].write();
                if !g.valid {
                    continue 'retry;
                }
                guards.push(g);
            }
            for i in &mut idx {
                *i = order.binary_search(i).unwrap_or(0);
            }
            return (guards, idx);
        }
    }

    #[inline]
    pub(crate) fn read<R>(&self, key: &K, f: impl FnOnce(Option<&O>) -> R) -> R {
        self.with_leaf(key, |m| m.read(key, f))
    }

    #[inline]
    pub(crate) fn insert(&self, key: K, obj: O) {
        let k = key.clone();
        let replaced = self.with_leaf_mut(&k, move |m| m.put(key, obj));
        drop(replaced);
    }

    pub(crate) fn insert_many(&self, items: Vec<(K, O)>) {
        let keys: Vec<&K> = items.iter().map(|(k, _)| k).collect();
        let (mut guards, pos) = self.lock_many(&keys);
        drop(keys);
        if guards.len() == 1 && items.len() >= BULK_MIN && items.len() >= guards[0].map.len() {
            // A bulk load into one leaf: rebuild the leaf from one sorted run.
            guards[0].map.merge(items);
            return;
        }
        for ((k, o), p) in items.into_iter().zip(pos) {
            let _replaced = guards[p].map.put(k, o);
        }
    }

    pub(crate) fn insert_new(&self, key: K, obj: O) -> bool {
        let k = key.clone();
        self.with_leaf_mut(&k, move |m| m.insert_new(key, obj))
    }

    pub(crate) fn insert_new_many(&self, items: Vec<(K, O)>) -> bool {
        let keys: Vec<&K> = items.iter().map(|(k, _)| k).collect();
        let (mut guards, pos) = self.lock_many(&keys);
        if keys
            .iter()
            .zip(&pos)
            .any(|(k, &p)| guards[p].map.contains(k))
        {
            return false;
        }
        drop(keys);
        for ((k, o), p) in items.into_iter().zip(pos) {
            guards[p].map.put(k, o);
        }
        true
    }

    pub(crate) fn take(&self, key: &K) -> Option<O> {
        self.with_leaf_mut(key, |m| m.remove(key))
    }

    pub(crate) fn delete_object(&self, key: &K, obj: &O) -> usize {
        self.with_leaf_mut(key, |m| {
            if m.read(key, |o| o == Some(obj)) {
                m.remove(key);
                1
            } else {
                0
            }
        })
    }

    pub(crate) fn replace_object(&self, key: &K, old: &O, new: O) -> bool {
        self.with_leaf_mut(key, |m| {
            m.update(key, |cur| match cur {
                Some(cur) if cur == old => {
                    *cur = new;
                    true
                }
                _ => false,
            })
        })
    }

    /// As [`HashStore::update`](super::hash::HashStore::update).
    pub(crate) fn update<R>(&self, key: &K, f: impl FnOnce(Option<&mut O>) -> (R, Option<O>)) -> R {
        self.with_leaf_mut(key, |m| {
            let (r, ins) = m.update(key, |o| match o {
                Some(o) => (f(Some(o)).0, None),
                None => f(None),
            });
            if let Some(o) = ins {
                m.put(key.clone(), o);
            }
            r
        })
    }

    /// Empties the table atomically: every leaf is locked before any is cleared.
    pub(crate) fn clear(&self) {
        'retry: loop {
            let route = self.route();
            let mut guards = Vec::with_capacity(route.leaves.len());
            for l in &route.leaves {
                let g = l.write();
                if !g.valid {
                    continue 'retry;
                }
                guards.push(g);
            }
            for g in &mut guards {
                g.map.clear();
            }
            return;
        }
    }

    /// Runs `f` on every valid leaf's map in key order, one read lock at a time.
    fn each_leaf(&self, mut f: impl FnMut(&M)) {
        let mut from: Bound<K> = Bound::Unbounded;
        loop {
            let route = self.route();
            let i = match &from {
                Bound::Unbounded => 0,
                Bound::Included(k) | Bound::Excluded(k) => route.index(k),
            };
            let leaf = route.leaves[i].read();
            if !leaf.valid {
                continue;
            }
            f(&leaf.map);
            match route.bounds.get(i) {
                Some(b) => from = Bound::Included(b.clone()),
                None => return,
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        let mut n = 0;
        self.each_leaf(|m| n += m.len());
        n
    }

    pub(crate) fn memory(&self, heap: impl Fn(&O) -> usize) -> usize {
        let mut n = 0;
        self.each_leaf(|m| n += m.bytes(&heap));
        n + self.route().leaves.len() * std::mem::size_of::<Leaf<M>>()
    }

    /// The first key strictly after (`forward`) or before `from` in key order; `None` for `from`
    /// means the very first (or last) key. Defined for any `from`, present or not, as in ETS.
    pub(crate) fn step(&self, from: Option<&K>, forward: bool) -> Option<K> {
        self.scan(from.cloned(), forward, 1, &mut |_| ())
    }

    /// Visits objects in key order (or reverse) strictly after `cursor` (or before, in reverse),
    /// until `budget` objects were visited or the table ends. Returns the last key visited when
    /// the budget was reached, `None` when the table ended first. One leaf read lock is held at
    /// a time; `f` is crate code, never user code.
    pub(crate) fn scan(
        &self,
        cursor: Option<K>,
        forward: bool,
        budget: usize,
        f: &mut dyn FnMut(&O),
    ) -> Option<K> {
        let bound = match cursor {
            None => Bound::Unbounded,
            Some(k) => Bound::Excluded(k),
        };
        self.scan_from(bound, forward, budget, &mut |o| {
            f(o);
            true
        })
    }

    /// As [`scan`](OrderedStore::scan) from any bound; `f` returns false to stop at once (the
    /// result is then `None`, as at the end of the table).
    pub(crate) fn scan_from(
        &self,
        mut bound: Bound<K>,
        forward: bool,
        budget: usize,
        f: &mut dyn FnMut(&O) -> bool,
    ) -> Option<K> {
        let mut seen = 0;
        loop {
            let route = self.route();
            let i = match (&bound, forward) {
                (Bound::Unbounded, true) => 0,
                (Bound::Unbounded, false) => route.leaves.len() - 1,
                (Bound::Included(k) | Bound::Excluded(k), true) => route.index(k),
                // Keys up to `k` start in the leaf whose lower bound is at most `k`.
                (Bound::Included(k), false) => route.index(k),
                // Keys below `k` start in the leaf whose lower bound is below `k`.
                (Bound::Excluded(k), false) => route.bounds.partition_point(|b| b < k),
            };
            let leaf = route.leaves[i].read();
            if !leaf.valid {
                continue;
            }
            let mut aborted = false;
            let stopped = leaf.map.visit(bound.as_ref(), forward, &mut |o| {
                if !f(o) {
                    aborted = true;
                    return false;
                }
                seen += 1;
                seen < budget
            });
            if aborted {
                return None;
            }
            if stopped.is_some() {
                return stopped;
            }
            if forward {
                // Leaf exhausted: every key of the next leaf is >= its lower bound.
                match route.bounds.get(i) {
                    Some(b) => bound = Bound::Included(b.clone()),
                    None => return None,
                }
            } else {
                // Leaf exhausted: every key of the previous leaf is below this leaf's bound.
                if i == 0 {
                    return None;
                }
                bound = Bound::Excluded(route.bounds[i - 1].clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl<K: Ord + Clone, O: Clone + PartialEq, M: LeafMap<K, O>> OrderedStore<K, O, M> {
        /// Splits every leaf that is big enough, as sustained contention would.
        fn split_everything(&self) {
            loop {
                let route = self.route();
                let n = route.leaves.len();
                for leaf in &route.leaves {
                    let mut g = leaf.write();
                    if g.valid {
                        self.maybe_split(route, leaf, &mut g);
                    }
                }
                if self.route().leaves.len() == n {
                    return;
                }
            }
        }

        fn leaves(&self) -> usize {
            self.route().leaves.len()
        }
    }

    fn walk(s: &OrderedStore<u32, u32>, forward: bool, budget: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let next = s.scan(cursor, forward, budget, &mut |o| out.push(*o));
            match next {
                Some(k) => cursor = Some(k),
                None => return out,
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32),
        Remove(u32),
        Many(Vec<u32>),
        Split,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (0u32..3000).prop_map(Op::Insert),
            3 => (0u32..3000).prop_map(Op::Remove),
            2 => prop::collection::vec(0u32..3000, 0..50).prop_map(Op::Many),
            1 => Just(Op::Split),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Splits must never lose, duplicate or misorder keys, and traversals must cross leaf
        /// boundaries correctly in both directions.
        #[test]
        fn partitioned_store_matches_btreemap(
            prefill in prop::collection::vec(0u32..3000, 0..1500),
            ops in prop::collection::vec(op(), 1..60),
            probes in prop::collection::vec(0u32..3100, 1..20),
            budget in 1usize..40,
        ) {
            let s: OrderedStore<u32, u32> = OrderedStore::new(1, false);
            let mut m = BTreeMap::new();
            s.insert_many(prefill.iter().map(|&k| (k, k)).collect());
            m.extend(prefill.iter().map(|&k| (k, k)));
            s.split_everything();
            for op in ops {
                match op {
                    Op::Insert(k) => {
                        s.insert(k, k + 1);
                        m.insert(k, k + 1);
                    }
                    Op::Remove(k) => prop_assert_eq!(s.take(&k), m.remove(&k)),
                    Op::Many(ks) => {
                        // Values tell duplicates apart: the last of equal keys must win, in
                        // the bulk path as in the one-by-one path.
                        let items: Vec<(u32, u32)> =
                            ks.iter().enumerate().map(|(i, &k)| (k, 10_000 + i as u32)).collect();
                        s.insert_many(items.clone());
                        m.extend(items);
                    }
                    Op::Split => s.split_everything(),
                    Op::Clear => {
                        s.clear();
                        m.clear();
                    }
                }
                prop_assert_eq!(s.len(), m.len());
            }
            for (k, v) in &m {
                prop_assert_eq!(s.read(k, |o| o.copied()), Some(*v));
            }
            // The walks visit objects (here the values) in key order.
            let keys: Vec<u32> = m.values().copied().collect();
            prop_assert_eq!(walk(&s, true, budget), keys.clone());
            let mut rev = keys.clone();
            rev.reverse();
            prop_assert_eq!(walk(&s, false, budget), rev);
            for p in probes {
                prop_assert_eq!(s.step(Some(&p), true), m.range(p + 1..).next().map(|(k, _)| *k));
                prop_assert_eq!(s.step(Some(&p), false), m.range(..p).next_back().map(|(k, _)| *k));
                prop_assert_eq!(s.read(&p, |o| o.copied()), m.get(&p).copied());
            }
            prop_assert_eq!(s.step(None, true), m.keys().next().copied());
            prop_assert_eq!(s.step(None, false), m.keys().next_back().copied());
        }
    }

    #[test]
    fn contention_splits_a_leaf() {
        let s: OrderedStore<u32, u32> = OrderedStore::new(1, false);
        s.insert_many((0..1000).map(|k| (k, k)).collect());
        s.split_everything();
        assert!(s.leaves() > 1, "a big leaf splits");
        assert!(s.leaves() <= MAX_LEAVES);
        assert_eq!(s.len(), 1000);
    }

    /// A Term table's store: leaves of abbreviated keys.
    mod terms {
        use super::*;
        use crate::store::abbrev::AbMap;
        use crate::store::abbrev::tests::{Op, bumped, model_put, obj, op};
        use crate::stored::Stored;
        use crate::term::{OrdTerm, Term};

        type TermStore = OrderedStore<OrdTerm, Stored, AbMap<Stored>>;

        /// Keys that share abbreviations: strings alike in their first seven bytes, fractions
        /// with one floor, integers and their float twins, tuples of one size.
        fn key() -> impl Strategy<Value = Term> {
            prop_oneof![
                3 => (0u32..200).prop_map(|i| Term::binary(format!("prefix_{i:03}").as_bytes())),
                1 => (0u32..40).prop_map(|i| Term::atom(&format!("atomkey{i}"))),
                2 => (-20i64..20).prop_map(Term::Int),
                2 => (-80i64..80).prop_map(|i| Term::Float(i as f64 / 4.0)),
                1 => (0i64..3, 0i64..3)
                    .prop_map(|(a, b)| Term::tuple([Term::Int(a), Term::Int(b)])),
            ]
        }

        fn objs(items: &[(Term, i64)]) -> Vec<(OrdTerm, Stored)> {
            items
                .iter()
                .map(|(k, v)| (OrdTerm(k.clone()), obj(k, *v)))
                .collect()
        }

        /// Every object from `bound` on, `budget` at a time, as a key-range select reads them.
        fn range(s: &TermStore, from: Bound<OrdTerm>, forward: bool, budget: usize) -> Vec<Stored> {
            let mut out = Vec::new();
            let mut bound = from;
            while let Some(k) = s.scan_from(bound, forward, budget, &mut |o| {
                out.push(o.clone());
                true
            }) {
                bound = Bound::Excluded(k);
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            /// Leaves of abbreviated keys split and walked across, including leaves that
            /// share one abbreviation, against an exact B-tree.
            #[test]
            fn term_store_with_splits_matches_an_exact_map(
                prefill in prop::collection::vec((key(), 0i64..100), 0..600),
                ops in prop::collection::vec(op(key, 80), 1..60),
                probes in prop::collection::vec(key(), 1..20),
                budget in 1usize..20,
            ) {
                let s: TermStore = OrderedStore::new(1, false);
                let mut m: BTreeMap<OrdTerm, Stored> = BTreeMap::new();
                for (k, o) in objs(&prefill) {
                    model_put(&mut m, &k.0, o);
                }
                s.insert_many(objs(&prefill));
                s.split_everything();
                for op in ops {
                    match op {
                        Op::Put(k, v) => {
                            s.insert(OrdTerm(k.clone()), obj(&k, v));
                            model_put(&mut m, &k, obj(&k, v));
                        }
                        Op::New(k, v) => {
                            let k = OrdTerm(k);
                            let fresh = !m.contains_key(&k);
                            prop_assert_eq!(s.insert_new(k.clone(), obj(&k.0, v)), fresh);
                            if fresh {
                                m.insert(k.clone(), obj(&k.0, v));
                            }
                        }
                        Op::Remove(k) => {
                            let k = OrdTerm(k);
                            prop_assert_eq!(s.take(&k), m.remove(&k));
                        }
                        Op::Bump(k, text) => {
                            let k = OrdTerm(k);
                            let found = s.update(&k, |cur| match cur {
                                Some(o) => {
                                    *o = bumped(1, o, text);
                                    (true, None)
                                }
                                None => (false, None),
                            });
                            let want = m.get_mut(&k).map(|o| *o = bumped(1, o, text));
                            prop_assert_eq!(found, want.is_some());
                        }
                        Op::Merge(items) => {
                            for (k, o) in objs(&items) {
                                model_put(&mut m, &k.0, o);
                            }
                            s.insert_many(objs(&items));
                        }
                        Op::Split => s.split_everything(),
                    }
                    prop_assert_eq!(s.len(), m.len());
                }
                let all: Vec<Stored> = m.values().cloned().collect();
                prop_assert_eq!(range(&s, Bound::Unbounded, true, budget), all.clone());
                let mut rev = all;
                rev.reverse();
                prop_assert_eq!(range(&s, Bound::Unbounded, false, budget), rev);
                for p in probes {
                    let p = OrdTerm(p);
                    let after = m.range((Bound::Excluded(&p), Bound::Unbounded)).next();
                    let before = m.range(..&p).next_back();
                    // Exact keys: the stored one of two equal keys is the one handed back.
                    prop_assert_eq!(
                        s.step(Some(&p), true).map(|k| k.0),
                        after.map(|(k, _)| k.0.clone())
                    );
                    prop_assert_eq!(
                        s.step(Some(&p), false).map(|k| k.0),
                        before.map(|(k, _)| k.0.clone())
                    );
                    prop_assert_eq!(s.read(&p, |o| o.cloned()), m.get(&p).cloned());
                    let from: Vec<Stored> = m.range(&p..).map(|(_, o)| o.clone()).collect();
                    prop_assert_eq!(range(&s, Bound::Included(p.clone()), true, budget), from);
                    let upto: Vec<Stored> = m.range(..=&p).rev().map(|(_, o)| o.clone()).collect();
                    prop_assert_eq!(range(&s, Bound::Included(p.clone()), false, budget), upto);
                }
            }
        }

        /// A thousand keys with one abbreviation (one slot) still split into many leaves, and
        /// every leaf finds its own part of the slot.
        #[test]
        fn keys_with_one_abbreviation_split_into_many_leaves() {
            let s: TermStore = OrderedStore::new(1, false);
            let keys: Vec<Term> = (0..1000)
                .map(|i| Term::binary(format!("prefix_{i:04}").as_bytes()))
                .collect();
            s.insert_many(
                keys.iter()
                    .map(|k| (OrdTerm(k.clone()), obj(k, 0)))
                    .collect(),
            );
            s.split_everything();
            assert!(s.leaves() > 1, "one shared abbreviation still splits");
            assert_eq!(s.len(), 1000);
            for (i, k) in keys.iter().enumerate() {
                let k = OrdTerm::from_ref(k);
                assert!(s.read(k, |o| o.is_some()));
                assert_eq!(s.step(Some(k), true).map(|k| k.0).as_ref(), keys.get(i + 1));
                let before = i.checked_sub(1).map(|j| &keys[j]);
                assert_eq!(s.step(Some(k), false).map(|k| k.0).as_ref(), before);
                // A leaf's lowest key is a route bound: walking down from it must include it.
                let down = range(&s, Bound::Included(k.clone()), false, 7);
                assert_eq!(down.len(), i + 1, "from {:?} down", k.0);
            }
        }
    }
}
