//! A Term `ordered_set` leaf: a B-tree on 8-byte abbreviations of the keys.
//!
//! A `BTreeMap<OrdTerm, Stored>` node holds eleven 24-byte keys beside eleven 24-byte objects;
//! a search reads several cache lines of keys per node, and the node's length sits after all
//! of them. Searching it costs about twice what a typed table's `BTreeMap<u64, (u64, u64)>`
//! costs. [`AbMap`] keys its B-tree by [`abbrev`], a `u64` that orders keys as Erlang's term
//! order does but may give several keys the same value, and keeps in each slot the one object
//! with that abbreviation or, rarely, a small exact map of the keys that share it. Integer keys
//! within ±2^58 all have distinct abbreviations, and such a key can be read back from its
//! abbreviation.
//!
//! So the commonest ordered_set row, an integer key beside one other number (`{Id, Count}`,
//! `{Time, Value}`), keeps only that other number: a second B-tree, `ints`, maps the key's
//! abbreviation to the number's kind and bits, 16 bytes where a slot is 24. Smaller nodes
//! make fewer cache misses: 15-20% more such inserts per second at 100,000 keys. A lookup of a
//! whole-number key tries `ints` first; the two maps never hold equal keys (`3` packed and
//! `3.0` in a slot would be one key), and walks merge them in key order.
//!
//! The one property everything rests on: `abbrev` never reverses the order. If `a < b` then
//! `abbrev(a) <= abbrev(b)`; equal keys (`1` and `1.0`) have equal abbreviations. So slots in
//! abbreviation order hold their keys in key order, and a key can only be in the slot of its
//! own abbreviation.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::ops::Bound;

use super::Keyed;
use super::leaf::{LeafMap, merge_sorted};
use crate::stored::Packed;
use crate::term::{OrdTerm, Term};

/// The abbreviation's top four bits are the key's type class, in term order.
const CLASS_SHIFT: u32 = 60;
/// The low 60 bits: a number's value, or the start of a string, or a tuple's size.
const PAYLOAD: u64 = (1 << CLASS_SHIFT) - 1;
/// Integers in `[-NUM_LIMIT, NUM_LIMIT)` have distinct abbreviations; smaller numbers share
/// the lowest and larger numbers the highest.
const NUM_LIMIT: i64 = 1 << 58;
const NUM_ZERO: i64 = 1 << 59;

/// An abbreviation of `key` that never reverses Erlang's term order (see the module docs).
#[inline]
pub(crate) fn abbrev(key: &Term) -> u64 {
    // Integers, the commonest ordered keys, without a call.
    match key {
        Term::Int(i) => number(*i),
        _ => abbrev_other(key),
    }
}

fn abbrev_other(key: &Term) -> u64 {
    match key {
        Term::Int(i) => number(*i),
        // Never stored, but `next`/`prev` accept any key: `Term::compare` puts NaN after every
        // number, or before every number when its sign bit is set.
        Term::Float(f) if f.is_nan() => {
            if f.is_sign_negative() {
                0
            } else {
                PAYLOAD
            }
        }
        Term::Float(f) => {
            // An integer below a float is at most its floor, one above it is above the floor,
            // and a float equal to an integer is its own floor: abbreviating a float by its
            // floor keeps integers and floats in order.
            let floor = f.floor();
            if floor < -(NUM_LIMIT as f64) {
                0
            } else if floor >= NUM_LIMIT as f64 {
                PAYLOAD
            } else {
                number(floor as i64)
            }
        }
        Term::Atom(a) => class(key) | prefix(a.as_str().as_bytes()),
        Term::Binary(b) => class(key) | prefix(b),
        // Tuples compare by size first.
        Term::Tuple(v) => class(key) | (v.len() as u64).min(PAYLOAD),
        _ => class(key),
    }
}

#[inline]
fn number(i: i64) -> u64 {
    // Class 0: numbers come first in term order.
    if i < -NUM_LIMIT {
        0
    } else if i >= NUM_LIMIT {
        PAYLOAD
    } else {
        (NUM_ZERO + i) as u64
    }
}

#[inline]
fn class(key: &Term) -> u64 {
    u64::from(key.class()) << CLASS_SHIFT
}

/// The first seven bytes, big-endian and padded with zeros, then the length up to 7 in the low
/// four bits. Byte strings compare byte by byte, a prefix first: if `a < b` they differ in the
/// first seven bytes (and so do these bits, in the same direction), or they agree there and
/// either both have at least seven bytes (equal bits) or `a` is the shorter, padded with zeros
/// where `b` has zeros too (a smaller length).
#[inline]
fn prefix(bytes: &[u8]) -> u64 {
    let n = bytes.len().min(7);
    let mut buf = [0u8; 8];
    buf[..n].copy_from_slice(&bytes[..n]);
    // The seven bytes in the low 56 bits, the first one highest.
    ((u64::from_be_bytes(buf) >> 8) << 4) | n as u64
}

/// The objects whose keys share one abbreviation.
#[allow(clippy::box_collection)] // Boxed so that a slot is no bigger than one object.
enum Slot<O> {
    /// The common case: one key has this abbreviation.
    One(O),
    /// At least two keys share it (such as `1` and `1.5`, or strings with the same first
    /// seven bytes), ordered exactly.
    Many(Box<BTreeMap<OrdTerm, O>>),
}

/// A Term ordered_set leaf; see the module docs.
///
/// Invariants: `len` is the number of objects; a `Many` slot holds at least two; `ints` holds
/// exactly the objects that [`Keyed::pack`] takes apart and whose key is an integer in the
/// exact range ([`exact`]); no key is in both maps. So a slot that shares its abbreviation
/// with an `ints` entry (the integer `n`) holds only floats between `n` and `n + 1`, all above
/// `n`: at one abbreviation, the `ints` entry comes first.
pub(crate) struct AbMap<O> {
    keypos: usize,
    len: usize,
    /// Packed objects `{N, X}`, by the abbreviation of N (which N can be read back from):
    /// 16 bytes where a slot is 24, so that a table of integer-keyed pairs of numbers has
    /// smaller B-tree nodes.
    ints: BTreeMap<u64, Packed>,
    slots: BTreeMap<u64, Slot<O>>,
}

/// How `o`'s key compares with `key`, in term order.
#[inline]
fn cmp_key<O: Keyed<Term>>(keypos: usize, o: &O, key: &OrdTerm) -> Ordering {
    o.with_key(keypos, |k| OrdTerm::from_ref(k).cmp(key))
}

fn key_of<O: Keyed<Term>>(keypos: usize, o: &O) -> OrdTerm {
    OrdTerm(o.key(keypos))
}

/// Whether the integer `n` has an abbreviation of its own, from which it can be read back.
#[inline]
fn exact(n: i64) -> bool {
    (-NUM_LIMIT..NUM_LIMIT).contains(&n)
}

/// The integer whose abbreviation `ab` is (for abbreviations of [`exact`] integers).
#[inline]
fn unnumber(ab: u64) -> i64 {
    ab as i64 - NUM_ZERO
}

/// The key's value if it is a whole number with an exact abbreviation (`3` or `3.0`): the keys
/// that may equal an `ints` entry.
#[inline]
fn whole(key: &Term) -> Option<i64> {
    match *key {
        Term::Int(i) if exact(i) => Some(i),
        Term::Float(f) if f.fract() == 0.0 && f >= -(NUM_LIMIT as f64) && f < NUM_LIMIT as f64 => {
            Some(f as i64)
        }
        _ => None,
    }
}

/// Inserts or replaces in an exact map, storing the new key when an equal one differs (`1.0`
/// over `1`).
fn put_exact<O>(m: &mut BTreeMap<OrdTerm, O>, key: OrdTerm, obj: O) -> Option<O> {
    // One search: the copy is a pointer increment at worst, a search of shared-prefix strings
    // costs far more.
    let copy = key.clone();
    match m.entry(key) {
        Entry::Vacant(v) => {
            v.insert(obj);
            None
        }
        Entry::Occupied(mut e) if e.key().0 == copy.0 => Some(e.insert(obj)),
        Entry::Occupied(e) => {
            let old = e.remove();
            m.insert(copy, obj);
            Some(old)
        }
    }
}

/// Whether a key that compares `ord` with the bound's key lies beyond `bound` in the direction
/// of travel.
fn beyond(ord: Ordering, bound: Bound<&OrdTerm>, forward: bool) -> bool {
    match (bound, forward) {
        (Bound::Unbounded, _) => true,
        (Bound::Included(_), true) => ord != Ordering::Less,
        (Bound::Excluded(_), true) => ord == Ordering::Greater,
        (Bound::Included(_), false) => ord != Ordering::Greater,
        (Bound::Excluded(_), false) => ord == Ordering::Less,
    }
}

/// One entry of either map, for walks over both in key order.
enum Either<'a, O> {
    Int(u64, Packed),
    Slot(u64, &'a Slot<O>),
}

impl<O: Keyed<Term> + Send + Sync> AbMap<O> {
    /// The object packed as `p` under abbreviation `ab`.
    #[inline]
    fn unpack(&self, ab: u64, p: Packed) -> Option<O> {
        O::unpack(unnumber(ab), p, self.keypos)
    }

    /// The object's packed form, if it belongs in `ints`.
    #[inline]
    fn pack(&self, obj: &O) -> Option<(i64, Packed)> {
        obj.pack(self.keypos).filter(|(n, _)| exact(*n))
    }

    /// Puts an object that does not pack into the slots; `ints` holds no key equal to `key`.
    fn put_slot(&mut self, ab: u64, key: OrdTerm, obj: O) -> Option<O> {
        let keypos = self.keypos;
        let slot = match self.slots.entry(ab) {
            Entry::Vacant(v) => {
                v.insert(Slot::One(obj));
                self.len += 1;
                return None;
            }
            Entry::Occupied(e) => e.into_mut(),
        };
        match slot {
            // The object holds its key, so replacing it replaces the key too.
            Slot::One(old) if cmp_key(keypos, old, &key) == Ordering::Equal => {
                Some(std::mem::replace(old, obj))
            }
            Slot::One(_) => {
                // A second key with this abbreviation: the slot becomes an exact map.
                let prev = std::mem::replace(slot, Slot::Many(Box::default()));
                if let (Slot::One(old), Slot::Many(m)) = (prev, &mut *slot) {
                    m.insert(key_of(keypos, &old), old);
                    m.insert(key, obj);
                }
                self.len += 1;
                None
            }
            Slot::Many(m) => {
                let old = put_exact(m, key, obj);
                if old.is_none() {
                    self.len += 1;
                }
                old
            }
        }
    }

    /// Removes the object with `key` from the slots.
    fn remove_slot(&mut self, ab: u64, key: &OrdTerm) -> Option<O> {
        let keypos = self.keypos;
        let Entry::Occupied(mut e) = self.slots.entry(ab) else {
            return None;
        };
        let removed = match e.get_mut() {
            Slot::One(o) if cmp_key(keypos, o, key) == Ordering::Equal => match e.remove() {
                Slot::One(o) => Some(o),
                Slot::Many(_) => None,
            },
            Slot::One(_) => None,
            Slot::Many(m) => {
                let removed = m.remove(key);
                // Keep the invariant: a slot left with one object holds it directly.
                let last = if m.len() == 1 { m.pop_first() } else { None };
                if let Some((_, o)) = last {
                    e.insert(Slot::One(o));
                }
                removed
            }
        };
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// Turns sorted objects with distinct keys into packed entries and slots, built bottom-up.
    fn build(keypos: usize, sorted: Vec<(OrdTerm, O)>) -> Self {
        let len = sorted.len();
        let mut ints: Vec<(u64, Packed)> = Vec::new();
        let mut slots: Vec<(u64, Slot<O>)> = Vec::with_capacity(len);
        let mut run: Vec<(OrdTerm, O)> = Vec::new();
        let mut run_ab = 0;
        let flush = |run: &mut Vec<(OrdTerm, O)>, ab: u64, slots: &mut Vec<(u64, Slot<O>)>| {
            if run.len() == 1 {
                if let Some((_, o)) = run.pop() {
                    slots.push((ab, Slot::One(o)));
                }
            } else if run.len() > 1 {
                slots.push((ab, Slot::Many(Box::new(run.drain(..).collect()))));
            }
        };
        for (k, o) in sorted {
            let ab = abbrev(&k.0);
            if let Some((n, p)) = o.pack(keypos).filter(|(n, _)| exact(*n)) {
                ints.push((number(n), p));
                continue;
            }
            if !run.is_empty() && ab != run_ab {
                flush(&mut run, run_ab, &mut slots);
            }
            run_ab = ab;
            run.push((k, o));
        }
        flush(&mut run, run_ab, &mut slots);
        AbMap {
            keypos,
            len,
            ints: ints.into_iter().collect(),
            slots: slots.into_iter().collect(),
        }
    }

    /// The objects in key order, with their keys.
    fn into_sorted(self) -> Vec<(OrdTerm, O)> {
        let keypos = self.keypos;
        let mut out = Vec::with_capacity(self.len);
        let mut ints = self.ints.into_iter().peekable();
        for (ab, slot) in self.slots {
            // Packed entries up to this abbreviation come first (at one abbreviation too).
            while let Some((i, p)) = ints.next_if(|(i, _)| *i <= ab) {
                let n = unnumber(i);
                out.extend(O::unpack(n, p, keypos).map(|o| (OrdTerm(Term::Int(n)), o)));
            }
            match slot {
                Slot::One(o) => out.push((key_of(keypos, &o), o)),
                Slot::Many(m) => out.extend(*m),
            }
        }
        for (i, p) in ints {
            let n = unnumber(i);
            out.extend(O::unpack(n, p, keypos).map(|o| (OrdTerm(Term::Int(n)), o)));
        }
        out
    }

    /// The entries of both maps from abbreviation `lo` on (or up to it, backwards), in key
    /// order.
    fn entries<'a>(
        &'a self,
        lo: Bound<u64>,
        forward: bool,
    ) -> Box<dyn Iterator<Item = Either<'a, O>> + 'a> {
        let ints = |r: std::collections::btree_map::Range<'a, u64, Packed>| {
            r.map(|(&ab, &p)| Either::Int(ab, p))
        };
        let slots = |r: std::collections::btree_map::Range<'a, u64, Slot<O>>| {
            r.map(|(&ab, s)| Either::Slot(ab, s))
        };
        let ab = |e: &Either<'a, O>| match e {
            Either::Int(ab, _) | Either::Slot(ab, _) => *ab,
        };
        if forward {
            let range = (lo, Bound::Unbounded);
            let (mut a, mut b) = (
                ints(self.ints.range(range)).peekable(),
                slots(self.slots.range(range)).peekable(),
            );
            // At one abbreviation the packed integer is the lower key.
            Box::new(std::iter::from_fn(move || match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if ab(x) <= ab(y) => a.next(),
                (Some(_), Some(_)) | (None, _) => b.next(),
                (Some(_), None) => a.next(),
            }))
        } else {
            let range = (Bound::Unbounded, lo);
            let (mut a, mut b) = (
                ints(self.ints.range(range)).rev().peekable(),
                slots(self.slots.range(range)).rev().peekable(),
            );
            Box::new(std::iter::from_fn(move || match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if ab(x) > ab(y) => a.next(),
                (Some(_), Some(_)) | (None, _) => b.next(),
                (Some(_), None) => a.next(),
            }))
        }
    }
}

impl<O: Keyed<Term> + Send + Sync> LeafMap<OrdTerm, O> for AbMap<O> {
    fn empty(keypos: usize) -> Self {
        AbMap {
            keypos,
            len: 0,
            ints: BTreeMap::new(),
            slots: BTreeMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn read<R>(&self, key: &OrdTerm, f: impl FnOnce(Option<&O>) -> R) -> R {
        let ab = abbrev(&key.0);
        if whole(&key.0).is_some()
            && let Some(&p) = self.ints.get(&ab)
        {
            return f(self.unpack(ab, p).as_ref());
        }
        match self.slots.get(&ab) {
            None => f(None),
            Some(Slot::One(o)) => f((cmp_key(self.keypos, o, key) == Ordering::Equal).then_some(o)),
            Some(Slot::Many(m)) => f(m.get(key)),
        }
    }

    fn update<R>(&mut self, key: &OrdTerm, f: impl FnOnce(Option<&mut O>) -> R) -> R {
        let keypos = self.keypos;
        let ab = abbrev(&key.0);
        if whole(&key.0).is_some()
            && let Some(&p) = self.ints.get(&ab)
            && let Some(mut o) = self.unpack(ab, p)
        {
            let r = f(Some(&mut o));
            // Store what `f` left: packed again if it still packs, or moved to the slots.
            match self.pack(&o) {
                Some((n, q)) if number(n) == ab => {
                    self.ints.insert(ab, q);
                }
                _ => {
                    self.ints.remove(&ab);
                    self.len -= 1;
                    let k = key_of(keypos, &o);
                    debug_assert!(&k == key, "an update keeps the object's key");
                    // `put`, not `put_slot`: the maps' rule holds even for a changed key.
                    self.put(k, o);
                }
            }
            return r;
        }
        let packs = |o: &O| o.pack(keypos).is_some_and(|(n, _)| exact(n));
        let (r, repack) = match self.slots.get_mut(&ab) {
            Some(Slot::One(o)) if cmp_key(keypos, o, key) == Ordering::Equal => {
                let r = f(Some(&mut *o));
                (r, packs(o))
            }
            Some(Slot::Many(m)) => match m.get_mut(key) {
                Some(o) => {
                    let r = f(Some(&mut *o));
                    (r, packs(o))
                }
                None => (f(None), false),
            },
            _ => (f(None), false),
        };
        // An object that `f` turned into one that packs moves to `ints`.
        if repack && let Some(o) = self.remove_slot(ab, key) {
            self.put(key_of(keypos, &o), o);
        }
        r
    }

    #[inline]
    fn put(&mut self, key: OrdTerm, obj: O) -> Option<O> {
        let ab = abbrev(&key.0);
        if let Some((_, p)) = self.pack(&obj) {
            // `ab` is the integer key's own abbreviation.
            if let Some(old) = self.ints.insert(ab, p) {
                return self.unpack(ab, old);
            }
            // A new packed key; an equal key (`3.0` for `3`) may be in the slots.
            let old = self.remove_slot(ab, &key);
            self.len += 1;
            return old;
        }
        if whole(&key.0).is_some()
            && let Some(old) = self.ints.remove(&ab)
        {
            // The key is stored packed (`3` for `3.0`); the new object takes its place.
            self.len -= 1;
            let replaced = self.unpack(ab, old);
            self.put_slot(ab, key, obj);
            return replaced;
        }
        self.put_slot(ab, key, obj)
    }

    fn insert_new(&mut self, key: OrdTerm, obj: O) -> bool {
        if self.contains(&key) {
            return false;
        }
        self.put(key, obj);
        true
    }

    fn remove(&mut self, key: &OrdTerm) -> Option<O> {
        let ab = abbrev(&key.0);
        if whole(&key.0).is_some()
            && let Some(p) = self.ints.remove(&ab)
        {
            self.len -= 1;
            return self.unpack(ab, p);
        }
        self.remove_slot(ab, key)
    }

    fn clear(&mut self) {
        self.ints.clear();
        self.slots.clear();
        self.len = 0;
    }

    fn bytes(&self, heap: &dyn Fn(&O) -> usize) -> usize {
        // Abbreviations and slots, plus an estimate of the B-tree's node overhead per entry.
        let per_int = std::mem::size_of::<u64>() + std::mem::size_of::<Packed>() + 16;
        let per_slot = std::mem::size_of::<u64>() + std::mem::size_of::<Slot<O>>() + 16;
        let per_exact = std::mem::size_of::<OrdTerm>() + std::mem::size_of::<O>() + 16;
        let mut n = self.ints.len() * per_int + self.slots.len() * per_slot;
        for slot in self.slots.values() {
            match slot {
                Slot::One(o) => n += heap(o),
                Slot::Many(m) => {
                    n += m.len() * per_exact + m.values().map(heap).sum::<usize>();
                }
            }
        }
        n
    }

    fn split_upper(&mut self) -> Option<(OrdTerm, Self)> {
        let keypos = self.keypos;
        let entries = self.ints.len() + self.slots.len();
        let (upper_ints, upper) = if entries >= 2 {
            // Split both maps before the middle entry of the two in key order.
            let (ints_from, slots_from) =
                match self.entries(Bound::Unbounded, true).nth(entries / 2)? {
                    Either::Int(ab, _) => (ab, ab),
                    // A packed integer at the slot's abbreviation is below it: it stays.
                    Either::Slot(ab, _) => (ab + 1, ab),
                };
            (
                self.ints.split_off(&ints_from),
                self.slots.split_off(&slots_from),
            )
        } else {
            // One slot holds every key: divide its exact map. Both halves keep the
            // abbreviation; each leaf finds its own half under it.
            let mut entry = self.slots.first_entry()?;
            let ab = *entry.key();
            let Slot::Many(m) = entry.get_mut() else {
                return None;
            };
            let median = m.keys().nth(m.len() / 2)?.clone();
            let high = m.split_off(&median);
            if m.len() == 1
                && let Some((_, o)) = m.pop_first()
            {
                entry.insert(Slot::One(o));
            }
            let high = if high.len() == 1 {
                high.into_values().map(Slot::One).next()?
            } else {
                Slot::Many(Box::new(high))
            };
            (BTreeMap::new(), BTreeMap::from([(ab, high)]))
        };
        let upper_len: usize = upper_ints.len()
            + upper
                .values()
                .map(|s| match s {
                    Slot::One(_) => 1,
                    Slot::Many(m) => m.len(),
                })
                .sum::<usize>();
        let first_int = upper_ints.keys().next().copied();
        let first_slot = upper.iter().next().and_then(|(&ab, s)| {
            let key = match s {
                Slot::One(o) => key_of(keypos, o),
                Slot::Many(m) => m.keys().next()?.clone(),
            };
            Some((ab, key))
        });
        let lowest = match (first_int, first_slot) {
            (Some(i), Some((s, _))) if i <= s => OrdTerm(Term::Int(unnumber(i))),
            (_, Some((_, key))) => key,
            (Some(i), None) => OrdTerm(Term::Int(unnumber(i))),
            (None, None) => return None,
        };
        self.len -= upper_len;
        Some((
            lowest,
            AbMap {
                keypos,
                len: upper_len,
                ints: upper_ints,
                slots: upper,
            },
        ))
    }

    fn merge(&mut self, items: Vec<(OrdTerm, O)>) {
        let old = std::mem::replace(self, AbMap::empty(self.keypos));
        let keypos = old.keypos;
        *self = AbMap::build(keypos, merge_sorted(old.into_sorted().into_iter(), items));
    }

    fn visit(
        &self,
        bound: Bound<&OrdTerm>,
        forward: bool,
        f: &mut dyn FnMut(&O) -> bool,
    ) -> Option<OrdTerm> {
        // Entries with the bound's abbreviation may hold keys on either side of it; every other
        // entry in the range lies wholly beyond it.
        let at = match bound {
            Bound::Unbounded => None,
            Bound::Included(k) | Bound::Excluded(k) => Some(abbrev(&k.0)),
        };
        let lo = at.map_or(Bound::Unbounded, Bound::Included);
        for entry in self.entries(lo, forward) {
            match entry {
                Either::Int(ab, p) => {
                    let n = unnumber(ab);
                    let inside = match bound {
                        Bound::Included(k) | Bound::Excluded(k) if at == Some(ab) => {
                            beyond(OrdTerm(Term::Int(n)).cmp(k), bound, forward)
                        }
                        _ => true,
                    };
                    if inside
                        && let Some(o) = self.unpack(ab, p)
                        && !f(&o)
                    {
                        return Some(OrdTerm(Term::Int(n)));
                    }
                }
                Either::Slot(ab, Slot::One(o)) => {
                    let inside = match bound {
                        Bound::Included(k) | Bound::Excluded(k) if at == Some(ab) => {
                            beyond(cmp_key(self.keypos, o, k), bound, forward)
                        }
                        _ => true,
                    };
                    if inside && !f(o) {
                        return Some(key_of(self.keypos, o));
                    }
                }
                Either::Slot(_, Slot::Many(m)) => {
                    if let Some(k) = m.visit(bound, forward, &mut *f) {
                        return Some(k);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stored::Stored;
    use crate::term::Atom;
    use proptest::prelude::*;

    /// Strings alike in their first seven bytes, or differing only by trailing zeros.
    const WORDS: [&str; 15] = [
        "",
        "\0",
        "a",
        "a\0",
        "a\0\0",
        "ab",
        "abcdefg",
        "abcdefg\0",
        "abcdefgh",
        "abcdefgi",
        "abcdefghij",
        "abcdeff",
        "abcdefgz\0\0",
        "\u{ff}",
        "b",
    ];

    /// Keys chosen to share abbreviations: integers and equal floats, fractions with one
    /// floor, numbers around the ±2^58 limits, strings and atoms alike in their first seven
    /// bytes or differing only by trailing zeros, tuples of one size, lists, maps.
    fn key() -> impl Strategy<Value = Term> {
        let limit = 1i64 << 58;
        let big = vec![
            i64::MIN,
            i64::MIN + 1,
            -limit - 1,
            -limit,
            -limit + 1,
            limit - 1,
            limit,
            limit + 1,
            i64::MAX,
        ];
        prop_oneof![
            4 => (-6i64..6).prop_map(Term::Int),
            2 => (-6i64..6).prop_map(|i| Term::Float(i as f64)),
            2 => (-24i64..24).prop_map(|i| Term::Float(i as f64 / 4.0)),
            1 => prop::sample::select(big.clone()).prop_map(Term::Int),
            1 => prop::sample::select(big).prop_map(|i| Term::Float(i as f64)),
            1 => prop::sample::select(vec![1e300, -1e300, 2.5e17, -2.5e17]).prop_map(Term::Float),
            2 => prop::sample::select(&WORDS[..]).prop_map(|w| Term::binary(w.as_bytes())),
            1 => prop::sample::select(&WORDS[..]).prop_map(|w| Term::Atom(Atom::new(w))),
            1 => prop::collection::vec((-2i64..2).prop_map(Term::Int), 0..3).prop_map(Term::tuple),
            1 => prop::collection::vec((-2i64..2).prop_map(Term::Int), 0..3).prop_map(Term::list),
            1 => (-2i64..2).prop_map(|i| Term::map([(Term::Int(i), Term::Int(0))])),
        ]
    }

    /// `{Key, V}` as a table stores it; V is an atom instead when `v` is a multiple of 5 (an
    /// object that does not pack).
    pub(crate) fn obj(key: &Term, v: i64) -> Stored {
        obj_at(1, key, v)
    }

    /// `{Key, V}` for key position 1, `{V, Key}` for 2 (V as in [`obj`]).
    pub(crate) fn obj_at(keypos: usize, key: &Term, v: i64) -> Stored {
        let v = if v % 5 == 0 {
            Term::atom("five")
        } else {
            Term::Int(v)
        };
        let (a, b) = if keypos == 1 {
            (key.clone(), v)
        } else {
            (v, key.clone())
        };
        Stored::new(Term::tuple([a, b]))
    }

    /// The object with `o`'s key and a new value: a number, or an atom when `text` (so a
    /// packed object no longer packs).
    pub(crate) fn bumped(keypos: usize, o: &Stored, text: bool) -> Stored {
        obj_at(keypos, &o.key(keypos), if text { 1005 } else { 1001 })
    }

    /// Any term: numbers over the whole range, strings and atoms of bytes that sort at the
    /// edges (zero, 0x7f/0x80, multi-byte characters), nested tuples, lists and maps.
    fn any_term() -> impl Strategy<Value = Term> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Term::Int),
            (0u32..63, any::<bool>()).prop_map(|(e, neg)| {
                let x = 1i64 << e;
                Term::Int(if neg { -x } else { x })
            }),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Term::Float),
            (-2i64..3, -300i64..300)
                .prop_map(|(d, m)| Term::Float((1i64 << 58) as f64 * d as f64 + m as f64 * 0.5)),
            prop::collection::vec(
                prop::sample::select(vec![0u8, 1, b'a', 0x7f, 0x80, 0xff]),
                0..10
            )
            .prop_map(|b| Term::binary(&b)),
            prop::collection::vec(
                prop::sample::select(vec!['\0', 'a', 'é', '\u{10000}', 'z']),
                0..9
            )
            .prop_map(|c| Term::Atom(Atom::new(&c.into_iter().collect::<String>()))),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Term::tuple),
                prop::collection::vec(inner.clone(), 0..3).prop_map(Term::list),
                prop::collection::vec((inner.clone(), inner), 0..2).prop_map(Term::map),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn abbreviations_never_reverse_term_order(
            (a, b) in prop_oneof![(key(), key()), (any_term(), any_term())],
        ) {
            let (x, y) = (abbrev(&a), abbrev(&b));
            match a.compare(&b) {
                Ordering::Less => prop_assert!(x <= y, "{a:?} < {b:?} but {x:#x} > {y:#x}"),
                Ordering::Equal => prop_assert_eq!(x, y, "{:?} == {:?}", a, b),
                Ordering::Greater => prop_assert!(x >= y, "{a:?} > {b:?} but {x:#x} < {y:#x}"),
            }
        }
    }

    /// Every pair of a list of keys at the edges of the abbreviation: the proptest above
    /// rarely draws two of the strings that differ only past their seventh byte.
    #[test]
    fn abbreviations_order_every_pair_of_edge_cases() {
        let limit = 1i64 << 58;
        let mut keys: Vec<Term> = Vec::new();
        for i in [
            i64::MIN,
            -limit - 1,
            -limit,
            -1,
            0,
            1,
            limit - 1,
            limit,
            i64::MAX,
        ] {
            keys.push(Term::Int(i));
        }
        // Never stored, but `next`/`prev` take any key.
        for f in [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            keys.push(Term::Float(f));
        }
        for f in [
            -1e300,
            -(limit as f64) - 0.5,
            -1.5,
            -1.0,
            -0.5,
            -0.0,
            0.5,
            1.0,
            1e300,
        ] {
            keys.push(Term::Float(f));
        }
        for w in WORDS {
            keys.push(Term::binary(w.as_bytes()));
            keys.push(Term::Atom(Atom::new(w)));
        }
        for n in 0..4 {
            keys.push(Term::tuple((0..n).map(Term::Int)));
            keys.push(Term::list((0..n).map(Term::Int)));
        }
        for a in &keys {
            for b in &keys {
                let (x, y) = (abbrev(a), abbrev(b));
                match a.compare(b) {
                    Ordering::Less => assert!(x <= y, "{a:?} < {b:?} but {x:#x} > {y:#x}"),
                    Ordering::Equal => assert_eq!(x, y, "{a:?} == {b:?}"),
                    Ordering::Greater => assert!(x >= y, "{a:?} > {b:?} but {x:#x} < {y:#x}"),
                }
            }
        }
    }

    /// An operation of the Term-store model tests (here and in `ordered.rs`).
    #[derive(Debug, Clone)]
    pub(crate) enum Op {
        Put(Term, i64),
        New(Term, i64),
        Remove(Term),
        /// Change the object under the key in place (as update_counter does); to a value that
        /// is not a number when the flag is set.
        Bump(Term, bool),
        /// A list insert of up to `bulk` objects.
        Merge(Vec<(Term, i64)>),
        Split,
    }

    /// Operations on keys drawn from `key`; list inserts hold up to `bulk` objects.
    pub(crate) fn op<S>(key: fn() -> S, bulk: usize) -> impl Strategy<Value = Op>
    where
        S: Strategy<Value = Term> + 'static,
    {
        prop_oneof![
            8 => (key(), 0i64..100).prop_map(|(k, v)| Op::Put(k, v)),
            2 => (key(), 0i64..100).prop_map(|(k, v)| Op::New(k, v)),
            4 => key().prop_map(Op::Remove),
            1 => (key(), any::<bool>()).prop_map(|(k, text)| Op::Bump(k, text)),
            1 => prop::collection::vec((key(), 0i64..100), 0..bulk).prop_map(Op::Merge),
            1 => Just(Op::Split),
        ]
    }

    /// The exact model: a B-tree of whole keys where a new key replaces an equal one.
    pub(crate) fn model_put(
        m: &mut BTreeMap<OrdTerm, Stored>,
        k: &Term,
        o: Stored,
    ) -> Option<Stored> {
        let old = m.remove(OrdTerm::from_ref(k));
        m.insert(OrdTerm(k.clone()), o);
        old
    }

    /// Checks the map's invariants and that it holds exactly the model's objects.
    fn check(a: &AbMap<Stored>, m: &BTreeMap<OrdTerm, Stored>) -> Result<(), TestCaseError> {
        let keypos = a.keypos;
        prop_assert_eq!(a.len(), m.len());
        let mut n = a.ints.len();
        for (&ab, &p) in &a.ints {
            let o = a.unpack(ab, p);
            prop_assert!(o.is_some(), "a packed entry unpacks");
            let back = o.as_ref().and_then(|o| a.pack(o));
            prop_assert_eq!(back, Some((unnumber(ab), p)), "and packs back the same");
        }
        let packs = |o: &Stored| a.pack(o).is_some();
        for (ab, slot) in &a.slots {
            // At a packed integer's abbreviation, the slot's keys are all above it.
            let int = a.ints.get(ab).map(|_| OrdTerm(Term::Int(unnumber(*ab))));
            match slot {
                Slot::One(o) => {
                    n += 1;
                    prop_assert_eq!(abbrev(&o.key(keypos)), *ab);
                    prop_assert!(!packs(o), "an object that packs is packed: {:?}", o);
                    if let Some(i) = &int {
                        prop_assert!(&key_of(keypos, o) > i);
                    }
                }
                Slot::Many(x) => {
                    prop_assert!(x.len() >= 2, "a Many slot holds at least two objects");
                    for (k, o) in x.iter() {
                        n += 1;
                        prop_assert_eq!(abbrev(&k.0), *ab);
                        prop_assert_eq!(
                            &k.0,
                            &o.key(keypos),
                            "the exact map's key is the object's"
                        );
                        prop_assert!(!packs(o), "an object that packs is packed: {:?}", o);
                        if let Some(i) = &int {
                            prop_assert!(k > i);
                        }
                    }
                }
            }
        }
        prop_assert_eq!(n, a.len());
        for (k, o) in m {
            prop_assert_eq!(a.read(k, |x| x.cloned()), Some(o.clone()));
        }
        Ok(())
    }

    /// The objects `visit` yields from `bound`, at most `budget` of them, and the key it
    /// stopped at.
    fn walk<M: LeafMap<OrdTerm, Stored>>(
        map: &M,
        bound: Bound<&OrdTerm>,
        forward: bool,
        budget: usize,
    ) -> (Vec<Stored>, Option<Term>) {
        let mut out = Vec::new();
        let stop = map.visit(bound, forward, &mut |o| {
            out.push(o.clone());
            out.len() < budget
        });
        (out, stop.map(|k| k.0))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Every operation agrees with an exact B-tree of whole keys, including which of two
        /// equal keys (`1`, `1.0`) is stored, traversals from any bound, and splits.
        #[test]
        fn abbreviated_map_matches_an_exact_one(
            ops in prop::collection::vec(op(key, 40), 1..80),
            probes in prop::collection::vec((key(), 0u8..3, any::<bool>(), 1usize..6), 1..12),
            keypos in 1usize..=2,
        ) {
            let obj = |k: &Term, v: i64| obj_at(keypos, k, v);
            let mut a: AbMap<Stored> = AbMap::empty(keypos);
            let mut m: BTreeMap<OrdTerm, Stored> = BTreeMap::new();
            // Objects moved out by splits, with the lowest key each split reported.
            let mut uppers: Vec<(Term, AbMap<Stored>)> = Vec::new();
            for op in ops {
                match op {
                    Op::Put(k, v) => {
                        let got = a.put(OrdTerm(k.clone()), obj(&k, v));
                        prop_assert_eq!(got, model_put(&mut m, &k, obj(&k, v)));
                    }
                    Op::New(k, v) => {
                        let fresh = !m.contains_key(OrdTerm::from_ref(&k));
                        prop_assert_eq!(a.insert_new(OrdTerm(k.clone()), obj(&k, v)), fresh);
                        if fresh {
                            m.insert(OrdTerm(k.clone()), obj(&k, v));
                        }
                    }
                    Op::Remove(k) => {
                        let k = OrdTerm(k);
                        prop_assert_eq!(a.remove(&k), m.remove(&k));
                    }
                    Op::Bump(k, text) => {
                        let ok = OrdTerm::from_ref(&k);
                        let got = a.update(ok, |o| o.map(|o| *o = bumped(keypos, o, text)));
                        let want = m.get_mut(ok).map(|o| *o = bumped(keypos, o, text));
                        prop_assert_eq!(got, want);
                    }
                    Op::Merge(items) => {
                        let items: Vec<(OrdTerm, Stored)> =
                            items.iter().map(|(k, v)| (OrdTerm(k.clone()), obj(k, *v))).collect();
                        for (k, o) in &items {
                            model_put(&mut m, &k.0, o.clone());
                        }
                        a.merge(items);
                    }
                    Op::Split => {
                        if let Some((low, upper)) = a.split_upper() {
                            // The upper part starts at `low`; everything left is below it.
                            let all_below = a.visit(Bound::Unbounded, true, &mut |o| {
                                o.key(keypos).compare(&low.0) == Ordering::Less
                            });
                            prop_assert!(all_below.is_none());
                            let mut first = None;
                            upper.visit(Bound::Unbounded, true, &mut |o| {
                                first = Some(o.key(keypos));
                                false
                            });
                            prop_assert_eq!(first.as_ref(), Some(&low.0));
                            prop_assert!(upper.len() > 0 && a.len() > 0);
                            // Carry on with the lower part; the model drops what moved out.
                            let moved: Vec<OrdTerm> =
                                m.range(low.clone()..).map(|(k, _)| k.clone()).collect();
                            let mut upper_model = BTreeMap::new();
                            for k in moved {
                                if let Some(o) = m.remove(&k) {
                                    upper_model.insert(k, o);
                                }
                            }
                            check(&upper, &upper_model)?;
                            uppers.push((low.0, upper));
                        }
                    }
                }
                check(&a, &m)?;
            }
            for (k, kind, forward, budget) in probes {
                let ok = OrdTerm(k);
                let bound = match kind {
                    0 => Bound::Unbounded,
                    1 => Bound::Included(&ok),
                    _ => Bound::Excluded(&ok),
                };
                let (got, got_stop) = walk(&a, bound, forward, budget);
                let (want, want_stop) = walk(&m, bound, forward, budget);
                prop_assert_eq!(got, want);
                prop_assert_eq!(got_stop, want_stop);
            }
            let _ = uppers;
        }
    }

    /// An integer and a float above it share an abbreviation, one packed, one in a slot: a
    /// split must keep the integer below and move the float up, for either key position.
    #[test]
    fn a_packed_integer_and_a_float_at_its_abbreviation_split_apart() {
        for keypos in [1, 2] {
            let mut a: AbMap<Stored> = AbMap::empty(keypos);
            for k in [Term::Float(3.5), Term::Int(3)] {
                a.put(OrdTerm(k.clone()), obj_at(keypos, &k, 1));
            }
            assert_eq!((a.ints.len(), a.slots.len()), (1, 1));
            let (low, upper) = a.split_upper().expect("two keys split");
            assert_eq!(low.0, Term::Float(3.5));
            assert_eq!((a.len(), upper.len()), (1, 1));
            assert_eq!(a.ints.len(), 1, "the integer stays below");
            assert_eq!(upper.slots.len(), 1, "the float moves up");
        }
    }

    /// Pairs of numbers keyed by integers are packed (16 bytes each), others are not; `3.0`
    /// replaces the packed `3` and `3` replaces `3.0`, as equal keys do.
    #[test]
    fn integer_keyed_pairs_of_numbers_are_packed() {
        assert_eq!(std::mem::size_of::<Packed>(), 16);
        let mut a: AbMap<Stored> = AbMap::empty(1);
        for i in 0..100 {
            a.put(OrdTerm(Term::Int(i)), obj(&Term::Int(i), 1 + i % 4));
        }
        assert_eq!((a.ints.len(), a.slots.len(), a.len()), (100, 0, 100));
        let three = Term::Float(3.0);
        let old = a.put(OrdTerm(three.clone()), obj(&three, 7));
        assert_eq!(old, Some(obj(&Term::Int(3), 4)));
        assert_eq!((a.ints.len(), a.slots.len(), a.len()), (99, 1, 100));
        let old = a.put(OrdTerm(Term::Int(3)), obj(&Term::Int(3), 8));
        assert_eq!(old, Some(obj(&three, 7)));
        assert_eq!((a.ints.len(), a.slots.len(), a.len()), (100, 0, 100));
        // Too big for an exact abbreviation: kept whole.
        let big = Term::Int(1 << 60);
        a.put(OrdTerm(big.clone()), obj(&big, 1));
        assert_eq!((a.ints.len(), a.slots.len()), (100, 1));
    }

    #[test]
    fn a_slot_is_no_bigger_than_an_object() {
        assert_eq!(
            std::mem::size_of::<Slot<Stored>>(),
            std::mem::size_of::<Stored>()
        );
    }

    // Keys at the edges of the packed form (±2^58, -0.0, whole floats, fractions sharing an
    // integer's floor) and values of every kind, so that objects pack, stop packing and start
    // again; NaN and infinite bounds for walks.
    fn edge_key() -> impl Strategy<Value = Term> {
        let limit = 1i64 << 58;
        let ints = vec![
            -limit - 1,
            -limit,
            -limit + 1,
            -2,
            -1,
            0,
            1,
            2,
            3,
            limit - 2,
            limit - 1,
            limit,
        ];
        let floats = vec![
            -(limit as f64),
            -(limit as f64) - 64.0,
            (limit as f64) - 32.0,
            limit as f64,
            -0.0,
            0.0,
            0.5,
            -0.5,
            1.0,
            1.5,
            2.0,
            2.25,
            3.0,
            3.75,
            -1.0,
            -1.5,
            -2.0,
            1e300,
            -1e300,
        ];
        prop_oneof![
            3 => prop::sample::select(ints).prop_map(Term::Int),
            3 => prop::sample::select(floats).prop_map(Term::Float),
            1 => prop::sample::select(vec!["a", "b"]).prop_map(Term::atom),
        ]
    }

    fn edge_val() -> impl Strategy<Value = Term> {
        prop_oneof![
            (-3i64..3).prop_map(Term::Int),
            prop::sample::select(vec![-0.0, 0.0, 1.5, 1e300]).prop_map(Term::Float),
            Just(Term::atom("x")),
            Just(Term::tuple([Term::Int(1)])),
        ]
    }

    fn pair_at(keypos: usize, k: &Term, v: &Term) -> Stored {
        if keypos == 1 {
            Stored::new(Term::tuple([k.clone(), v.clone()]))
        } else {
            Stored::new(Term::tuple([v.clone(), k.clone()]))
        }
    }

    #[derive(Debug, Clone)]
    enum EOp {
        Put(Term, Term),
        New(Term, Term),
        Remove(Term),
        Set(Term, Term),
        Merge(Vec<(Term, Term)>),
        Split,
    }

    fn eop() -> impl Strategy<Value = EOp> {
        prop_oneof![
            6 => (edge_key(), edge_val()).prop_map(|(k, v)| EOp::Put(k, v)),
            2 => (edge_key(), edge_val()).prop_map(|(k, v)| EOp::New(k, v)),
            3 => edge_key().prop_map(EOp::Remove),
            2 => (edge_key(), edge_val()).prop_map(|(k, v)| EOp::Set(k, v)),
            1 => prop::collection::vec((edge_key(), edge_val()), 0..12).prop_map(EOp::Merge),
            1 => Just(EOp::Split),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn edge_keys_and_values_match_an_exact_map(
            ops in prop::collection::vec(eop(), 1..60),
            keypos in 1usize..=2,
        ) {
            let mut a: AbMap<Stored> = AbMap::empty(keypos);
            let mut m: BTreeMap<OrdTerm, Stored> = BTreeMap::new();
            for op in ops {
                match op {
                    EOp::Put(k, v) => {
                        let o = pair_at(keypos, &k, &v);
                        prop_assert_eq!(a.put(OrdTerm(k.clone()), o.clone()), model_put(&mut m, &k, o));
                    }
                    EOp::New(k, v) => {
                        let o = pair_at(keypos, &k, &v);
                        let fresh = !m.contains_key(OrdTerm::from_ref(&k));
                        prop_assert_eq!(a.insert_new(OrdTerm(k.clone()), o.clone()), fresh);
                        if fresh { m.insert(OrdTerm(k.clone()), o); }
                    }
                    EOp::Remove(k) => {
                        let k = OrdTerm(k);
                        prop_assert_eq!(a.remove(&k), m.remove(&k));
                    }
                    EOp::Set(k, v) => {
                        let ok = OrdTerm::from_ref(&k);
                        let f = |o: &mut Stored| *o = pair_at(keypos, &o.key(keypos), &v);
                        let got = a.update(ok, |o| o.map(f));
                        let want = m.get_mut(ok).map(f);
                        prop_assert_eq!(got, want);
                    }
                    EOp::Merge(items) => {
                        let items: Vec<(OrdTerm, Stored)> = items.iter()
                            .map(|(k, v)| (OrdTerm(k.clone()), pair_at(keypos, k, v))).collect();
                        for (k, o) in &items { model_put(&mut m, &k.0, o.clone()); }
                        a.merge(items);
                    }
                    EOp::Split => {
                        if let Some((low, upper)) = a.split_upper() {
                            let moved: Vec<OrdTerm> = m.range(low.clone()..).map(|(k, _)| k.clone()).collect();
                            let mut um = BTreeMap::new();
                            for k in moved { if let Some(o) = m.remove(&k) { um.insert(k, o); } }
                            check(&upper, &um)?;
                            // keep going with the upper half merged back, to keep many objects
                            let items: Vec<(OrdTerm, Stored)> = upper.into_sorted();
                            for (k, o) in &items { model_put(&mut m, &k.0, o.clone()); }
                            a.merge(items);
                        }
                    }
                }
                check(&a, &m)?;
                // into_sorted keys are the model's keys exactly
                // every bound, both directions
                let mut probes: Vec<Term> = m.keys().map(|k| k.0.clone()).collect();
                probes.extend([Term::Float(0.0), Term::Float(1.0), Term::Float(-(1i64<<58) as f64), Term::Float(((1i64<<58) - 32) as f64), Term::Int((1i64<<58)-32), Term::Float(-0.0), Term::Float(3.0), Term::Float(2.5), Term::Int(3), Term::Float(f64::NAN), Term::Float(-f64::NAN), Term::Float(f64::NEG_INFINITY), Term::Float(f64::INFINITY)]);
                for p in &probes {
                    let ok = OrdTerm(p.clone());
                    prop_assert_eq!(a.read(&ok, |o| o.cloned()), m.get(&ok).cloned());
                    prop_assert_eq!(a.contains(&ok), m.contains_key(&ok));
                    for kind in 0..3u8 {
                        let bound = match kind { 0 => Bound::Unbounded, 1 => Bound::Included(&ok), _ => Bound::Excluded(&ok) };
                        for forward in [true, false] {
                            for budget in [1usize, 2, 100] {
                                let (got, gs) = walk(&a, bound, forward, budget);
                                let (want, ws) = walk(&m, bound, forward, budget);
                                prop_assert_eq!(&got, &want, "{:?} {:?} {}", p, kind, forward);
                                prop_assert_eq!(gs, ws);
                            }
                        }
                    }
                }
            }
            let sorted: Vec<(Term, Stored)> = a.into_sorted().into_iter().map(|(k, o)| (k.0, o)).collect();
            let want: Vec<(Term, Stored)> = m.into_iter().map(|(k, o)| (k.0, o)).collect();
            prop_assert_eq!(sorted, want);
        }
    }
}
