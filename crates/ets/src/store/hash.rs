//! Lock-striped hash storage for `set`, `bag` and `duplicate_bag`.
//!
//! A bucket holds the key's hash and the key's objects, not the key: the objects hold it
//! ([`Keyed`]), so a key is stored once and a bucket of a set of `{Int, Int}` is 32 bytes.
//!
//! The table is split into shards, each an open-addressing table under its own reader-writer
//! lock, padded to a cache line so that two shards' locks never share one. A key's shard comes
//! from the high bits of its hash, its bucket from the low bits. All objects with one key live
//! in one bucket, so every single-key operation (insert, take, delete_object, update) takes one
//! lock and is atomic; list inserts lock every shard they touch, in index order, which rules out
//! lock-order deadlocks between two list inserts.

use std::hash::Hash;

use super::lock::{ShardLock, WriteGuard};
use super::probe::Probe;
use super::{Keyed, Objs};
use crate::hash::hash_one;
use crate::options::TableType;
use crossbeam::utils::CachePadded;

struct Shard<O> {
    t: Probe<Objs<O>>,
    /// Objects in this shard (a bag key may hold several).
    objects: usize,
}

/// A position in a hash table: shard, then bucket. Only stable while no resize happens, as in
/// ETS without `safe_fixtable`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HashCursor {
    pub(crate) shard: usize,
    pub(crate) bucket: usize,
}

type Shards<O> = Box<[CachePadded<ShardLock<Shard<O>>>]>;

pub(crate) struct HashStore<K, O> {
    shards: Shards<O>,
    kind: TableType,
    /// The table's key position, for [`Keyed`].
    keypos: usize,
    _key: std::marker::PhantomData<fn(&K)>,
}

/// Shard count: enough stripes that threads rarely meet on one, a power of two.
fn shard_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
    (cores * 16).next_power_of_two().clamp(16, 1024)
}

impl<K: Hash + Eq + Clone, O: Keyed<K>> HashStore<K, O> {
    /// A store of `kind`; `read_concurrency` makes its shard locks reader-biased.
    pub(crate) fn new(kind: TableType, read_concurrency: bool, keypos: usize) -> Self {
        HashStore {
            shards: (0..shard_count())
                .map(|_| {
                    CachePadded::new(ShardLock::new(
                        Shard {
                            t: Probe::new(),
                            objects: 0,
                        },
                        read_concurrency,
                    ))
                })
                .collect(),
            kind,
            keypos,
            _key: std::marker::PhantomData,
        }
    }

    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        (hash >> 40) as usize & (self.shards.len() - 1)
    }

    /// Whether a bucket's objects are those of `key`. A bucket never keeps an empty list.
    #[inline]
    fn is_key<'k>(&self, key: &'k K) -> impl Fn(&Objs<O>) -> bool + use<'k, K, O> {
        let keypos = self.keypos;
        move |objs| {
            objs.as_slice()
                .first()
                .is_some_and(|o| o.has_key(keypos, key))
        }
    }

    /// Runs `f` on the objects stored under `key` (empty if none), under the shard's read lock.
    /// `f` is always crate code (a copy or a match), never user code.
    #[inline]
    pub(crate) fn read<R>(&self, key: &K, f: impl FnOnce(&[O]) -> R) -> R {
        let hash = hash_one(key);
        let shard = self.shards[self.shard_index(hash)].read();
        match shard
            .t
            .find(hash, self.is_key(key))
            .and_then(|i| shard.t.get(i))
        {
            Some(e) => f(e.val.as_slice()),
            None => f(&[]),
        }
    }

    /// Inserts with the table type's semantics; returns the object a set replaced, so that the
    /// caller can drop it after releasing the lock (freeing it may miss the cache).
    fn put(&self, shard: &mut Shard<O>, hash: u64, key: &K, obj: O) -> Option<Objs<O>> {
        let kind = self.kind;
        match shard.t.find(hash, self.is_key(key)) {
            Some(i) => {
                if let Some(e) = shard.t.get_mut(i) {
                    match kind {
                        TableType::Bag => {
                            if !e.val.as_slice().contains(&obj) {
                                e.val.push(obj);
                                shard.objects += 1;
                            }
                        }
                        TableType::DuplicateBag => {
                            e.val.push(obj);
                            shard.objects += 1;
                        }
                        TableType::Set | TableType::OrderedSet => {
                            return Some(std::mem::replace(&mut e.val, Objs::One(obj)));
                        }
                    }
                }
                None
            }
            None => {
                shard.t.insert_new(hash, Objs::One(obj));
                shard.objects += 1;
                None
            }
        }
    }

    #[inline]
    pub(crate) fn insert(&self, key: K, obj: O) {
        let hash = hash_one(&key);
        let mut shard = self.shards[self.shard_index(hash)].write();
        let replaced = self.put(&mut shard, hash, &key, obj);
        drop(shard);
        drop(replaced);
    }

    /// Write-locks the shards of `hashes` in ascending index order. Returns the guards and, for
    /// each hash, the position of its guard.
    fn lock_all_of(&self, hashes: &[u64]) -> (Vec<WriteGuard<'_, Shard<O>>>, Vec<usize>) {
        let mut idx: Vec<usize> = hashes.iter().map(|&h| self.shard_index(h)).collect();
        let mut order = idx.clone();
        order.sort_unstable();
        order.dedup();
        let guards = order.iter().map(|&s| self.shards[s].write()).collect();
        for i in &mut idx {
            // `order` holds every shard index of `idx`, so the search always succeeds.
            *i = order.binary_search(i).unwrap_or(0);
        }
        (guards, idx)
    }

    /// Inserts every object atomically: no reader sees part of the list.
    pub(crate) fn insert_many(&self, items: Vec<(K, O)>) {
        let hashes: Vec<u64> = items.iter().map(|(k, _)| hash_one(k)).collect();
        let (mut guards, pos) = self.lock_all_of(&hashes);
        for (((k, o), h), p) in items.into_iter().zip(hashes).zip(pos) {
            let _replaced = self.put(&mut guards[p], h, &k, o);
        }
    }

    pub(crate) fn insert_new(&self, key: K, obj: O) -> bool {
        let hash = hash_one(&key);
        let mut shard = self.shards[self.shard_index(hash)].write();
        if shard.t.find(hash, self.is_key(&key)).is_some() {
            return false;
        }
        let _ = self.put(&mut shard, hash, &key, obj);
        true
    }

    /// Inserts the list only if no key of it is present, atomically.
    pub(crate) fn insert_new_many(&self, items: Vec<(K, O)>) -> bool {
        let hashes: Vec<u64> = items.iter().map(|(k, _)| hash_one(k)).collect();
        let (mut guards, pos) = self.lock_all_of(&hashes);
        let clash = items
            .iter()
            .zip(&hashes)
            .zip(&pos)
            .any(|(((k, _), &h), &p)| guards[p].t.find(h, self.is_key(k)).is_some());
        if clash {
            return false;
        }
        for (((k, o), h), p) in items.into_iter().zip(hashes).zip(pos) {
            let _replaced = self.put(&mut guards[p], h, &k, o);
        }
        true
    }

    /// Removes and returns every object with `key`.
    pub(crate) fn take(&self, key: &K) -> Vec<O> {
        let hash = hash_one(key);
        let mut shard = self.shards[self.shard_index(hash)].write();
        match shard
            .t
            .find(hash, self.is_key(key))
            .and_then(|i| shard.t.remove_at(i))
        {
            Some(e) => {
                let v = e.val.into_vec();
                shard.objects -= v.len();
                v
            }
            None => Vec::new(),
        }
    }

    /// Removes every object with `key`; returns how many went.
    pub(crate) fn delete(&self, key: &K) -> usize {
        self.take(key).len()
    }

    /// Removes every object equal to `obj` under `key` (all copies in a duplicate bag).
    pub(crate) fn delete_object(&self, key: &K, obj: &O) -> usize {
        let hash = hash_one(key);
        let mut shard = self.shards[self.shard_index(hash)].write();
        let Some(i) = shard.t.find(hash, self.is_key(key)) else {
            return 0;
        };
        let (removed, now_empty) = match shard.t.get_mut(i) {
            Some(e) => {
                let removed = e.val.retain(|o| o != obj);
                (removed, e.val.is_empty())
            }
            None => (0, false),
        };
        if now_empty {
            shard.t.remove_at(i);
        }
        shard.objects -= removed;
        removed
    }

    /// Replaces the first object equal to `old` under `key` with `new` (a compare-and-swap).
    pub(crate) fn replace_object(&self, key: &K, old: &O, new: O) -> bool {
        let hash = hash_one(key);
        let mut shard = self.shards[self.shard_index(hash)].write();
        let Some(i) = shard.t.find(hash, self.is_key(key)) else {
            return false;
        };
        match shard.t.get_mut(i) {
            Some(e) => e.val.replace_first(old, new),
            None => false,
        }
    }

    /// Runs `f` on the object under `key` (set semantics) with the shard write-locked. If the key
    /// is absent, `f` gets `None` and may return an object to insert under `key`.
    /// `f` is crate code (counter and element updates, comparisons), never user code.
    pub(crate) fn update<R>(&self, key: &K, f: impl FnOnce(Option<&mut O>) -> (R, Option<O>)) -> R {
        let hash = hash_one(key);
        let mut shard = self.shards[self.shard_index(hash)].write();
        match shard.t.find(hash, self.is_key(key)) {
            Some(i) => match shard.t.get_mut(i).and_then(|e| e.val.first_mut()) {
                Some(o) => f(Some(o)).0,
                None => f(None).0,
            },
            None => {
                let (r, ins) = f(None);
                if let Some(o) = ins {
                    let _ = self.put(&mut shard, hash, key, o);
                }
                r
            }
        }
    }

    /// Empties the table atomically: every shard is locked before any is cleared.
    pub(crate) fn clear(&self) {
        let mut guards: Vec<_> = self.shards.iter().map(|s| s.write()).collect();
        for g in &mut guards {
            g.t.clear();
            g.objects = 0;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().objects).sum()
    }

    /// Approximate bytes used: buckets plus what `heap` says each object owns.
    pub(crate) fn memory(&self, heap: impl Fn(&O) -> usize) -> usize {
        let bucket = std::mem::size_of::<super::probe::Bucket<Objs<O>>>();
        self.shards
            .iter()
            .map(|s| {
                let s = s.read();
                s.t.capacity() * bucket
                    + s.t
                        .iter()
                        .flat_map(|e| e.val.as_slice())
                        .map(&heap)
                        .sum::<usize>()
            })
            .sum::<usize>()
            + self.shards.len() * std::mem::size_of::<CachePadded<ShardLock<Shard<O>>>>()
    }

    /// The first key in the table's internal order.
    pub(crate) fn first_key(&self) -> Option<K> {
        self.key_from(HashCursor::default())
    }

    fn key_from(&self, mut c: HashCursor) -> Option<K> {
        while c.shard < self.shards.len() {
            let s = self.shards[c.shard].read();
            // Every full bucket has an object (a bucket never keeps an empty list); should one
            // not, step past it rather than past the rest of the shard.
            while let Some(i) = s.t.next_full(c.bucket) {
                if let Some(o) = s.t.get(i).and_then(|e| e.val.as_slice().first()) {
                    return Some(o.key(self.keypos));
                }
                debug_assert!(false, "a hash bucket kept an empty object list");
                c.bucket = i + 1;
            }
            c = HashCursor {
                shard: c.shard + 1,
                bucket: 0,
            };
        }
        None
    }

    /// The key after `key` in internal order; `Err` if `key` is not in the table (ETS's badarg:
    /// a hash table has no position for a missing key).
    pub(crate) fn next_key(&self, key: &K) -> Result<Option<K>, ()> {
        let hash = hash_one(key);
        let si = self.shard_index(hash);
        let bucket = {
            let s = self.shards[si].read();
            s.t.find(hash, self.is_key(key)).ok_or(())?
        };
        Ok(self.key_from(HashCursor {
            shard: si,
            bucket: bucket + 1,
        }))
    }

    /// Visits whole keys from `cursor` on, one shard read lock at a time, until at least
    /// `budget` objects were visited; moves the cursor past them. Returns true when the end of
    /// the table is reached. `f` is crate code (a copy or a match), never user code.
    pub(crate) fn scan(
        &self,
        cursor: &mut HashCursor,
        budget: usize,
        f: &mut dyn FnMut(&[O]),
    ) -> bool {
        let mut seen = 0;
        while cursor.shard < self.shards.len() {
            let s = self.shards[cursor.shard].read();
            while let Some(i) = s.t.next_full(cursor.bucket) {
                cursor.bucket = i + 1;
                if let Some(e) = s.t.get(i) {
                    let objs = e.val.as_slice();
                    seen += objs.len();
                    f(objs);
                }
                if seen >= budget {
                    return false;
                }
            }
            cursor.shard += 1;
            cursor.bucket = 0;
        }
        true
    }
}
