//! [`Table`]: ETS tables of dynamic [`Term`] tuples, with ETS's whole API.

use std::cmp::Ordering;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use runtime::Pid;

use crate::core::{CHUNK, Core, downcast};
use crate::error::EtsError;
use crate::object::IntoObject;
use crate::options::{Options, TableType};
use crate::pattern::MatchSpec;
use crate::registry::{self, AnyTable, Info, Tid};
use crate::store::abbrev::AbMap;
use crate::store::{Cursor, Keyed, Keys, Store};
use crate::stored::{Stored, to_terms};
use crate::term::{Atom, OrdTerm, Term};

/// Keys of Term tables: exact in hash tables, by Erlang `==` in ordered ones.
pub(crate) struct TermKeys;

impl Keys for TermKeys {
    type H = Term;
    type O = OrdTerm;
    #[inline]
    fn ord(k: &Term) -> &OrdTerm {
        OrdTerm::from_ref(k)
    }
    #[inline]
    fn ord_owned(k: Term) -> OrdTerm {
        OrdTerm(k)
    }
    #[inline]
    fn unord(k: OrdTerm) -> Term {
        k.0
    }
    type Map<O: Keyed<Term> + Send + Sync> = AbMap<O>;
}

type TermCore = Core<TermKeys, Stored>;

/// An ETS table of Term tuples. Cloning the handle is cheap; every clone names the same table.
///
/// Operations check that the table still exists and that the calling process has the right to
/// perform them (see [`Access`](crate::Access)); reads return owned copies.
#[derive(Clone)]
pub struct Table {
    core: Arc<TermCore>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table({})", self.core.meta.tid)
    }
}

/// One `update_counter` operation: ETS's `{Pos, Incr}` or `{Pos, Incr, Threshold, SetValue}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterOp {
    pos: Option<usize>,
    incr: i64,
    threshold: Option<(i64, i64)>,
}

impl CounterOp {
    /// Adds `incr` to the element at `pos` (from 1).
    pub fn new(pos: usize, incr: i64) -> Self {
        CounterOp {
            pos: Some(pos),
            incr,
            threshold: None,
        }
    }

    /// Adds `incr` to the element just after the key (ETS's `update_counter(T, K, Incr)`).
    pub fn incr(incr: i64) -> Self {
        CounterOp {
            pos: None,
            incr,
            threshold: None,
        }
    }

    /// Resets the counter to `set_value` when, for `incr >= 0`, the result exceeds `threshold`,
    /// or, for `incr < 0`, falls below it.
    pub fn threshold(mut self, threshold: i64, set_value: i64) -> Self {
        self.threshold = Some((threshold, set_value));
        self
    }
}

/// Checks that every float in `t` is finite.
fn finite(t: &Term) -> Result<(), EtsError> {
    if t.is_finite() {
        Ok(())
    } else {
        Err(EtsError::NonFiniteFloat)
    }
}

/// Computes counter ops on a tuple's elements: the results, and the integers to write at each
/// position. Validates everything first, so an error changes nothing.
type Counted = (Vec<i64>, Vec<(usize, i64)>);
fn count(elems: &[Term], ops: &[CounterOp], keypos: usize) -> Result<Counted, EtsError> {
    let mut scratch: Vec<(usize, i64)> = Vec::with_capacity(ops.len());
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let pos = op.pos.unwrap_or(keypos + 1);
        if pos == keypos {
            return Err(EtsError::KeyPosition(pos));
        }
        if pos == 0 || pos > elems.len() {
            return Err(EtsError::BadPosition {
                pos,
                arity: elems.len(),
            });
        }
        let cur = match scratch.iter().find(|(p, _)| *p == pos) {
            Some((_, v)) => *v,
            None => elems[pos - 1].as_int().ok_or(EtsError::NotAnInteger(pos))?,
        };
        let mut new = cur.checked_add(op.incr).ok_or(EtsError::Overflow)?;
        if let Some((threshold, set)) = op.threshold
            && ((op.incr >= 0 && new > threshold) || (op.incr < 0 && new < threshold))
        {
            new = set;
        }
        match scratch.iter_mut().find(|(p, _)| *p == pos) {
            Some(slot) => slot.1 = new,
            None => scratch.push((pos, new)),
        }
        results.push(new);
    }
    Ok((results, scratch))
}

/// Applies counter ops to a tuple (a default object about to be inserted).
fn apply_counters(obj: &mut Term, ops: &[CounterOp], keypos: usize) -> Result<Vec<i64>, EtsError> {
    let Term::Tuple(elems) = obj else {
        return Err(EtsError::NotATuple(obj.clone()));
    };
    let (results, writes) = count(elems, ops, keypos)?;
    let elems = Arc::make_mut(elems);
    for (pos, v) in writes {
        elems[pos - 1] = Term::Int(v);
    }
    Ok(results)
}

/// Applies counter ops to a stored object in place: a pair's numbers are changed where they
/// lie, without building its tuple (this runs under the shard's write lock).
fn apply_counters_stored(
    obj: &mut Stored,
    ops: &[CounterOp],
    keypos: usize,
) -> Result<Vec<i64>, EtsError> {
    let (results, writes) = obj.with_elements(|elems| count(elems, ops, keypos))?;
    obj.set_ints(&writes);
    Ok(results)
}

/// Applies element updates to a tuple: validates everything first.
fn apply_elements(
    obj: &mut Term,
    updates: &[(usize, Term)],
    keypos: usize,
) -> Result<(), EtsError> {
    let Term::Tuple(elems) = obj else {
        return Err(EtsError::NotATuple(obj.clone()));
    };
    for (pos, _) in updates {
        if *pos == keypos {
            return Err(EtsError::KeyPosition(*pos));
        }
        if *pos == 0 || *pos > elems.len() {
            return Err(EtsError::BadPosition {
                pos: *pos,
                arity: elems.len(),
            });
        }
    }
    let elems = Arc::make_mut(elems);
    for (pos, v) in updates {
        elems[pos - 1] = v.clone();
    }
    Ok(())
}

/// A default object with its key slot set to `key`.
fn with_key(default: Term, key: &Term, keypos: usize) -> Result<Term, EtsError> {
    let Term::Tuple(mut elems) = default else {
        return Err(EtsError::NotATuple(default));
    };
    if elems.len() < keypos {
        return Err(EtsError::TooShort {
            arity: elems.len(),
            keypos,
        });
    }
    Arc::make_mut(&mut elems)[keypos - 1] = key.clone();
    Ok(Term::Tuple(elems))
}

/// A chunk of `select` results and where to go on; see [`Table::select_limit`].
pub struct Continuation {
    table: Table,
    ms: Arc<MatchSpec>,
    cursor: Option<Cursor<OrdTerm>>,
    pending: std::collections::VecDeque<Term>,
    limit: usize,
    forward: bool,
}

impl std::fmt::Debug for Continuation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Continuation")
            .field("table", &self.table)
            .field("limit", &self.limit)
            .field("done", &self.cursor.is_none())
            .finish()
    }
}

impl Continuation {
    /// ETS's `select/1`: the next chunk of at most `limit` results, or `None` at the end of the
    /// table (`'$end_of_table'`).
    pub fn next(mut self) -> Result<Option<(Vec<Term>, Continuation)>, EtsError> {
        self.table.core.meta.check_read()?;
        while self.pending.len() < self.limit {
            let Some(cursor) = self.cursor.as_mut() else {
                break;
            };
            let ms = &self.ms;
            let pending = &mut self.pending;
            let done = self.table.core.store.scan(
                cursor,
                self.forward,
                self.limit.max(CHUNK),
                &mut |objs| pending.extend(objs.iter().filter_map(|o| ms.run_stored(o))),
            );
            if done {
                self.cursor = None;
            }
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let n = self.limit.min(self.pending.len());
        let chunk: Vec<Term> = self.pending.drain(..n).collect();
        Ok(Some((chunk, self)))
    }
}

/// `match/3`'s result shape: each `'$$'` result is a list of bindings.
fn bindings(results: Vec<Term>) -> Vec<Vec<Term>> {
    results
        .into_iter()
        .map(|t| match t {
            Term::List(v) => v.to_vec(),
            other => vec![other],
        })
        .collect()
}

type Chunk<T> = Result<Option<(Vec<T>, Continuation)>, EtsError>;

impl Table {
    /// ETS's `new/2`: creates a table owned by the calling process.
    ///
    /// `name` is reported by [`info`](Table::info) and, with
    /// [`Options::named_table`], finds the table through [`Table::whereis`]. Fails with
    /// [`EtsError::NameTaken`] if a named table already has the name, and with
    /// [`EtsError::BadKeypos`] for key position 0.
    pub fn new(name: impl Into<Atom>, opts: Options) -> Result<Table, EtsError> {
        let core = Core::create(name.into(), &opts, Stored::heap_size)?;
        Ok(Table { core })
    }

    /// The Term table named `name` (a `named_table`), if it exists.
    pub fn whereis(name: impl Into<Atom>) -> Option<Table> {
        Self::wrap(registry::get_named(&name.into())?)
    }

    /// The Term table with id `tid`, if it exists (for instance after an
    /// [`EtsTransfer`](crate::EtsTransfer)).
    pub fn from_tid(tid: Tid) -> Option<Table> {
        Self::wrap(registry::get(tid)?)
    }

    fn wrap(t: Arc<dyn AnyTable>) -> Option<Table> {
        downcast::<TermKeys, Stored>(t).map(|core| Table { core })
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

    fn keypos(&self) -> usize {
        self.core.meta.keypos
    }

    /// Checks an object and returns a copy of its key.
    fn key_of(&self, obj: &Term) -> Result<Term, EtsError> {
        let keypos = self.keypos();
        let elems = obj
            .as_tuple()
            .ok_or_else(|| EtsError::NotATuple(obj.clone()))?;
        let key = elems.get(keypos - 1).ok_or(EtsError::TooShort {
            arity: elems.len(),
            keypos,
        })?;
        finite(obj)?;
        Ok(key.clone())
    }

    /// Checks an object as [`key_of`](Table::key_of) does and stores it: its key and its
    /// stored form, from one look at its elements.
    #[inline(always)]
    fn object(&self, obj: impl IntoObject) -> Result<(Term, Stored), EtsError> {
        let keypos = self.keypos();
        let stored = obj
            .into_object()
            .into_stored()
            .map_err(EtsError::NotATuple)?;
        let key = stored.element(keypos).ok_or(EtsError::TooShort {
            arity: stored.arity(),
            keypos,
        })?;
        if !stored.is_finite() {
            return Err(EtsError::NonFiniteFloat);
        }
        Ok((key, stored))
    }

    fn keyed(
        &self,
        objs: impl IntoIterator<Item = impl IntoObject>,
    ) -> Result<Vec<(Term, Stored)>, EtsError> {
        objs.into_iter().map(|o| self.object(o)).collect()
    }

    /// ETS's `insert/2` with one object: a `set` or `ordered_set` replaces the object with the
    /// same key; a `bag` adds it unless an identical object is present; a `duplicate_bag`
    /// always adds it.
    ///
    /// ```
    /// let t = ets::Table::new("tv_shows", ets::Options::set())?;
    /// t.insert(("The Flash", "Grant Gustin", 7.9))?;
    /// # Ok::<(), ets::EtsError>(())
    /// ```
    pub fn insert(&self, obj: impl IntoObject) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        let (key, obj) = self.object(obj)?;
        self.core.store.insert(key, obj);
        Ok(())
    }

    /// ETS's `insert/2` with a list: atomic; if any object is bad, nothing is inserted. Same-key
    /// objects go in list order (for a set, the last one stays).
    pub fn insert_many(
        &self,
        objs: impl IntoIterator<Item = impl IntoObject>,
    ) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        let items = self.keyed(objs)?;
        self.core.store.insert_many(items);
        Ok(())
    }

    /// ETS's `insert_new/2` with one object: inserts it only if its key is absent; returns
    /// whether it did.
    pub fn insert_new(&self, obj: impl IntoObject) -> Result<bool, EtsError> {
        self.core.meta.check_write()?;
        let (key, obj) = self.object(obj)?;
        Ok(self.core.store.insert_new(key, obj))
    }

    /// ETS's `insert_new/2` with a list: inserts all, atomically, only if no key is present.
    pub fn insert_new_many(
        &self,
        objs: impl IntoIterator<Item = impl IntoObject>,
    ) -> Result<bool, EtsError> {
        self.core.meta.check_write()?;
        let items = self.keyed(objs)?;
        Ok(self.core.store.insert_new_many(items))
    }

    /// ETS's `lookup/2`: copies of the objects with `key` (bags: in insertion order).
    pub fn lookup(&self, key: impl Into<Term>) -> Result<Vec<Term>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.read(&key.into(), to_terms))
    }

    /// ETS's `lookup_element/3`: the element at `pos` of the object with `key`; for bags, a list
    /// of that element of every object with `key`.
    pub fn lookup_element(&self, key: impl Into<Term>, pos: usize) -> Result<Term, EtsError> {
        self.lookup_element_impl(&key.into(), pos)?
            .ok_or(EtsError::KeyNotFound)
    }

    /// ETS's `lookup_element/4`: as [`lookup_element`](Table::lookup_element), but `default`
    /// when the key is absent.
    pub fn lookup_element_or(
        &self,
        key: impl Into<Term>,
        pos: usize,
        default: impl Into<Term>,
    ) -> Result<Term, EtsError> {
        Ok(self
            .lookup_element_impl(&key.into(), pos)?
            .unwrap_or_else(|| default.into()))
    }

    fn lookup_element_impl(&self, key: &Term, pos: usize) -> Result<Option<Term>, EtsError> {
        self.core.meta.check_read()?;
        let set = self.kind().is_set();
        self.core.store.read(key, |objs| {
            if objs.is_empty() {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(objs.len());
            for o in objs {
                let e = o.element(pos).ok_or(EtsError::BadPosition {
                    pos,
                    arity: o.arity(),
                })?;
                out.push(e);
            }
            Ok(Some(if set {
                out.pop().unwrap_or_else(Term::nil)
            } else {
                Term::List(out.into())
            }))
        })
    }

    /// ETS's `member/2`.
    pub fn member(&self, key: impl Into<Term>) -> Result<bool, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.read(&key.into(), |o| !o.is_empty()))
    }

    /// ETS's `take/2`: removes and returns the objects with `key`.
    pub fn take(&self, key: impl Into<Term>) -> Result<Vec<Term>, EtsError> {
        self.core.meta.check_write()?;
        Ok(to_terms(&self.core.store.take(&key.into())))
    }

    /// ETS's `delete/2`: removes every object with `key` (absent keys are fine).
    pub fn delete(&self, key: impl Into<Term>) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        self.core.store.delete(&key.into());
        Ok(())
    }

    /// ETS's `delete_object/2`: removes this exact object, keeping other objects with its key
    /// (in a `duplicate_bag`, every copy goes).
    pub fn delete_object(&self, obj: impl IntoObject) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        let (key, obj) = self.object(obj)?;
        self.core.store.delete_object(&key, &obj);
        Ok(())
    }

    /// ETS's `delete_all_objects/1`: empties the table, atomically.
    pub fn delete_all_objects(&self) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        self.core.store.clear();
        Ok(())
    }

    /// ETS's `delete/1`: deletes the table. Needs write access.
    pub fn delete_table(&self) -> Result<(), EtsError> {
        self.core.meta.check_write()?;
        registry::delete(&self.any());
        Ok(())
    }

    /// ETS's `update_counter(T, Key, Incr)`: adds `incr` to the element after the key and
    /// returns the new value. Atomic. `set` and `ordered_set` only.
    pub fn update_counter(&self, key: impl Into<Term>, incr: i64) -> Result<i64, EtsError> {
        let r = self.update_counters(key, &[CounterOp::incr(incr)], None)?;
        r.first().copied().ok_or(EtsError::KeyNotFound)
    }

    /// ETS's `update_counter/3,4` in full: runs `ops` in order, each on the previous result,
    /// and returns every result. When the key is absent, `default` (with its key replaced by
    /// `key`) is inserted and updated; without a default, the call fails with
    /// [`EtsError::KeyNotFound`]. Atomic: on any error nothing changes.
    pub fn update_counters(
        &self,
        key: impl Into<Term>,
        ops: &[CounterOp],
        default: Option<Term>,
    ) -> Result<Vec<i64>, EtsError> {
        self.core.meta.check_write()?;
        self.core.require_set()?;
        let key = key.into();
        let keypos = self.keypos();
        let default = match default {
            Some(d) => {
                let d = with_key(d, &key, keypos)?;
                finite(&d)?;
                Some(d)
            }
            None => None,
        };
        finite(&key)?;
        self.core.store.update(&key, |cur| match cur {
            Some(obj) => (apply_counters_stored(obj, ops, keypos), None),
            None => match default {
                None => (Err(EtsError::KeyNotFound), None),
                Some(mut obj) => match apply_counters(&mut obj, ops, keypos) {
                    Ok(r) => (Ok(r), Some(Stored::new(obj))),
                    Err(e) => (Err(e), None),
                },
            },
        })
    }

    /// ETS's `update_element/3`: sets the elements at the given positions of the object with
    /// `key`; returns false if the key is absent. Atomic. `set` and `ordered_set` only.
    pub fn update_element(
        &self,
        key: impl Into<Term>,
        updates: &[(usize, Term)],
    ) -> Result<bool, EtsError> {
        self.update_element_impl(key.into(), updates, None)
    }

    /// ETS's `update_element/4`: as [`update_element`](Table::update_element), but when the key
    /// is absent, inserts `default` (its key replaced by `key`) with the updates applied.
    pub fn update_element_or_insert(
        &self,
        key: impl Into<Term>,
        updates: &[(usize, Term)],
        default: impl Into<Term>,
    ) -> Result<bool, EtsError> {
        self.update_element_impl(key.into(), updates, Some(default.into()))
    }

    fn update_element_impl(
        &self,
        key: Term,
        updates: &[(usize, Term)],
        default: Option<Term>,
    ) -> Result<bool, EtsError> {
        self.core.meta.check_write()?;
        self.core.require_set()?;
        let keypos = self.keypos();
        for (_, v) in updates {
            finite(v)?;
        }
        let default = match default {
            Some(d) => {
                let d = with_key(d, &key, keypos)?;
                finite(&d)?;
                Some(d)
            }
            None => None,
        };
        self.core.store.update(&key, |cur| match cur {
            Some(obj) => (
                obj.edit(|t| apply_elements(t, updates, keypos))
                    .map(|()| true),
                None,
            ),
            None => match default {
                None => (Ok(false), None),
                Some(mut obj) => match apply_elements(&mut obj, updates, keypos) {
                    Ok(()) => (Ok(true), Some(Stored::new(obj))),
                    Err(e) => (Err(e), None),
                },
            },
        })
    }

    fn compile(&self, ms: impl Into<Term>) -> Result<MatchSpec, EtsError> {
        MatchSpec::compile(&ms.into(), self.keypos())
    }

    fn compile_pattern(&self, pattern: impl Into<Term>, body: &str) -> Result<MatchSpec, EtsError> {
        MatchSpec::from_pattern(&pattern.into(), body, self.keypos())
    }

    /// Runs `ms` over the table (a lookup when every clause binds the key), calling `f` with
    /// each object and its result, under the lock that holds the object.
    fn run(&self, ms: &MatchSpec, forward: bool, f: &mut dyn FnMut(&Stored, Term)) {
        let store = &self.core.store;
        if let Some(mut keys) = ms.bound_keys() {
            if self.kind() == TableType::OrderedSet {
                keys.sort_by(|a, b| if forward { a.compare(b) } else { b.compare(a) });
                keys.dedup_by(|a, b| a.compare(b) == Ordering::Equal);
            }
            for k in &keys {
                store.read(k, |objs| {
                    for o in objs {
                        if let Some(r) = ms.run_stored(o) {
                            f(o, r);
                        }
                    }
                });
            }
            return;
        }
        if let (Store::Ordered(o), Some(range)) = (store, ms.key_range()) {
            let keypos = self.keypos();
            // Only the sub-range of keys with the bound prefix can match: scan just that.
            let mut hits = Vec::new();
            let mut bound = Bound::Included(OrdTerm(range.lower()));
            loop {
                let last = o.scan_from(bound, true, CHUNK, &mut |obj| {
                    if !obj.with_key(keypos, |k| range.contains(k)) {
                        return false;
                    }
                    if let Some(r) = ms.run_stored(obj) {
                        if forward {
                            f(obj, r);
                        } else {
                            hits.push((obj.clone(), r));
                        }
                    }
                    true
                });
                match last {
                    Some(k) => bound = Bound::Excluded(k),
                    None => break,
                }
            }
            for (obj, r) in hits.into_iter().rev() {
                f(&obj, r);
            }
            return;
        }
        let mut cursor = store.start();
        while !store.scan(&mut cursor, forward, CHUNK, &mut |objs| {
            for o in objs {
                if let Some(r) = ms.run_stored(o) {
                    f(o, r);
                }
            }
        }) {}
    }

    fn select_impl(&self, ms: &MatchSpec, forward: bool) -> Vec<Term> {
        let mut out = Vec::new();
        self.run(ms, forward, &mut |_, r| out.push(r));
        out
    }

    /// ETS's `match/2`: for each object matching `pattern`, the values bound to its `'$N'`
    /// variables, ordered by N.
    pub fn match_(&self, pattern: impl Into<Term>) -> Result<Vec<Vec<Term>>, EtsError> {
        self.core.meta.check_read()?;
        let ms = self.compile_pattern(pattern, "$$")?;
        Ok(bindings(self.select_impl(&ms, true)))
    }

    /// ETS's `match_object/2`: the objects matching `pattern`.
    pub fn match_object(&self, pattern: impl Into<Term>) -> Result<Vec<Term>, EtsError> {
        self.core.meta.check_read()?;
        let ms = self.compile_pattern(pattern, "$_")?;
        Ok(self.select_impl(&ms, true))
    }

    /// ETS's `match_delete/2`: deletes the objects matching `pattern`; returns how many.
    pub fn match_delete(&self, pattern: impl Into<Term>) -> Result<usize, EtsError> {
        self.core.meta.check_write()?;
        let ms = self.compile_pattern(pattern, "true")?;
        Ok(self.delete_matching(&ms))
    }

    /// ETS's `select/2`: the results of match specification `ms` over the table.
    pub fn select(&self, ms: impl Into<Term>) -> Result<Vec<Term>, EtsError> {
        self.core.meta.check_read()?;
        let ms = self.compile(ms)?;
        Ok(self.select_impl(&ms, true))
    }

    /// ETS's `select_reverse/2`: as [`select`](Table::select), in reverse term order for an
    /// `ordered_set` (the same as `select` otherwise).
    pub fn select_reverse(&self, ms: impl Into<Term>) -> Result<Vec<Term>, EtsError> {
        self.core.meta.check_read()?;
        let ms = self.compile(ms)?;
        Ok(self.select_impl(&ms, false))
    }

    /// ETS's `select_count/2`: how many objects the spec maps to `true`.
    pub fn select_count(&self, ms: impl Into<Term>) -> Result<usize, EtsError> {
        self.core.meta.check_read()?;
        let ms = self.compile(ms)?;
        let mut n = 0;
        self.run(&ms, true, &mut |_, r| n += usize::from(r.is_atom("true")));
        Ok(n)
    }

    /// ETS's `select_delete/2`: deletes the objects the spec maps to `true`; returns how many.
    /// Each deletion is atomic (an object changed meanwhile is left alone); the whole is not.
    pub fn select_delete(&self, ms: impl Into<Term>) -> Result<usize, EtsError> {
        self.core.meta.check_write()?;
        let ms = self.compile(ms)?;
        Ok(self.delete_matching(&ms))
    }

    fn delete_matching(&self, ms: &MatchSpec) -> usize {
        let mut doomed = Vec::new();
        self.run(ms, true, &mut |o, r| {
            if r.is_atom("true") {
                doomed.push(o.clone());
            }
        });
        let keypos = self.keypos();
        doomed
            .iter()
            .filter_map(|o| Some((o.element(keypos)?, o)))
            .map(|(k, o)| self.core.store.delete_object(&k, o))
            .sum()
    }

    /// ETS's `select_replace/2`: replaces each matching object with the spec's result, which
    /// must keep the key ([`EtsError::KeyChanged`] otherwise, with nothing replaced). Returns
    /// how many objects were replaced. Each replacement is atomic (compare-and-swap on the
    /// object); the traversal is not. Not for `bag` tables.
    pub fn select_replace(&self, ms: impl Into<Term>) -> Result<usize, EtsError> {
        self.core.meta.check_write()?;
        if self.kind() == TableType::Bag {
            return Err(EtsError::WrongType(TableType::Bag));
        }
        let ms = self.compile(ms)?;
        let mut pairs = Vec::new();
        let mut failure = None;
        self.run(&ms, true, &mut |o, r| pairs.push((o.clone(), r)));
        let mut checked = Vec::with_capacity(pairs.len());
        let keypos = self.keypos();
        for (old, new) in pairs {
            let old_key = old.element(keypos).ok_or(EtsError::TooShort {
                arity: old.arity(),
                keypos,
            })?;
            let new_key = match self.key_of(&new) {
                Ok(k) => k,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            // The key must stay exactly the same, even in an ordered_set where `1.0` would find
            // the object stored under `1`: the stored key and the object's key must not drift.
            if old_key != new_key {
                failure = Some(EtsError::KeyChanged);
                break;
            }
            checked.push((old_key, old, Stored::new(new)));
        }
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(checked
            .into_iter()
            .filter(|(k, old, new)| self.core.store.replace_object(k, old, new.clone()))
            .count())
    }

    fn limited(&self, ms: MatchSpec, limit: usize, forward: bool) -> Chunk<Term> {
        self.core.meta.check_read()?;
        if limit == 0 {
            return Err(EtsError::BadLimit);
        }
        let ms = Arc::new(ms);
        let mut cont = Continuation {
            table: self.clone(),
            ms: ms.clone(),
            cursor: Some(self.core.store.start()),
            pending: Default::default(),
            limit,
            forward,
        };
        let ranged = self.kind() == TableType::OrderedSet && ms.key_range().is_some();
        if ms.bound_keys().is_some() || ranged {
            cont.pending = self.select_impl(&ms, forward).into();
            cont.cursor = None;
        }
        cont.next()
    }

    /// ETS's `select/3`: the first chunk of at most `limit` results and a continuation for the
    /// rest ([`Continuation::next`], or [`Table::select_continue`]); `None` if nothing matches
    /// (`'$end_of_table'`). Ordered sets resume after the last key seen, so a continuation
    /// stays valid under concurrent writes; hash tables resume at a bucket position, which a
    /// concurrent resize can shift (a key may then be missed or seen twice, as in ETS).
    pub fn select_limit(&self, ms: impl Into<Term>, limit: usize) -> Chunk<Term> {
        let ms = self.compile(ms)?;
        self.limited(ms, limit, true)
    }

    /// ETS's `select_reverse/3`: chunks in reverse term order (for an `ordered_set`).
    pub fn select_reverse_limit(&self, ms: impl Into<Term>, limit: usize) -> Chunk<Term> {
        let ms = self.compile(ms)?;
        self.limited(ms, limit, false)
    }

    /// ETS's `select/1`: the next chunk after `cont`.
    pub fn select_continue(cont: Continuation) -> Chunk<Term> {
        cont.next()
    }

    /// ETS's `match/3`: chunks of bindings; continue with [`Table::match_continue`].
    pub fn match_limit(&self, pattern: impl Into<Term>, limit: usize) -> Chunk<Vec<Term>> {
        let ms = self.compile_pattern(pattern, "$$")?;
        Ok(self
            .limited(ms, limit, true)?
            .map(|(v, c)| (bindings(v), c)))
    }

    /// ETS's `match/1`.
    pub fn match_continue(cont: Continuation) -> Chunk<Vec<Term>> {
        Ok(cont.next()?.map(|(v, c)| (bindings(v), c)))
    }

    /// ETS's `match_object/3`: chunks of objects; continue with [`Continuation::next`].
    pub fn match_object_limit(&self, pattern: impl Into<Term>, limit: usize) -> Chunk<Term> {
        let ms = self.compile_pattern(pattern, "$_")?;
        self.limited(ms, limit, true)
    }

    /// ETS's `first/1`: the first key (term order for `ordered_set`, internal order otherwise),
    /// or `None` for an empty table (`'$end_of_table'`).
    pub fn first(&self) -> Result<Option<Term>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.first(true))
    }

    /// ETS's `last/1`: the last key of an `ordered_set`; the same as `first` otherwise.
    pub fn last(&self) -> Result<Option<Term>, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.first(false))
    }

    /// ETS's `next/2`: the key after `key`, or `None` at the end. In an `ordered_set` `key` need
    /// not be present; in a hash table it must be ([`EtsError::TraversalKeyGone`] otherwise).
    pub fn next(&self, key: impl Into<Term>) -> Result<Option<Term>, EtsError> {
        self.core.meta.check_read()?;
        self.core
            .store
            .next(&key.into(), true)
            .map_err(|()| EtsError::TraversalKeyGone)
    }

    /// ETS's `prev/2`: the key before `key` in an `ordered_set`; the same as `next` otherwise.
    pub fn prev(&self, key: impl Into<Term>) -> Result<Option<Term>, EtsError> {
        self.core.meta.check_read()?;
        self.core
            .store
            .next(&key.into(), false)
            .map_err(|()| EtsError::TraversalKeyGone)
    }

    /// ETS's `foldl/3`: folds `f` over copies of the objects, in table order. `f` runs with no
    /// lock held, so it may use the table; objects written during the fold may or may not be
    /// seen.
    pub fn foldl<A>(&self, acc: A, mut f: impl FnMut(A, Term) -> A) -> Result<A, EtsError> {
        self.core.fold(true, acc, |a, o| f(a, o.to_term()))
    }

    /// ETS's `foldr/3`: as `foldl`, in reverse term order for an `ordered_set`.
    pub fn foldr<A>(&self, acc: A, mut f: impl FnMut(A, Term) -> A) -> Result<A, EtsError> {
        self.core.fold(false, acc, |a, o| f(a, o.to_term()))
    }

    /// ETS's `tab2list/1`: copies of every object, in table order.
    pub fn tab2list(&self) -> Result<Vec<Term>, EtsError> {
        self.core.meta.check_read()?;
        let mut out = Vec::new();
        self.core
            .each_chunk(true, |chunk| out.extend(chunk.iter().map(Stored::to_term)));
        Ok(out)
    }

    /// ETS's `info/1`.
    pub fn info(&self) -> Result<Info, EtsError> {
        if self.core.meta.is_deleted() {
            return Err(EtsError::NoTable);
        }
        Ok(registry::info_of(&*self.core))
    }

    /// The number of objects (`info(T, size)`).
    pub fn len(&self) -> Result<usize, EtsError> {
        self.core.meta.check_read()?;
        Ok(self.core.store.len())
    }

    /// Whether the table holds no object.
    pub fn is_empty(&self) -> Result<bool, EtsError> {
        Ok(self.len()? == 0)
    }

    /// ETS's `give_away/3`: the owner makes `pid` the owner and sends it an
    /// [`EtsTransfer`](crate::EtsTransfer) with `data`.
    pub fn give_away(&self, pid: Pid, data: impl Into<Term>) -> Result<(), EtsError> {
        registry::give_away(&self.any(), pid, data.into())
    }

    /// ETS's `setopts(T, {heir, Pid, Data})` / `{heir, none}`: owner only.
    pub fn set_heir(&self, heir: Option<(Pid, Term)>) -> Result<(), EtsError> {
        registry::set_heir(&*self.core, heir)
    }

    /// ETS's `rename/2`.
    pub fn rename(&self, name: impl Into<Atom>) -> Result<(), EtsError> {
        registry::rename(&*self.core, name.into())
    }

    /// ETS's `tab2file/2`: writes the table to `path` (see the crate docs for the format).
    pub fn tab2file(&self, path: impl AsRef<Path>) -> Result<(), EtsError> {
        self.core.meta.check_read()?;
        let info = self.info()?;
        let objs = self.tab2list()?;
        crate::file::write(path.as_ref(), &info, &objs)
    }

    /// ETS's `file2tab/1`: recreates a table written by [`tab2file`](Table::tab2file), owned by
    /// the calling process, with the saved name, type, access, key position, `named_table` and
    /// `read_concurrency`.
    pub fn file2tab(path: impl AsRef<Path>) -> Result<Table, EtsError> {
        let (name, opts, objs) = crate::file::read(path.as_ref())?;
        let t = Table::new(name, opts)?;
        match t.keyed(objs) {
            Ok(items) => {
                t.core.store.insert_many(items);
                Ok(t)
            }
            Err(e) => {
                registry::delete(&t.any());
                Err(e)
            }
        }
    }
}
