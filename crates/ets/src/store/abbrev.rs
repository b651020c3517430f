//! A Term `ordered_set` leaf: a B-tree on 8-byte abbreviations of the keys.
//!
//! A `BTreeMap<OrdTerm, Stored>` node holds eleven 24-byte keys beside eleven 24-byte objects;
//! a search reads several cache lines of keys per node, and the node's length sits after all
//! of them. Searching it costs about twice what a typed table's `BTreeMap<u64, (u64, u64)>`
//! costs. [`AbMap`] keys its B-tree by [`abbrev`], a `u64` that orders keys as Erlang's term
//! order does but may give several keys the same value, and keeps in each slot the one object
//! with that abbreviation or, rarely, a small exact map of the keys that share it. Integer keys
//! within ±2^58 all have distinct abbreviations, so a table keyed by integers is a
//! `BTreeMap<u64, Stored>`, laid out like the typed table's.
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

/// A Term ordered_set leaf; see the module docs. Invariant: `len` is the number of objects, and
/// a `Many` slot holds at least two.
pub(crate) struct AbMap<O> {
    keypos: usize,
    len: usize,
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

impl<O: Keyed<Term> + Send + Sync> AbMap<O> {
    /// Turns sorted objects with distinct keys into slots, built bottom-up.
    fn build(keypos: usize, sorted: Vec<(OrdTerm, O)>) -> Self {
        let len = sorted.len();
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
            slots: slots.into_iter().collect(),
        }
    }

    /// The objects in key order, with their keys.
    fn into_sorted(self) -> Vec<(OrdTerm, O)> {
        let mut out = Vec::with_capacity(self.len);
        for slot in self.slots.into_values() {
            match slot {
                Slot::One(o) => out.push((key_of(self.keypos, &o), o)),
                Slot::Many(m) => out.extend(*m),
            }
        }
        out
    }
}

impl<O: Keyed<Term> + Send + Sync> LeafMap<OrdTerm, O> for AbMap<O> {
    fn empty(keypos: usize) -> Self {
        AbMap {
            keypos,
            len: 0,
            slots: BTreeMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn get(&self, key: &OrdTerm) -> Option<&O> {
        match self.slots.get(&abbrev(&key.0))? {
            Slot::One(o) => (cmp_key(self.keypos, o, key) == Ordering::Equal).then_some(o),
            Slot::Many(m) => m.get(key),
        }
    }

    fn get_mut(&mut self, key: &OrdTerm) -> Option<&mut O> {
        let keypos = self.keypos;
        match self.slots.get_mut(&abbrev(&key.0))? {
            Slot::One(o) => (cmp_key(keypos, o, key) == Ordering::Equal).then_some(o),
            Slot::Many(m) => m.get_mut(key),
        }
    }

    #[inline]
    fn put(&mut self, key: OrdTerm, obj: O) -> Option<O> {
        let keypos = self.keypos;
        let slot = match self.slots.entry(abbrev(&key.0)) {
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

    fn insert_new(&mut self, key: OrdTerm, obj: O) -> bool {
        if self.get(&key).is_some() {
            return false;
        }
        self.put(key, obj);
        true
    }

    fn remove(&mut self, key: &OrdTerm) -> Option<O> {
        let keypos = self.keypos;
        let Entry::Occupied(mut e) = self.slots.entry(abbrev(&key.0)) else {
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

    fn clear(&mut self) {
        self.slots.clear();
        self.len = 0;
    }

    fn bytes(&self, heap: &dyn Fn(&O) -> usize) -> usize {
        // Abbreviations and slots, plus an estimate of the B-tree's node overhead per entry.
        let per_slot = std::mem::size_of::<u64>() + std::mem::size_of::<Slot<O>>() + 16;
        let per_exact = std::mem::size_of::<OrdTerm>() + std::mem::size_of::<O>() + 16;
        let mut n = self.slots.len() * per_slot;
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
        let upper = if self.slots.len() >= 2 {
            let median = *self.slots.keys().nth(self.slots.len() / 2)?;
            self.slots.split_off(&median)
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
            BTreeMap::from([(ab, high)])
        };
        let upper_len: usize = upper
            .values()
            .map(|s| match s {
                Slot::One(_) => 1,
                Slot::Many(m) => m.len(),
            })
            .sum();
        let lowest = match upper.values().next()? {
            Slot::One(o) => key_of(keypos, o),
            Slot::Many(m) => m.keys().next()?.clone(),
        };
        self.len -= upper_len;
        Some((
            lowest,
            AbMap {
                keypos,
                len: upper_len,
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
        // Slots with the bound's abbreviation may hold keys on either side of it; every other
        // slot in the range lies wholly beyond it.
        let at = match bound {
            Bound::Unbounded => None,
            Bound::Included(k) | Bound::Excluded(k) => Some(abbrev(&k.0)),
        };
        let lo = at.map_or(Bound::Unbounded, Bound::Included);
        let (mut up, mut down);
        let slots: &mut dyn Iterator<Item = (&u64, &Slot<O>)> = if forward {
            up = self.slots.range((lo, Bound::Unbounded));
            &mut up
        } else {
            down = self.slots.range((Bound::Unbounded, lo)).rev();
            &mut down
        };
        for (&ab, slot) in slots {
            match slot {
                Slot::One(o) => {
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
                Slot::Many(m) => {
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

    /// `{Key, V}` as a table stores it.
    pub(crate) fn obj(key: &Term, v: i64) -> Stored {
        Stored::new(Term::tuple([key.clone(), Term::Int(v)]))
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
        /// Change the object under the key in place (as update_counter does).
        Bump(Term),
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
            1 => key().prop_map(Op::Bump),
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
        prop_assert_eq!(a.len(), m.len());
        let mut n = 0;
        for (ab, slot) in &a.slots {
            match slot {
                Slot::One(o) => {
                    n += 1;
                    prop_assert_eq!(abbrev(&o.key(1)), *ab);
                }
                Slot::Many(x) => {
                    prop_assert!(x.len() >= 2, "a Many slot holds at least two objects");
                    for (k, o) in x.iter() {
                        n += 1;
                        prop_assert_eq!(abbrev(&k.0), *ab);
                        prop_assert_eq!(&k.0, &o.key(1), "the exact map's key is the object's");
                    }
                }
            }
        }
        prop_assert_eq!(n, a.len());
        for (k, o) in m {
            prop_assert_eq!(a.get(k), Some(o));
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
        ) {
            let mut a: AbMap<Stored> = AbMap::empty(1);
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
                    Op::Bump(k) => {
                        let ok = OrdTerm::from_ref(&k);
                        let got = a.get_mut(ok).map(|o| {
                            *o = obj(&o.key(1), 1000);
                        });
                        let want = m.get_mut(ok).map(|o| {
                            *o = obj(&o.key(1), 1000);
                        });
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
                                o.key(1).compare(&low.0) == Ordering::Less
                            });
                            prop_assert!(all_below.is_none());
                            let mut first = None;
                            upper.visit(Bound::Unbounded, true, &mut |o| {
                                first = Some(o.key(1));
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

    #[test]
    fn a_slot_is_no_bigger_than_an_object() {
        assert_eq!(
            std::mem::size_of::<Slot<Stored>>(),
            std::mem::size_of::<Stored>()
        );
    }
}
