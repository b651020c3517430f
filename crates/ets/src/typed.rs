//! [`TypedTable`]: the same four table types over plain Rust records, with no [`Term`] built.
//!
//! A record says which of its fields is the key ([`Record`]); tuples are keyed on their first
//! field, so `TypedTable<(String, Pid)>` is the seed's `{name, pid}` table. Queries are closures
//! instead of match specifications. Closures never run under a table lock: the table copies a
//! chunk of objects under the lock, releases it, then runs the closure on the copies; writes
//! decided by a closure (`update`, `select_delete`, `select_replace`) are applied afterwards as
//! compare-and-swap operations on the exact object the closure saw.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use runtime::Pid;

use crate::core::{Core, downcast};
use crate::error::EtsError;
use crate::options::{Options, TableType};
use crate::registry::{self, AnyTable, Info, Tid};
use crate::store::{Cursor, Keyed, Keys};
use crate::term::{Atom, Term};

/// A row of a [`TypedTable`]: a cloneable value with a key.
///
/// Implemented for tuples of up to eight fields, keyed on the first. Implement it for your own
/// structs to pick another key field.
///
/// `PartialEq` must be reflexive (no NaN inside a record): bags compare whole records to skip
/// duplicates, and `delete_object`, `update`, `select_delete` and `select_replace` find the
/// exact record they saw by comparing it.
///
/// ```
/// #[derive(Clone, PartialEq)]
/// struct Show { title: String, lead: String, rating: f64 }
///
/// impl ets::Record for Show {
///     type Key = String;
///     fn key(&self) -> &String { &self.title }
/// }
/// ```
pub trait Record: Clone + PartialEq + Send + Sync + 'static {
    /// The key type: hashed in hash tables, ordered by its `Ord` in an `ordered_set`.
    type Key: Clone + Eq + Hash + Ord + Send + Sync + 'static;
    /// The record's key. Tables call it while holding a lock, to find a record's bucket: it
    /// should return a field, and must not use the table.
    fn key(&self) -> &Self::Key;
}

macro_rules! record_tuple {
    ($($rest:ident)*) => {
        impl<K, $($rest),*> Record for (K, $($rest,)*)
        where
            K: Clone + Eq + Hash + Ord + Send + Sync + 'static,
            $($rest: Clone + PartialEq + Send + Sync + 'static,)*
        {
            type Key = K;
            fn key(&self) -> &K {
                &self.0
            }
        }
    };
}
record_tuple!();
record_tuple!(B);
record_tuple!(B C);
record_tuple!(B C D);
record_tuple!(B C D E);
record_tuple!(B C D E F);
record_tuple!(B C D E F G);
record_tuple!(B C D E F G H);

/// A record's key is its own (typed tables have no key position).
impl<R: Record> Keyed<R::Key> for R {
    #[inline]
    fn has_key(&self, _keypos: usize, key: &R::Key) -> bool {
        self.key() == key
    }

    fn key(&self, _keypos: usize) -> R::Key {
        Record::key(self).clone()
    }
}

/// Keys of typed tables: the key type itself, in both stores.
pub(crate) struct Same<K>(PhantomData<fn() -> K>);

impl<K: Clone + Eq + Hash + Ord + Send + Sync + 'static> Keys for Same<K> {
    type H = K;
    type O = K;
    #[inline]
    fn ord(k: &K) -> &K {
        k
    }
    #[inline]
    fn ord_owned(k: K) -> K {
        k
    }
    #[inline]
    fn unord(k: K) -> K {
        k
    }
    type Map<O: Keyed<K> + Send + Sync> = BTreeMap<K, O>;
}

type TypedCore<R> = Core<Same<<R as Record>::Key>, R>;

fn no_heap<R>(_: &R) -> usize {
    0
}

/// An ETS table of Rust records. Cloning the handle is cheap; every clone names the same
/// table. Access rights, ownership, heirs and names work as for [`Table`](crate::Table).
pub struct TypedTable<R: Record> {
    core: Arc<TypedCore<R>>,
}

impl<R: Record> Clone for TypedTable<R> {
    fn clone(&self) -> Self {
        TypedTable {
            core: self.core.clone(),
        }
    }
}

impl<R: Record> std::fmt::Debug for TypedTable<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedTable({})", self.core.meta.tid)
    }
}

/// What a typed `select` closure returns for one record.
type Selector<R, T> = Box<dyn FnMut(&R) -> Option<T> + Send>;

/// A chunk of typed `select` results and where to go on; see [`TypedTable::select_limit`].
pub struct TypedContinuation<R: Record, T> {
    table: TypedTable<R>,
    f: Selector<R, T>,
    cursor: Option<Cursor<R::Key>>,
    pending: std::collections::VecDeque<T>,
    limit: usize,
    forward: bool,
}

impl<R: Record, T> std::fmt::Debug for TypedContinuation<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedContinuation")
            .field("table", &self.table)
            .field("limit", &self.limit)
            .finish()
    }
}

impl<R: Record, T> TypedContinuation<R, T> {
    /// The next chunk of at most `limit` results, or `None` at the end of the table.
    pub fn next(mut self) -> TypedChunk<R, T> {
        self.table.core.meta.check_read()?;
        while self.pending.len() < self.limit {
            let Some(cursor) = self.cursor.as_mut() else {
                break;
            };
            let mut copies = Vec::new();
            let done = self.table.core.store.scan(
                cursor,
                self.forward,
                self.limit.max(crate::core::CHUNK),
                &mut |objs| copies.extend_from_slice(objs),
            );
            if done {
                self.cursor = None;
            }
            // The closure runs on the copies, with no lock held.
            self.pending.extend(copies.iter().filter_map(&mut self.f));
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let n = self.limit.min(self.pending.len());
        let chunk: Vec<T> = self.pending.drain(..n).collect();
        Ok(Some((chunk, self)))
    }
}

type TypedChunk<R, T> = Result<Option<(Vec<T>, TypedContinuation<R, T>)>, EtsError>;

impl<R: Record> TypedTable<R> {
    /// Creates a table owned by the calling process. The key comes from [`Record::key`], so
    /// the key position option must stay 1 ([`EtsError::BadKeypos`] otherwise).
    ///
    /// ```
    /// use ets::{Options, TypedTable};
    /// let t: TypedTable<(String, u32)> = TypedTable::new("ages", Options::set())?;
    /// t.insert(("ann".to_string(), 31))?;
    /// assert_eq!(t.get(&"ann".to_string())?, Some(("ann".to_string(), 31)));
    /// # Ok::<(), ets::EtsError>(())
    /// ```
    pub fn new(name: impl Into<Atom>, opts: Options) -> Result<Self, EtsError> {
        if opts.keypos != 1 {
            return Err(EtsError::BadKeypos(opts.keypos));
        }
        let core = Core::create(name.into(), &opts, no_heap::<R>)?;
        Ok(TypedTable { core })
    }

    /// The typed table of record type `R` named `name`, if it exists.
    pub fn whereis(name: impl Into<Atom>) -> Option<Self> {
        Self::wrap(registry::get_named(&name.into())?)
    }

    /// The typed table of record type `R` with id `tid`, if it exists.
    pub fn from_tid(tid: Tid) -> Option<Self> {
        Self::wrap(registry::get(tid)?)
    }

    fn wrap(t: Arc<dyn AnyTable>) -> Option<Self> {
        downcast::<Same<R::Key>, R>(t).map(|core| TypedTable { core })
    }

    fn any(&self) -> Arc<dyn AnyTable> {
        self.core.clone()
    }

    /// The table's id.
    pub fn tid(&self) -> Tid {
        self.core.meta.tid
    }

    /// The table's type.
    pub fn kind(&self) -> TableType {
        self.core.meta.kind
    }

    /// Inserts a record with ETS's `insert/2` semantics for the table type.
    #[inline]
    pub fn insert(&self, rec: R) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        self.core.store.insert(rec.key().clone(), rec);
        Ok(())
    }

    /// Inserts several records atomically.
    pub fn insert_many(&self, recs: impl IntoIterator<Item = R>) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        let items = recs.into_iter().map(|r| (r.key().clone(), r)).collect();
        self.core.store.insert_many(items);
        Ok(())
    }

    /// Inserts the record only if its key is absent; returns whether it did.
    pub fn insert_new(&self, rec: R) -> Result<bool, EtsError> {
        self.core.meta.check_write()?;
        Ok(self.core.store.insert_new(rec.key().clone(), rec))
    }

    /// Inserts all records, atomically, only if none of their keys is present.
    pub fn insert_new_many(&self, recs: impl IntoIterator<Item = R>) -> Result<bool, EtsError> {
        self.core.meta.check_write()?;
        let items = recs.into_iter().map(|r| (r.key().clone(), r)).collect();
        Ok(self.core.store.insert_new_many(items))
    }

    /// Copies of the records with `key` (bags: in insertion order).
    #[inline]
    pub fn lookup(&self, key: &R::Key) -> Result<Vec<R>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.read(key, <[R]>::to_vec))
    }

    /// A copy of the first record with `key`, if any.
    #[inline]
    pub fn get(&self, key: &R::Key) -> Result<Option<R>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.read(key, |o| o.first().cloned()))
    }

    /// Whether a record has `key`.
    pub fn member(&self, key: &R::Key) -> Result<bool, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.read(key, |o| !o.is_empty()))
    }

    /// Removes and returns the records with `key`.
    pub fn take(&self, key: &R::Key) -> Result<Vec<R>, EtsError> {
        self.core.meta.check_write()?;
        Ok(self.core.store.take(key))
    }

    /// Removes the records with `key`.
    pub fn delete(&self, key: &R::Key) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        self.core.store.delete(key);
        Ok(())
    }

    /// Removes records equal to `rec` (every copy in a duplicate bag).
    pub fn delete_object(&self, rec: &R) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        self.core.store.delete_object(rec.key(), rec);
        Ok(())
    }

    /// Empties the table atomically.
    pub fn delete_all_objects(&self) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        self.core.store.clear();
        Ok(())
    }

    /// Deletes the table. Needs write access.
    pub fn delete_table(&self) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        registry::delete(&self.any());
        Ok(())
    }

    /// Atomically replaces the record with `key` by `f(record)` and returns the new record, or
    /// `None` if the key is absent. `f` runs on a copy with no lock held and may run more than
    /// once if another writer changes the record meanwhile (compare-and-swap). `f` must keep
    /// the key ([`EtsError::KeyChanged`]). `set` and `ordered_set` only.
    ///
    /// This is the typed `update_counter`/`update_element`.
    pub fn update(&self, key: &R::Key, mut f: impl FnMut(&R) -> R) -> Result<Option<R>, EtsError> {
        self.core.meta.check_write()?;
        self.core.require_set()?;
        loop {
            let Some(old) = self.core.store.read(key, |o| o.first().cloned()) else {
                return Ok(None);
            };
            let new = f(&old);
            if new.key() != key {
                return Err(EtsError::KeyChanged);
            }
            if self.core.store.replace_object(key, &old, new.clone()) {
                return Ok(Some(new));
            }
        }
    }

    /// As [`update`](TypedTable::update), but when the key is absent, inserts `f(default)`
    /// (like `update_counter/4` with a default object). Returns the record stored.
    pub fn update_or_insert(
        &self,
        key: &R::Key,
        default: R,
        mut f: impl FnMut(&R) -> R,
    ) -> Result<R, EtsError> {
        self.core.meta.check_write()?;
        self.core.require_set()?;
        loop {
            let old = self.core.store.read(key, |o| o.first().cloned());
            let base = old.as_ref().unwrap_or(&default);
            let new = f(base);
            if new.key() != key {
                return Err(EtsError::KeyChanged);
            }
            let done = match &old {
                Some(old) => self.core.store.replace_object(key, old, new.clone()),
                None => self.core.store.insert_new(key.clone(), new.clone()),
            };
            if done {
                return Ok(new);
            }
        }
    }

    /// The results of `f` over copies of all records, in table order (`None` skips a record).
    /// The typed `select`: `f` runs with no lock held.
    pub fn select<T>(&self, mut f: impl FnMut(&R) -> Option<T>) -> Result<Vec<T>, EtsError> {
        self.core.meta.check_read()?;
        let mut out = Vec::new();
        self.core
            .each_chunk(true, |chunk| out.extend(chunk.iter().filter_map(&mut f)));
        Ok(out)
    }

    /// As [`select`](TypedTable::select), in reverse key order for an `ordered_set`.
    pub fn select_reverse<T>(
        &self,
        mut f: impl FnMut(&R) -> Option<T>,
    ) -> Result<Vec<T>, EtsError> {
        self.core.meta.check_read()?;
        let mut out = Vec::new();
        self.core
            .each_chunk(false, |chunk| out.extend(chunk.iter().filter_map(&mut f)));
        Ok(out)
    }

    /// Chunks of at most `limit` results of `f` and a continuation for the rest; `None` if
    /// nothing matches.
    pub fn select_limit<T>(
        &self,
        limit: usize,
        f: impl FnMut(&R) -> Option<T> + Send + 'static,
    ) -> TypedChunk<R, T> {
        self.core.meta.check_read()?;
        if limit == 0 {
            return Err(EtsError::BadLimit);
        }
        TypedContinuation {
            table: self.clone(),
            f: Box::new(f),
            cursor: Some(self.core.store.start()),
            pending: Default::default(),
            limit,
            forward: true,
        }
        .next()
    }

    /// How many records satisfy `pred`.
    pub fn select_count(&self, mut pred: impl FnMut(&R) -> bool) -> Result<usize, EtsError> {
        self.core.meta.check_read()?;
        let mut n = 0;
        self.core
            .each_chunk(true, |chunk| n += chunk.iter().filter(|r| pred(r)).count());
        Ok(n)
    }

    /// Deletes the records satisfying `pred`; returns how many. Each deletion removes the exact
    /// record `pred` saw, so a record changed meanwhile is left alone.
    pub fn select_delete(&self, mut pred: impl FnMut(&R) -> bool) -> Result<usize, EtsError> {
        self.core.meta.check_write()?;
        let mut doomed = Vec::new();
        self.core.each_chunk(true, |chunk| {
            doomed.extend(chunk.into_iter().filter(|r| pred(r)))
        });
        Ok(doomed
            .iter()
            .map(|r| self.core.store.delete_object(r.key(), r))
            .sum())
    }

    /// Replaces each record for which `f` returns `Some(new)`; `new` must keep the key, or the
    /// call fails with [`EtsError::KeyChanged`] and replaces nothing. Each replacement is a
    /// compare-and-swap on the record `f` saw. Returns how many were replaced. Not for `bag`.
    pub fn select_replace(&self, mut f: impl FnMut(&R) -> Option<R>) -> Result<usize, EtsError> {
        self.core.meta.check_write()?;
        if self.kind() == TableType::Bag {
            return Err(EtsError::WrongType(TableType::Bag));
        }
        let mut pairs = Vec::new();
        self.core.each_chunk(true, |chunk| {
            for old in chunk {
                if let Some(new) = f(&old) {
                    pairs.push((old, new));
                }
            }
        });
        if pairs.iter().any(|(old, new)| old.key() != new.key()) {
            return Err(EtsError::KeyChanged);
        }
        Ok(pairs
            .into_iter()
            .filter(|(old, new)| self.core.store.replace_object(old.key(), old, new.clone()))
            .count())
    }

    /// The first key (key order for `ordered_set`, internal order otherwise).
    pub fn first(&self) -> Result<Option<R::Key>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.first(true))
    }

    /// The last key of an `ordered_set`; the same as `first` otherwise.
    pub fn last(&self) -> Result<Option<R::Key>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.first(false))
    }

    /// The key after `key` (any key for an `ordered_set`; a present key for hash tables).
    pub fn next(&self, key: &R::Key) -> Result<Option<R::Key>, EtsError> {
        self.core.meta.check_read()?;
        self.core
            .store
            .next(key, true)
            .map_err(|()| EtsError::TraversalKeyGone)
    }

    /// The key before `key` in an `ordered_set`; the same as `next` otherwise.
    pub fn prev(&self, key: &R::Key) -> Result<Option<R::Key>, EtsError> {
        self.core.meta.check_read()?;
        self.core
            .store
            .next(key, false)
            .map_err(|()| EtsError::TraversalKeyGone)
    }

    /// Folds `f` over copies of the records in table order, with no lock held.
    pub fn foldl<A>(&self, acc: A, f: impl FnMut(A, R) -> A) -> Result<A, EtsError> {
        self.core.fold(true, acc, f)
    }

    /// Folds in reverse key order for an `ordered_set` (table order otherwise).
    pub fn foldr<A>(&self, acc: A, f: impl FnMut(A, R) -> A) -> Result<A, EtsError> {
        self.core.fold(false, acc, f)
    }

    /// Copies of every record, in table order (ETS's `tab2list`).
    pub fn tab2list(&self) -> Result<Vec<R>, EtsError> {
        self.core.meta.check_read()?;
        let mut out = Vec::new();
        self.core.each_chunk(true, |chunk| out.extend(chunk));
        Ok(out)
    }

    /// The table's info.
    pub fn info(&self) -> Result<Info, EtsError> {
        if self.core.meta.is_deleted() {
            return Err(EtsError::NoTable);
        }
        Ok(registry::info_of(&*self.core))
    }

    /// The number of records.
    pub fn len(&self) -> Result<usize, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.len())
    }

    /// Whether the table holds no record.
    pub fn is_empty(&self) -> Result<bool, EtsError> {
        Ok(self.len()? == 0)
    }

    /// The owner hands the table to `pid`, which receives an [`EtsTransfer`](crate::EtsTransfer).
    pub fn give_away(&self, pid: Pid, data: impl Into<Term>) -> Result<(), EtsError> {
        registry::give_away(&self.any(), pid, data.into())
    }

    /// Sets or clears the heir (owner only).
    pub fn set_heir(&self, heir: Option<(Pid, Term)>) -> Result<(), EtsError> {
        registry::set_heir(&*self.core, heir)
    }

    /// Renames the table.
    pub fn rename(&self, name: impl Into<Atom>) -> Result<(), EtsError> {
        registry::rename(&*self.core, name.into())
    }
}
