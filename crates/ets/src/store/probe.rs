//! An open-addressing hash table with linear probing: one shard of a hash table.
//!
//! We write our own instead of using `std::collections::HashMap` because ETS traversals
//! (`first`/`next`, continuations) need a *position* in the table: a bucket index that stays
//! meaningful between two calls. Deleting leaves a tombstone instead of moving entries, so a
//! position survives deletes; only a resize moves entries, which is ETS's own "unsafe traversal"
//! caveat (a traversal racing with writers may miss or repeat a key, never fail).

/// One bucket.
pub(crate) enum Bucket<V> {
    Empty,
    Tomb,
    Full(Entry<V>),
}

/// A stored value with its key's hash, kept to skip most key comparisons and to rehash without
/// hashing again. The key itself is not stored: the value holds it (a table's objects hold
/// their key), and [`Probe::find`] asks the caller whether a value has the key sought.
pub(crate) struct Entry<V> {
    pub(crate) hash: u64,
    pub(crate) val: V,
}

pub(crate) struct Probe<V> {
    buckets: Box<[Bucket<V>]>,
    /// Full buckets.
    len: usize,
    /// Full plus tombstone buckets: what decides when to resize, since probes stop only at
    /// empty buckets.
    used: usize,
}

const MIN_CAP: usize = 8;

impl<V> Probe<V> {
    pub(crate) fn new() -> Self {
        Probe {
            buckets: Box::new([]),
            len: 0,
            used: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// The bucket index of the value with key hash `hash` for which `is_key` holds, if any.
    #[inline]
    pub(crate) fn find(&self, hash: u64, is_key: impl Fn(&V) -> bool) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &self.buckets[i] {
                Bucket::Empty => return None,
                Bucket::Full(e) if e.hash == hash && is_key(&e.val) => return Some(i),
                _ => {}
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Entry<V>> {
        match self.buckets.get(i) {
            Some(Bucket::Full(e)) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Entry<V>> {
        match self.buckets.get_mut(i) {
            Some(Bucket::Full(e)) => Some(e),
            _ => None,
        }
    }

    /// Inserts a value whose key is known to be absent; returns its bucket index.
    pub(crate) fn insert_new(&mut self, hash: u64, val: V) -> usize {
        if (self.used + 1) * 8 > self.buckets.len() * 7 {
            self.resize(((self.len + 1) * 2).next_power_of_two().max(MIN_CAP));
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &self.buckets[i] {
                Bucket::Empty => {
                    self.used += 1;
                    break;
                }
                Bucket::Tomb => break,
                Bucket::Full(_) => i = (i + 1) & mask,
            }
        }
        self.buckets[i] = Bucket::Full(Entry { hash, val });
        self.len += 1;
        i
    }

    /// Removes the entry at bucket `i`. Entries never move on removal; a tombstone is left
    /// unless the next bucket is empty, in which case the run of tombstones before it is cleared.
    pub(crate) fn remove_at(&mut self, i: usize) -> Option<Entry<V>> {
        if !matches!(self.buckets.get(i), Some(Bucket::Full(_))) {
            return None;
        }
        let mask = self.mask();
        let next_empty = matches!(self.buckets[(i + 1) & mask], Bucket::Empty);
        let old = std::mem::replace(
            &mut self.buckets[i],
            if next_empty {
                Bucket::Empty
            } else {
                Bucket::Tomb
            },
        );
        self.len -= 1;
        if next_empty {
            self.used -= 1;
            let mut j = i.wrapping_sub(1) & mask;
            while matches!(self.buckets[j], Bucket::Tomb) {
                self.buckets[j] = Bucket::Empty;
                self.used -= 1;
                j = j.wrapping_sub(1) & mask;
            }
        }
        if self.len * 8 < self.buckets.len() && self.buckets.len() > 64 {
            self.resize((self.len * 2).next_power_of_two().max(MIN_CAP));
        }
        match old {
            Bucket::Full(e) => Some(e),
            _ => None,
        }
    }

    fn resize(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.buckets, (0..cap).map(|_| Bucket::Empty).collect());
        self.len = 0;
        self.used = 0;
        for b in old.into_vec() {
            if let Bucket::Full(e) = b {
                self.insert_new(e.hash, e.val);
            }
        }
    }

    /// Drops every entry and releases the memory.
    pub(crate) fn clear(&mut self) {
        *self = Probe::new();
    }

    /// The first full bucket at index `from` or later.
    pub(crate) fn next_full(&self, from: usize) -> Option<usize> {
        (from..self.buckets.len()).find(|&i| matches!(self.buckets[i], Bucket::Full(_)))
    }

    /// Every entry, in bucket order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry<V>> {
        self.buckets.iter().filter_map(|b| match b {
            Bucket::Full(e) => Some(e),
            _ => None,
        })
    }
}
