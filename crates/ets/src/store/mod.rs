//! Storage engines shared by the Term tables and the typed tables.
//!
//! A store knows keys and objects, never key positions, patterns or access rights: the fronts
//! extract keys and check rights, then call one store operation. [`Store`] puts the hash store
//! (set, bag, duplicate_bag) and the ordered store (ordered_set) behind one interface.

pub(crate) mod abbrev;
pub(crate) mod hash;
mod leaf;
mod lock;
pub(crate) mod ordered;
mod probe;

use std::hash::Hash;

use crate::options::TableType;
use crate::stored::Packed;
use hash::{HashCursor, HashStore};
pub(crate) use leaf::LeafMap;
use ordered::OrderedStore;

/// The objects stored under one key: one for a set, a list in insertion order for bags.
///
/// The list is boxed so that a bucket holding one object is no bigger than the object needs:
/// with a 24-byte object (a Term table's [`Stored`](crate::stored::Stored)), `Objs` is 24 bytes
/// too, where an inline `Vec` would make it 32. Bags pay one more pointer hop for keys with
/// several objects.
#[allow(clippy::box_collection)] // Boxed on purpose: a thin pointer, see above.
pub(crate) enum Objs<O> {
    One(O),
    Many(Box<Vec<O>>),
}

impl<O: PartialEq> Objs<O> {
    pub(crate) fn as_slice(&self) -> &[O] {
        match self {
            Objs::One(o) => std::slice::from_ref(o),
            Objs::Many(v) => v,
        }
    }

    pub(crate) fn first_mut(&mut self) -> Option<&mut O> {
        match self {
            Objs::One(o) => Some(o),
            Objs::Many(v) => v.first_mut(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Objs::Many(v) if v.is_empty())
    }

    pub(crate) fn push(&mut self, obj: O) {
        match self {
            Objs::Many(v) => v.push(obj),
            Objs::One(_) => {
                let Objs::One(first) =
                    std::mem::replace(self, Objs::Many(Box::new(Vec::with_capacity(2))))
                else {
                    return;
                };
                if let Objs::Many(v) = self {
                    v.push(first);
                    v.push(obj);
                }
            }
        }
    }

    /// Keeps the objects for which `keep` is true; returns how many were removed.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&O) -> bool) -> usize {
        match self {
            Objs::One(o) => {
                if keep(o) {
                    0
                } else {
                    *self = Objs::Many(Box::default());
                    1
                }
            }
            Objs::Many(v) => {
                let before = v.len();
                v.retain(|o| keep(o));
                before - v.len()
            }
        }
    }

    pub(crate) fn replace_first(&mut self, old: &O, new: O) -> bool {
        match self {
            Objs::One(o) if o == old => {
                *o = new;
                true
            }
            Objs::One(_) => false,
            Objs::Many(v) => match v.iter_mut().find(|o| *o == old) {
                Some(o) => {
                    *o = new;
                    true
                }
                None => false,
            },
        }
    }

    pub(crate) fn into_vec(self) -> Vec<O> {
        match self {
            Objs::One(o) => vec![o],
            Objs::Many(v) => *v,
        }
    }
}

/// An object that holds its own key, so that hash tables need not store the key a second time.
/// `keypos` is the table's key position (Term tables; typed rows know their key field).
pub(crate) trait Keyed<K>: Clone + PartialEq {
    /// Whether the object's key is exactly `key`.
    fn has_key(&self, keypos: usize, key: &K) -> bool;
    /// A copy of the object's key.
    fn key(&self, keypos: usize) -> K;
    /// Runs `f` on the object's key, without copying it where the object holds it as a `K`.
    #[inline]
    fn with_key<R>(&self, keypos: usize, f: impl FnOnce(&K) -> R) -> R {
        f(&self.key(keypos))
    }
    /// For a Term ordered_set ([`AbMap`](abbrev::AbMap)): an object made of an integer key and
    /// one other number, taken apart into the key and that number. `None` for any other object,
    /// and always for types that are never packed.
    #[inline]
    fn pack(&self, _keypos: usize) -> Option<(i64, Packed)> {
        None
    }
    /// The object that [`pack`](Keyed::pack) took apart into `key` and `packed`.
    #[inline]
    fn unpack(_key: i64, _packed: Packed, _keypos: usize) -> Option<Self> {
        None
    }
}

/// How a front's key type maps to the ordered store's key type. Term tables order keys by
/// Erlang's `==`/`<` (so `1` and `1.0` are one key) through a wrapper; typed tables use the
/// key's own `Ord`.
pub(crate) trait Keys: Send + Sync + 'static {
    /// The key as hash tables see it (exact equality).
    type H: Hash + Eq + Clone + Send + Sync + 'static;
    /// The key as the ordered store sees it.
    type O: Ord + Clone + Send + Sync + 'static;
    fn ord(k: &Self::H) -> &Self::O;
    fn ord_owned(k: Self::H) -> Self::O;
    fn unord(k: Self::O) -> Self::H;
    /// The map an ordered_set leaf keeps its objects in.
    type Map<O: Keyed<Self::H> + Send + Sync>: LeafMap<Self::O, O>;
}

/// Where a traversal resumes: a bucket position in a hash table, the last key in an ordered one.
#[derive(Clone)]
pub(crate) enum Cursor<K> {
    Hash(HashCursor),
    Ordered(Option<K>),
}

/// A table's storage: hash or ordered.
pub(crate) enum Store<X: Keys, O: Keyed<X::H> + Send + Sync> {
    Hash(HashStore<X::H, O>),
    Ordered(OrderedStore<X::O, O, X::Map<O>>),
}

impl<X: Keys, O: Keyed<X::H> + Send + Sync> Store<X, O> {
    pub(crate) fn new(kind: TableType, read_concurrency: bool, keypos: usize) -> Self {
        match kind {
            TableType::OrderedSet => Store::Ordered(OrderedStore::new(keypos, read_concurrency)),
            _ => Store::Hash(HashStore::new(kind, read_concurrency, keypos)),
        }
    }

    /// Runs `f` on the objects under `key`, under a read lock (crate code only).
    #[inline]
    pub(crate) fn read<R>(&self, key: &X::H, f: impl FnOnce(&[O]) -> R) -> R {
        match self {
            Store::Hash(h) => h.read(key, f),
            Store::Ordered(o) => o.read(X::ord(key), |v| match v {
                Some(v) => f(std::slice::from_ref(v)),
                None => f(&[]),
            }),
        }
    }

    #[inline]
    pub(crate) fn insert(&self, key: X::H, obj: O) {
        match self {
            Store::Hash(h) => h.insert(key, obj),
            Store::Ordered(o) => o.insert(X::ord_owned(key), obj),
        }
    }

    pub(crate) fn insert_many(&self, items: Vec<(X::H, O)>) {
        match self {
            Store::Hash(h) => h.insert_many(items),
            Store::Ordered(o) => o.insert_many(
                items
                    .into_iter()
                    .map(|(k, v)| (X::ord_owned(k), v))
                    .collect(),
            ),
        }
    }

    pub(crate) fn insert_new(&self, key: X::H, obj: O) -> bool {
        match self {
            Store::Hash(h) => h.insert_new(key, obj),
            Store::Ordered(o) => o.insert_new(X::ord_owned(key), obj),
        }
    }

    pub(crate) fn insert_new_many(&self, items: Vec<(X::H, O)>) -> bool {
        match self {
            Store::Hash(h) => h.insert_new_many(items),
            Store::Ordered(o) => o.insert_new_many(
                items
                    .into_iter()
                    .map(|(k, v)| (X::ord_owned(k), v))
                    .collect(),
            ),
        }
    }

    pub(crate) fn take(&self, key: &X::H) -> Vec<O> {
        match self {
            Store::Hash(h) => h.take(key),
            Store::Ordered(o) => o.take(X::ord(key)).into_iter().collect(),
        }
    }

    pub(crate) fn delete(&self, key: &X::H) -> usize {
        match self {
            Store::Hash(h) => h.delete(key),
            Store::Ordered(o) => usize::from(o.take(X::ord(key)).is_some()),
        }
    }

    pub(crate) fn delete_object(&self, key: &X::H, obj: &O) -> usize {
        match self {
            Store::Hash(h) => h.delete_object(key, obj),
            Store::Ordered(o) => o.delete_object(X::ord(key), obj),
        }
    }

    pub(crate) fn replace_object(&self, key: &X::H, old: &O, new: O) -> bool {
        match self {
            Store::Hash(h) => h.replace_object(key, old, new),
            Store::Ordered(o) => o.replace_object(X::ord(key), old, new),
        }
    }

    pub(crate) fn update<R>(
        &self,
        key: &X::H,
        f: impl FnOnce(Option<&mut O>) -> (R, Option<O>),
    ) -> R {
        match self {
            Store::Hash(h) => h.update(key, f),
            Store::Ordered(o) => o.update(X::ord(key), f),
        }
    }

    pub(crate) fn clear(&self) {
        match self {
            Store::Hash(h) => h.clear(),
            Store::Ordered(o) => o.clear(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Store::Hash(h) => h.len(),
            Store::Ordered(o) => o.len(),
        }
    }

    pub(crate) fn memory(&self, heap: impl Fn(&O) -> usize) -> usize {
        match self {
            Store::Hash(h) => h.memory(heap),
            Store::Ordered(o) => o.memory(heap),
        }
    }

    /// `first`/`last`: for hash tables both are the first key in internal order.
    pub(crate) fn first(&self, forward: bool) -> Option<X::H> {
        match self {
            Store::Hash(h) => h.first_key(),
            Store::Ordered(o) => o.step(None, forward).map(X::unord),
        }
    }

    /// `next`/`prev`: for hash tables both step forward, and fail if `key` is gone.
    pub(crate) fn next(&self, key: &X::H, forward: bool) -> Result<Option<X::H>, ()> {
        match self {
            Store::Hash(h) => h.next_key(key),
            Store::Ordered(o) => Ok(o.step(Some(X::ord(key)), forward).map(X::unord)),
        }
    }

    pub(crate) fn start(&self) -> Cursor<X::O> {
        match self {
            Store::Hash(_) => Cursor::Hash(HashCursor::default()),
            Store::Ordered(_) => Cursor::Ordered(None),
        }
    }

    /// Visits at least `budget` objects (whole keys) from `cursor` on, in table order (reverse
    /// order for `forward == false` on ordered tables), and moves the cursor. Returns true when
    /// the table is exhausted. `f` is crate code, never user code.
    pub(crate) fn scan(
        &self,
        cursor: &mut Cursor<X::O>,
        forward: bool,
        budget: usize,
        f: &mut dyn FnMut(&[O]),
    ) -> bool {
        match (self, cursor) {
            (Store::Hash(h), Cursor::Hash(c)) => h.scan(c, budget, f),
            (Store::Ordered(o), Cursor::Ordered(c)) => {
                let next = o.scan(c.take(), forward, budget, &mut |obj| {
                    f(std::slice::from_ref(obj))
                });
                let done = next.is_none();
                *c = next;
                done
            }
            // A cursor of the other kind cannot come from this store; treat it as exhausted.
            _ => true,
        }
    }
}
