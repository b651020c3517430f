//! How a Term table stores an object: a pair of numbers inline, any other tuple shared.
//!
//! A [`Term::Tuple`] is a pointer to a separate heap block. Stored that way, every lookup in a
//! table larger than the cache misses twice (the bucket, then the tuple), and the tuple's block
//! costs more memory than the bucket that points to it. ETS's most common rows are pairs of
//! numbers (`{Id, Count}`, `{Key, Score}`), so a Term table keeps those in the bucket itself, as
//! two 8-byte words and two one-byte kinds, and builds the tuple only when a copy is handed out.
//! Every other object keeps its shared tuple, so reading it stays a reference-count increment.
//!
//! The form is canonical: an object that can be a [`Stored::Pair`] always is one, so two stored
//! objects are equal (Erlang's `=:=`) exactly when their representations are equal.

use std::sync::Arc;

use crate::store::Keyed;
use crate::term::Term;

/// The kind of one number of a [`Stored::Pair`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Num {
    Int,
    Float,
}

impl Num {
    /// The number's kind and bits, if `t` is a number.
    #[inline]
    fn of(t: &Term) -> Option<(Num, u64)> {
        match t {
            Term::Int(i) => Some((Num::Int, *i as u64)),
            Term::Float(f) => Some((Num::Float, f.to_bits())),
            _ => None,
        }
    }

    #[inline]
    fn term(self, bits: u64) -> Term {
        match self {
            Num::Int => Term::Int(bits as i64),
            Num::Float => Term::Float(f64::from_bits(bits)),
        }
    }
}

/// The number beside an integer key, in a Term ordered_set's packed form ([`Keyed::pack`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Packed {
    pub(crate) kind: Num,
    pub(crate) bits: u64,
}

/// An object of a Term table as the table holds it. 24 bytes.
#[derive(Clone, PartialEq, Debug)]
pub(crate) enum Stored {
    /// `{A, B}` where A and B are numbers: their kinds and bits.
    Pair { ta: Num, tb: Num, a: u64, b: u64 },
    /// Any other tuple, shared with the copies handed out.
    Tuple(Arc<[Term]>),
}

impl Stored {
    /// Stores `obj`, which the table has checked is a tuple. (Anything else is kept as a
    /// one-element tuple holding it, so that no input is lost; tables never pass one.)
    #[inline]
    pub(crate) fn new(obj: Term) -> Stored {
        match obj {
            Term::Tuple(v) => {
                if let [x, y] = &*v
                    && let (Some((ta, a)), Some((tb, b))) = (Num::of(x), Num::of(y))
                {
                    return Stored::Pair { ta, tb, a, b };
                }
                Stored::Tuple(v)
            }
            other => Stored::Tuple(Arc::new([other])),
        }
    }

    /// Stores the tuple `{a, b}` without building it when both are numbers.
    #[inline(always)]
    pub(crate) fn pair(a: Term, b: Term) -> Stored {
        if let (Some((ta, x)), Some((tb, y))) = (Num::of(&a), Num::of(&b)) {
            return Stored::Pair { ta, tb, a: x, b: y };
        }
        Stored::Tuple(Arc::new([a, b]))
    }

    /// The object as a term: a new tuple for a pair, the shared one otherwise.
    #[inline]
    pub(crate) fn to_term(&self) -> Term {
        match self {
            Stored::Pair { ta, tb, a, b } => Term::Tuple(Arc::new([ta.term(*a), tb.term(*b)])),
            Stored::Tuple(v) => Term::Tuple(v.clone()),
        }
    }

    /// Runs `f` on the object's elements without building a tuple: a pair's two numbers are
    /// made on the stack.
    #[inline]
    pub(crate) fn with_elements<R>(&self, f: impl FnOnce(&[Term]) -> R) -> R {
        match self {
            Stored::Pair { ta, tb, a, b } => f(&[ta.term(*a), tb.term(*b)]),
            Stored::Tuple(v) => f(v),
        }
    }

    /// The element at 1-based position `pos`, if the object has one.
    #[inline(always)]
    pub(crate) fn element(&self, pos: usize) -> Option<Term> {
        match self {
            Stored::Pair { ta, a, .. } if pos == 1 => Some(ta.term(*a)),
            Stored::Pair { tb, b, .. } if pos == 2 => Some(tb.term(*b)),
            Stored::Pair { .. } => None,
            Stored::Tuple(v) => pos.checked_sub(1).and_then(|i| v.get(i)).cloned(),
        }
    }

    /// Whether every float inside is finite.
    #[inline]
    pub(crate) fn is_finite(&self) -> bool {
        let finite = |t: Num, bits: u64| t == Num::Int || f64::from_bits(bits).is_finite();
        match self {
            Stored::Pair { ta, tb, a, b } => finite(*ta, *a) && finite(*tb, *b),
            Stored::Tuple(v) => v.iter().all(Term::is_finite),
        }
    }

    /// The tuple's size.
    #[inline]
    pub(crate) fn arity(&self) -> usize {
        match self {
            Stored::Pair { .. } => 2,
            Stored::Tuple(v) => v.len(),
        }
    }

    /// Runs `f` on the object as a term, then stores what `f` left there. A shared tuple is
    /// moved out and back, not copied, so `Arc::make_mut` in `f` changes it in place when no
    /// reader holds it.
    pub(crate) fn edit<R>(&mut self, f: impl FnOnce(&mut Term) -> R) -> R {
        let placeholder = Stored::Pair {
            ta: Num::Int,
            tb: Num::Int,
            a: 0,
            b: 0,
        };
        let mut term = match std::mem::replace(self, placeholder) {
            Stored::Tuple(v) => Term::Tuple(v),
            pair => pair.to_term(),
        };
        let r = f(&mut term);
        *self = Stored::new(term);
        r
    }

    /// Writes integers at 1-based positions, which the caller has checked exist. A pair stays
    /// a pair (an integer is a number) and is changed in place; a shared tuple is copied first
    /// if a reader holds it.
    pub(crate) fn set_ints(&mut self, writes: &[(usize, i64)]) {
        match self {
            Stored::Pair { ta, tb, a, b } => {
                for &(pos, v) in writes {
                    match pos {
                        1 => (*ta, *a) = (Num::Int, v as u64),
                        2 => (*tb, *b) = (Num::Int, v as u64),
                        _ => {}
                    }
                }
            }
            Stored::Tuple(_) => self.edit(|t| {
                if let Term::Tuple(v) = t {
                    let elems = Arc::make_mut(v);
                    for &(pos, n) in writes {
                        if let Some(e) = pos.checked_sub(1).and_then(|i| elems.get_mut(i)) {
                            *e = Term::Int(n);
                        }
                    }
                }
            }),
        }
    }

    /// Bytes the object owns outside the table's own slot, for `info().memory`.
    pub(crate) fn heap_size(&self) -> usize {
        match self {
            Stored::Pair { .. } => 0,
            Stored::Tuple(v) => v
                .iter()
                .map(|t| std::mem::size_of::<Term>() + t.heap_size())
                .sum(),
        }
    }
}

impl Keyed<Term> for Stored {
    #[inline]
    fn has_key(&self, keypos: usize, key: &Term) -> bool {
        match self {
            Stored::Pair { ta, tb, a, b } => {
                let (t, bits) = match keypos {
                    1 => (*ta, *a),
                    2 => (*tb, *b),
                    _ => return false,
                };
                Num::of(key) == Some((t, bits))
            }
            Stored::Tuple(v) => keypos
                .checked_sub(1)
                .and_then(|i| v.get(i))
                .is_some_and(|k| k == key),
        }
    }

    fn key(&self, keypos: usize) -> Term {
        // A table stores only objects that have an element at its key position.
        self.element(keypos).unwrap_or_else(Term::nil)
    }

    #[inline]
    fn pack(&self, keypos: usize) -> Option<(i64, Packed)> {
        match *self {
            Stored::Pair {
                ta: Num::Int,
                tb,
                a,
                b,
            } if keypos == 1 => Some((a as i64, Packed { kind: tb, bits: b })),
            Stored::Pair {
                ta,
                tb: Num::Int,
                a,
                b,
            } if keypos == 2 => Some((b as i64, Packed { kind: ta, bits: a })),
            _ => None,
        }
    }

    #[inline]
    fn unpack(key: i64, p: Packed, keypos: usize) -> Option<Self> {
        match keypos {
            1 => Some(Stored::Pair {
                ta: Num::Int,
                tb: p.kind,
                a: key as u64,
                b: p.bits,
            }),
            2 => Some(Stored::Pair {
                ta: p.kind,
                tb: Num::Int,
                a: p.bits,
                b: key as u64,
            }),
            _ => None,
        }
    }

    /// A pair's number is made on the stack; a tuple's element is lent, not copied.
    #[inline]
    fn with_key<R>(&self, keypos: usize, f: impl FnOnce(&Term) -> R) -> R {
        match self {
            Stored::Pair { ta, a, .. } if keypos == 1 => f(&ta.term(*a)),
            Stored::Pair { tb, b, .. } if keypos == 2 => f(&tb.term(*b)),
            Stored::Tuple(v) if keypos >= 1 && keypos <= v.len() => f(&v[keypos - 1]),
            _ => f(&Term::nil()),
        }
    }
}

/// Copies of stored objects as terms.
pub(crate) fn to_terms(objs: &[Stored]) -> Vec<Term> {
    objs.iter().map(Stored::to_term).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf() -> impl Strategy<Value = Term> {
        prop_oneof![
            any::<i64>().prop_map(Term::Int),
            prop_oneof![
                Just(0.0),
                Just(-0.0),
                Just(1.0),
                any::<i32>().prop_map(f64::from)
            ]
            .prop_map(Term::Float),
            "[a-c]{0,2}".prop_map(|s| Term::atom(&s)),
            "[a-c]{0,3}".prop_map(|s| Term::from(s.as_str())),
        ]
    }

    /// Numbers from a small set, so that two drawn pairs are often `=:=` (or `==` only).
    fn small_num() -> impl Strategy<Value = Term> {
        prop_oneof![
            (0i64..2).prop_map(Term::Int),
            prop_oneof![Just(0.0), Just(-0.0), Just(1.0)].prop_map(Term::Float),
        ]
    }

    fn tuple() -> impl Strategy<Value = Term> {
        let elem = leaf().prop_recursive(2, 8, 3, |inner| {
            prop::collection::vec(inner, 0..3).prop_map(Term::tuple)
        });
        // The nested strategy almost never draws a top-level pair of numbers, the form that
        // is stored inline: draw those explicitly, from wide and from small ranges.
        let num = || leaf().prop_filter("a number", |t| matches!(t, Term::Int(_) | Term::Float(_)));
        prop_oneof![
            2 => prop::collection::vec(elem, 0..4).prop_map(Term::tuple),
            1 => (num(), num()).prop_map(|(a, b)| Term::tuple([a, b])),
            1 => (small_num(), small_num()).prop_map(|(a, b)| Term::tuple([a, b])),
        ]
    }

    #[test]
    fn a_stored_object_is_no_bigger_than_a_term() {
        assert_eq!(std::mem::size_of::<Stored>(), std::mem::size_of::<Term>());
    }

    #[test]
    fn pairs_of_numbers_are_inline_and_others_shared() {
        let pair = Stored::new(Term::tuple([Term::Int(7), Term::Float(-0.0)]));
        assert!(matches!(pair, Stored::Pair { .. }));
        assert_eq!(
            pair.to_term(),
            Term::tuple([Term::Int(7), Term::Float(-0.0)])
        );
        assert_eq!(pair.element(1), Some(Term::Int(7)));
        assert_eq!(pair.element(3), None);
        assert_eq!(pair.heap_size(), 0);
        let shared = Term::tuple([Term::atom("k"), Term::Int(1)]);
        let stored = Stored::new(shared.clone());
        match (&stored, &shared) {
            (Stored::Tuple(a), Term::Tuple(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!("{stored:?} should share {shared:?}"),
        }
        assert!(matches!(
            Stored::new(Term::tuple([Term::Int(1)])),
            Stored::Tuple(_)
        ));
        assert!(matches!(
            Stored::new(Term::tuple([Term::Int(1), Term::Int(2), Term::Int(3)])),
            Stored::Tuple(_)
        ));
    }

    proptest! {
        /// Storing loses nothing, and stored equality is exactly the terms' `=:=`.
        #[test]
        fn storing_round_trips_and_keeps_exact_equality(x in tuple(), y in tuple()) {
            let (sx, sy) = (Stored::new(x.clone()), Stored::new(y.clone()));
            prop_assert_eq!(&sx.to_term(), &x);
            prop_assert_eq!(sx == sy, x == y);
            let elems = x.as_tuple().unwrap_or_default().to_vec();
            prop_assert_eq!(sx.with_elements(<[Term]>::to_vec), elems.clone());
            // An edit leaves the canonical form of whatever it made, whichever form it started
            // from: a pair that gets a non-number becomes a shared tuple, and back.
            for (i, new) in [&y, &Term::Int(5), &Term::Float(0.5)].into_iter().enumerate() {
                let mut edited = sx.clone();
                let out = edited.edit(|t| {
                    if let Term::Tuple(v) = t
                        && let Some(e) = Arc::make_mut(v).get_mut(i % 2)
                    {
                        *e = new.clone();
                    }
                    t.clone()
                });
                prop_assert_eq!(&edited, &Stored::new(out.clone()));
                prop_assert_eq!(edited.to_term(), out);
            }
            // Writing integers (what update_counter does) gives the canonical form of the
            // written tuple, in place for a pair.
            for pos in 1..=elems.len() {
                let mut written = sx.clone();
                written.set_ints(&[(pos, -7), (pos, 9)]);
                let mut want = elems.clone();
                want[pos - 1] = Term::Int(9);
                prop_assert_eq!(&written, &Stored::new(Term::tuple(want)));
            }
            for pos in 0..=elems.len() + 1 {
                let want = pos.checked_sub(1).and_then(|i| elems.get(i)).cloned();
                prop_assert_eq!(sx.element(pos), want.clone());
                // A hash table finds an object by its key element, exactly (`=:=`).
                let probes = [Term::Int(0), Term::Float(0.0), Term::Float(-0.0), y.clone()];
                for k in want.iter().chain(&probes) {
                    prop_assert_eq!(sx.has_key(pos, k), want.as_ref() == Some(k), "{:?}", k);
                }
            }
        }
    }
}
