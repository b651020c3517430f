//! The dynamic Erlang term, its two equalities and Erlang's total order.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use runtime::{Pid, Ref};

/// An atom: a name compared by its text, as in Erlang.
///
/// Atoms share their text (`Arc<str>`), so cloning one is a reference-count increment.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(Arc<str>);

impl Atom {
    /// Makes an atom from its text.
    pub fn new(name: &str) -> Self {
        Atom(Arc::from(name))
    }

    /// The atom's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Atom {
    fn from(s: &str) -> Self {
        Atom::new(s)
    }
}

impl From<String> for Atom {
    fn from(s: String) -> Self {
        Atom(Arc::from(s))
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@');
        if plain {
            f.write_str(s)
        } else {
            write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A dynamic Erlang term: what ETS tables of [`Table`](crate::Table) store.
///
/// Objects are tuples ([`Term::Tuple`]) whose key sits at the table's key position.
///
/// Two equalities exist, as in Erlang:
/// - `==` on `Term` (the [`Eq`] and [`Hash`] impls) is Erlang's exact match `=:=`: `1` and `1.0`
///   differ, and so do `0.0` and `-0.0`. Hash tables (`set`, `bag`, `duplicate_bag`) use it.
/// - [`Term::compare`] is Erlang's comparison `<`/`==`: numbers compare by value, so
///   `1.compare(1.0)` is `Equal`. `ordered_set` tables use it, so `1` and `1.0` are one key there.
///
/// The [`Ord`] impl is Erlang's term order (`number < atom < reference < pid < tuple < map < list
/// < binary`; tuples by size first; lists element by element) refined so that it agrees with the
/// exact equality: an integer sorts just before the float of equal value, and `-0.0` before
/// `0.0`. Sorting terms therefore gives Erlang's order.
///
/// Floats must be finite, as in Erlang (which has no NaN and no infinity): tables reject objects
/// holding a NaN or an infinity with [`EtsError::NonFiniteFloat`](crate::EtsError::NonFiniteFloat).
/// Integers are 64-bit; arithmetic that would leave that range fails instead of growing a bignum.
#[derive(Clone)]
pub enum Term {
    /// A 64-bit integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// An atom, such as `ok` or `'$1'`.
    Atom(Atom),
    /// A reference made by [`runtime::make_ref`].
    Ref(Ref),
    /// A process identifier.
    Pid(Pid),
    /// A tuple `{A, B, ...}`. Its elements are shared, immutable once built: copying a tuple
    /// copies a pointer, and changing one stored in a table copies it first, so a copy handed
    /// out earlier never changes. (A table keeps a pair of numbers, such as `{Id, Count}`,
    /// inline instead, and a read builds a new tuple for it.)
    Tuple(Arc<[Term]>),
    /// A map `#{K => V}`; keys are compared exactly.
    Map(Box<BTreeMap<Term, Term>>),
    /// A proper list `[A, B, ...]`; the empty list is `[]` (nil).
    List(Arc<[Term]>),
    /// A binary, Elixir's string: `"The Flash"` converts to a binary holding its UTF-8 bytes.
    Binary(Arc<[u8]>),
}

/// Which comparison a recursive walk performs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Erlang's `==`/`<`: numbers by value.
    Numeric,
    /// Erlang's order refined to agree with `=:=` (the `Ord` impl).
    Exact,
    /// Map-key order: every integer before every float.
    MapKey,
}

impl Term {
    /// Makes an atom term.
    pub fn atom(name: &str) -> Term {
        Term::Atom(Atom::new(name))
    }

    /// Makes a tuple term from its elements.
    pub fn tuple(elements: impl IntoIterator<Item = Term>) -> Term {
        Term::Tuple(elements.into_iter().collect())
    }

    /// Makes a list term from its elements.
    pub fn list(elements: impl IntoIterator<Item = Term>) -> Term {
        Term::List(elements.into_iter().collect())
    }

    /// Makes a map term from key-value pairs (a later duplicate key wins).
    pub fn map(pairs: impl IntoIterator<Item = (Term, Term)>) -> Term {
        Term::Map(Box::new(pairs.into_iter().collect()))
    }

    /// Makes a binary term from bytes.
    pub fn binary(bytes: &[u8]) -> Term {
        Term::Binary(Arc::from(bytes))
    }

    /// The empty list `[]`.
    pub fn nil() -> Term {
        Term::List(Arc::new([]))
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, if this is one.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Term::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The atom's text, if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a.as_str()),
            _ => None,
        }
    }

    /// Whether this is the atom `name`.
    pub fn is_atom(&self, name: &str) -> bool {
        self.as_atom() == Some(name)
    }

    /// The tuple's elements, if this is a tuple.
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(t) => Some(t),
            _ => None,
        }
    }

    /// The list's elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(l) => Some(l),
            _ => None,
        }
    }

    /// The bytes, if this is a binary.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The text, if this is a binary holding valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_binary().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The pid, if this is one.
    pub fn as_pid(&self) -> Option<Pid> {
        match self {
            Term::Pid(p) => Some(*p),
            _ => None,
        }
    }

    /// Erlang's comparison (`<`, `==`, `>`): numbers compare by value, so `1` equals `1.0`.
    ///
    /// This is the order and the key equality of `ordered_set` tables.
    pub fn compare(&self, other: &Term) -> Ordering {
        cmp(self, other, Mode::Numeric)
    }

    /// Erlang's `==`: [`Term::compare`] gives `Equal`.
    pub fn equals(&self, other: &Term) -> bool {
        self.compare(other) == Ordering::Equal
    }

    /// Whether every float inside is finite (Erlang has no NaN and no infinity).
    pub(crate) fn is_finite(&self) -> bool {
        match self {
            Term::Float(f) => f.is_finite(),
            Term::Tuple(v) | Term::List(v) => v.iter().all(Term::is_finite),
            Term::Map(m) => m.iter().all(|(k, v)| k.is_finite() && v.is_finite()),
            _ => true,
        }
    }

    /// An estimate of the bytes this term owns on the heap (shared text counted in full).
    pub(crate) fn heap_size(&self) -> usize {
        match self {
            Term::Atom(a) => a.as_str().len(),
            Term::Binary(b) => b.len(),
            Term::Tuple(v) | Term::List(v) => v
                .iter()
                .map(|t| std::mem::size_of::<Term>() + t.heap_size())
                .sum(),
            Term::Map(m) => m
                .iter()
                .map(|(k, v)| 2 * std::mem::size_of::<Term>() + k.heap_size() + v.heap_size())
                .sum(),
            _ => 0,
        }
    }

    /// Erlang's type class, in term order: number < atom < reference < fun < port < pid < tuple
    /// < map < nil < list < bitstring. Nil and non-empty lists share a class here: comparing
    /// lists element by element already puts `[]` before every other list.
    pub(crate) fn class(&self) -> u8 {
        match self {
            Term::Int(_) | Term::Float(_) => 0,
            Term::Atom(_) => 1,
            Term::Ref(_) => 2,
            Term::Pid(_) => 5,
            Term::Tuple(_) => 6,
            Term::Map(_) => 7,
            Term::List(_) => 9,
            Term::Binary(_) => 10,
        }
    }
}

/// Compares an integer with a float by their exact mathematical values.
///
/// Erlang converts the less precise operand; comparing exact values gives the same answers and is
/// transitive by construction.
fn int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        // Never stored (tables reject NaN); any consistent answer keeps sorting panic-free.
        return if f.is_sign_negative() {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    // `t` is integral and within i64's range, so the cast is exact.
    match i.cmp(&(t as i64)) {
        Ordering::Equal => {
            if f > t {
                Ordering::Less
            } else if f < t {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

fn float_float(a: f64, b: f64, mode: Mode) -> Ordering {
    match mode {
        Mode::Numeric => match a.partial_cmp(&b) {
            Some(o) => o,
            None => a.total_cmp(&b),
        },
        // total_cmp agrees with `<` on ordinary floats and puts -0.0 before 0.0.
        Mode::Exact | Mode::MapKey => a.total_cmp(&b),
    }
}

fn cmp(a: &Term, b: &Term, mode: Mode) -> Ordering {
    use Term::*;
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => float_float(*x, *y, mode),
        (Int(x), Float(y)) => match mode {
            Mode::MapKey => Ordering::Less,
            Mode::Numeric => int_float(*x, *y),
            Mode::Exact => int_float(*x, *y).then(Ordering::Less),
        },
        (Float(x), Int(y)) => match mode {
            Mode::MapKey => Ordering::Greater,
            Mode::Numeric => int_float(*y, *x).reverse(),
            Mode::Exact => int_float(*y, *x).reverse().then(Ordering::Greater),
        },
        (Atom(x), Atom(y)) => x.cmp(y),
        (Ref(x), Ref(y)) => x.cmp(y),
        (Pid(x), Pid(y)) => x.cmp(y),
        (Tuple(x), Tuple(y)) => x.len().cmp(&y.len()).then_with(|| seq(x, y, mode)),
        (List(x), List(y)) => seq(x, y, mode),
        (Binary(x), Binary(y)) => x.cmp(y),
        (Map(x), Map(y)) => maps(x, y, mode),
        _ => a.class().cmp(&b.class()),
    }
}

fn seq(x: &[Term], y: &[Term], mode: Mode) -> Ordering {
    for (a, b) in x.iter().zip(y) {
        let o = cmp(a, b, mode);
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

fn sorted_entries(m: &BTreeMap<Term, Term>) -> Vec<(&Term, &Term)> {
    let mut v: Vec<(&Term, &Term)> = m.iter().collect();
    v.sort_by(|a, b| cmp(a.0, b.0, Mode::MapKey));
    v
}

/// Maps compare by size, then by their keys in map-key order, then by the values in that order.
fn maps(x: &BTreeMap<Term, Term>, y: &BTreeMap<Term, Term>, mode: Mode) -> Ordering {
    let by_size = x.len().cmp(&y.len());
    if by_size != Ordering::Equal {
        return by_size;
    }
    let (xs, ys) = (sorted_entries(x), sorted_entries(y));
    for ((ka, _), (kb, _)) in xs.iter().zip(&ys) {
        let o = cmp(ka, kb, Mode::MapKey);
        if o != Ordering::Equal {
            return o;
        }
    }
    for ((_, va), (_, vb)) in xs.iter().zip(&ys) {
        let o = cmp(va, vb, mode);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl PartialEq for Term {
    #[inline]
    fn eq(&self, other: &Term) -> bool {
        use Term::*;
        match (self, other) {
            (Int(x), Int(y)) => x == y,
            (Float(x), Float(y)) => x.to_bits() == y.to_bits(),
            (Atom(x), Atom(y)) => x == y,
            (Ref(x), Ref(y)) => x == y,
            (Pid(x), Pid(y)) => x == y,
            (Tuple(x), Tuple(y)) | (List(x), List(y)) => x == y,
            (Binary(x), Binary(y)) => x == y,
            (Map(x), Map(y)) => x == y,
            _ => false,
        }
    }
}

impl Eq for Term {}

impl Hash for Term {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Term::Int(i) => {
                state.write_u8(0);
                state.write_u64(*i as u64);
            }
            Term::Float(f) => {
                state.write_u8(1);
                state.write_u64(f.to_bits());
            }
            Term::Atom(a) => {
                state.write_u8(2);
                state.write(a.as_str().as_bytes());
            }
            Term::Ref(r) => {
                state.write_u8(3);
                r.hash(state);
            }
            Term::Pid(p) => {
                state.write_u8(4);
                state.write_u64(p.id());
            }
            Term::Tuple(v) => {
                state.write_u8(5);
                state.write_usize(v.len());
                v.iter().for_each(|t| t.hash(state));
            }
            Term::Map(m) => {
                state.write_u8(6);
                state.write_usize(m.len());
                m.iter().for_each(|(k, v)| {
                    k.hash(state);
                    v.hash(state);
                });
            }
            Term::List(v) => {
                state.write_u8(7);
                state.write_usize(v.len());
                v.iter().for_each(|t| t.hash(state));
            }
            Term::Binary(b) => {
                state.write_u8(8);
                state.write(b);
            }
        }
    }
}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Term) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Term {
    fn cmp(&self, other: &Term) -> Ordering {
        cmp(self, other, Mode::Exact)
    }
}

/// A term ordered and compared by Erlang's `==`/`<` ([`Term::compare`]): the key of an
/// `ordered_set`, where `1` and `1.0` are the same key.
#[derive(Clone)]
#[repr(transparent)]
pub(crate) struct OrdTerm(pub(crate) Term);

impl OrdTerm {
    /// Views a term as an ordered key without copying it.
    pub(crate) fn from_ref(t: &Term) -> &OrdTerm {
        // SAFETY: OrdTerm is `repr(transparent)` over Term, so both have the same layout and a
        // reference to one is a valid reference to the other, for the same lifetime.
        unsafe { &*(t as *const Term as *const OrdTerm) }
    }
}

impl PartialEq for OrdTerm {
    #[inline]
    fn eq(&self, other: &OrdTerm) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for OrdTerm {}
impl PartialOrd for OrdTerm {
    #[inline]
    fn partial_cmp(&self, other: &OrdTerm) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdTerm {
    /// Inlined for two integers, the commonest ordered key, so that a B-tree search compares
    /// them without a call; everything else goes through [`Term::compare`].
    #[inline]
    fn cmp(&self, other: &OrdTerm) -> Ordering {
        match (&self.0, &other.0) {
            (Term::Int(x), Term::Int(y)) => x.cmp(y),
            _ => self.0.compare(&other.0),
        }
    }
}

fn write_binary(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => write!(f, "<<{s:?}>>"),
        _ => {
            f.write_str("<<")?;
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{byte}")?;
            }
            f.write_str(">>")
        }
    }
}

fn write_seq(f: &mut fmt::Formatter<'_>, v: &[Term]) -> fmt::Result {
    for (i, t) in v.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}

/// Erlang syntax: `{<<"The Flash">>,<<"Grant Gustin">>,7.9}`, `[a,b]`, `#{k => v}`.
impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Int(i) => write!(f, "{i}"),
            Term::Float(x) => write!(f, "{x:?}"),
            Term::Atom(a) => write!(f, "{a}"),
            Term::Ref(r) => write!(f, "{r}"),
            Term::Pid(p) => write!(f, "{p}"),
            Term::Tuple(v) => {
                f.write_str("{")?;
                write_seq(f, v)?;
                f.write_str("}")
            }
            Term::List(v) => {
                f.write_str("[")?;
                write_seq(f, v)?;
                f.write_str("]")
            }
            Term::Map(m) => {
                f.write_str("#{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k} => {v}")?;
                }
                f.write_str("}")
            }
            Term::Binary(b) => write_binary(f, b),
        }
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Term {
            fn from(i: $t) -> Term {
                Term::Int(i64::from(i))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Term {
    fn from(x: f64) -> Term {
        Term::Float(x)
    }
}

impl From<f32> for Term {
    fn from(x: f32) -> Term {
        Term::Float(f64::from(x))
    }
}

/// `true` and `false` are atoms in Erlang.
impl From<bool> for Term {
    fn from(b: bool) -> Term {
        Term::atom(if b { "true" } else { "false" })
    }
}

/// Text becomes a binary, as Elixir strings are binaries.
impl From<&str> for Term {
    fn from(s: &str) -> Term {
        Term::Binary(Arc::from(s.as_bytes()))
    }
}

impl From<String> for Term {
    fn from(s: String) -> Term {
        Term::Binary(Arc::from(s.into_bytes()))
    }
}

impl From<&String> for Term {
    fn from(s: &String) -> Term {
        Term::from(s.as_str())
    }
}

impl From<&[u8]> for Term {
    fn from(b: &[u8]) -> Term {
        Term::binary(b)
    }
}

impl From<Atom> for Term {
    fn from(a: Atom) -> Term {
        Term::Atom(a)
    }
}

impl From<Pid> for Term {
    fn from(p: Pid) -> Term {
        Term::Pid(p)
    }
}

impl From<Ref> for Term {
    fn from(r: Ref) -> Term {
        Term::Ref(r)
    }
}

impl From<&Term> for Term {
    fn from(t: &Term) -> Term {
        t.clone()
    }
}

/// A vector becomes a list.
impl<T: Into<Term>> From<Vec<T>> for Term {
    fn from(v: Vec<T>) -> Term {
        Term::List(v.into_iter().map(Into::into).collect())
    }
}

/// The unit value becomes the empty tuple `{}`.
impl From<()> for Term {
    fn from(_: ()) -> Term {
        Term::Tuple(Arc::new([]))
    }
}

macro_rules! from_tuple {
    ($($name:ident)+) => {
        /// A Rust tuple becomes an Erlang tuple of the same size.
        impl<$($name: Into<Term>),+> From<($($name,)+)> for Term {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($($name,)+)) -> Term {
                Term::Tuple(Arc::new([$($name.into()),+]))
            }
        }
    };
}
from_tuple!(A B);
crate::macros::tuple_sizes_but_pairs!(from_tuple);
