//! The map inside one leaf of the ordered store, and its plain implementation.
//!
//! The ordered store ([`OrderedStore`](super::ordered::OrderedStore)) partitions, locks and
//! routes; a [`LeafMap`] holds one partition's objects in key order. Typed tables use a plain
//! `BTreeMap<Key, Record>`, whose keys are small and compare cheaply. Term tables use
//! [`AbMap`](super::abbrev::AbMap), a B-tree on 8-byte abbreviations of their keys, because a
//! B-tree of 24-byte `Term` keys beside 24-byte objects is twice as slow to search.

use std::collections::BTreeMap;
use std::ops::Bound;

/// One leaf's objects in key order. `K` is the ordered key (for Term tables, numbers compare by
/// value, so `1` and `1.0` are one key); keys that compare equal are one key.
pub(crate) trait LeafMap<K, O>: Send + Sync + Sized {
    /// An empty map for a table with key position `keypos` (1-based).
    fn empty(keypos: usize) -> Self;
    fn len(&self) -> usize;
    /// Runs `f` on the object with `key`, or on `None`.
    fn read<R>(&self, key: &K, f: impl FnOnce(Option<&O>) -> R) -> R;
    fn contains(&self, key: &K) -> bool {
        self.read(key, |o| o.is_some())
    }
    /// Runs `f` on the object with `key` (which `f` may change, but not its key), or on `None`.
    fn update<R>(&mut self, key: &K, f: impl FnOnce(Option<&mut O>) -> R) -> R;
    /// Inserts or replaces. A replaced object's key is replaced too: inserting `{1.0, x}` over
    /// `{1, y}` leaves the key `1.0`, as in ETS. Returns the replaced object, for the caller to
    /// drop once its lock is released.
    fn put(&mut self, key: K, obj: O) -> Option<O>;
    /// Inserts unless the key is present; returns whether it inserted.
    fn insert_new(&mut self, key: K, obj: O) -> bool;
    fn remove(&mut self, key: &K) -> Option<O>;
    fn clear(&mut self);
    /// Bytes the map uses, with `heap` giving the bytes each object owns.
    fn bytes(&self, heap: &dyn Fn(&O) -> usize) -> usize;
    /// Moves the upper half of the objects into a new map; returns the new map's lowest key and
    /// the map, or `None` when the objects cannot be divided.
    fn split_upper(&mut self) -> Option<(K, Self)>;
    /// Inserts `items` in order, as `put` one by one would, but rebuilds the map in one pass:
    /// for a bulk load into a leaf no bigger than the list. A tree built from a sorted run has
    /// full nodes, where inserting ascending keys one by one leaves every node half empty; a
    /// denser tree has fewer levels and misses the cache less on every later operation.
    fn merge(&mut self, items: Vec<(K, O)>);
    /// Visits the objects after `bound` in key order (`forward`) or before it in reverse order,
    /// while `f` returns true. Returns the key of the object for which `f` returned false, or
    /// `None` when the map ran out first.
    fn visit(&self, bound: Bound<&K>, forward: bool, f: &mut dyn FnMut(&O) -> bool) -> Option<K>;
}

/// `old` (sorted, distinct keys) with `new` inserted as by a sequence of inserts: the last of
/// equal keys in `new` wins, and a new pair replaces an equal old one, key included (`1.0`
/// replaces `1`). The result is sorted with distinct keys.
pub(crate) fn merge_sorted<K: Ord, O>(
    old: impl Iterator<Item = (K, O)>,
    mut new: Vec<(K, O)>,
) -> Vec<(K, O)> {
    // Stable: equal keys stay in insertion order, so the last one is the one to keep.
    new.sort_by(|a, b| a.0.cmp(&b.0));
    let mut fresh: Vec<(K, O)> = Vec::with_capacity(new.len());
    for pair in new {
        match fresh.last_mut() {
            Some(last) if last.0 == pair.0 => *last = pair,
            _ => fresh.push(pair),
        }
    }
    let mut old = old.peekable();
    let mut merged: Vec<(K, O)> = Vec::with_capacity(old.size_hint().0 + fresh.len());
    for pair in fresh {
        while let Some(o) = old.next_if(|o| o.0 < pair.0) {
            merged.push(o);
        }
        // An old pair equal to the new one is replaced.
        let _ = old.next_if(|o| o.0 == pair.0);
        merged.push(pair);
    }
    merged.extend(old);
    merged
}

/// Typed tables: the key's own `Ord`, where keys that compare equal are identical.
impl<K, O> LeafMap<K, O> for BTreeMap<K, O>
where
    K: Ord + Clone + Send + Sync,
    O: Send + Sync,
{
    fn empty(_keypos: usize) -> Self {
        BTreeMap::new()
    }

    fn len(&self) -> usize {
        BTreeMap::len(self)
    }

    #[inline]
    fn read<R>(&self, key: &K, f: impl FnOnce(Option<&O>) -> R) -> R {
        f(BTreeMap::get(self, key))
    }

    fn update<R>(&mut self, key: &K, f: impl FnOnce(Option<&mut O>) -> R) -> R {
        f(BTreeMap::get_mut(self, key))
    }

    #[inline]
    fn put(&mut self, key: K, obj: O) -> Option<O> {
        self.insert(key, obj)
    }

    fn insert_new(&mut self, key: K, obj: O) -> bool {
        match self.entry(key) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(obj);
                true
            }
            std::collections::btree_map::Entry::Occupied(_) => false,
        }
    }

    fn remove(&mut self, key: &K) -> Option<O> {
        BTreeMap::remove(self, key)
    }

    fn clear(&mut self) {
        BTreeMap::clear(self)
    }

    fn bytes(&self, heap: &dyn Fn(&O) -> usize) -> usize {
        // Keys and objects, plus an estimate of the B-tree's node overhead per entry.
        let per = std::mem::size_of::<K>() + std::mem::size_of::<O>() + 16;
        self.len() * per + self.values().map(heap).sum::<usize>()
    }

    fn split_upper(&mut self) -> Option<(K, Self)> {
        let median = self.keys().nth(self.len() / 2)?.clone();
        let upper = self.split_off(&median);
        Some((median, upper))
    }

    fn merge(&mut self, items: Vec<(K, O)>) {
        let old = std::mem::take(self);
        // Sorted and distinct: `from_iter` builds the tree bottom-up.
        *self = merge_sorted(old.into_iter(), items).into_iter().collect();
    }

    fn visit(&self, bound: Bound<&K>, forward: bool, f: &mut dyn FnMut(&O) -> bool) -> Option<K> {
        if forward {
            for (k, o) in self.range::<K, _>((bound, Bound::Unbounded)) {
                if !f(o) {
                    return Some(k.clone());
                }
            }
        } else {
            for (k, o) in self.range::<K, _>((Bound::Unbounded, bound)).rev() {
                if !f(o) {
                    return Some(k.clone());
                }
            }
        }
        None
    }
}
