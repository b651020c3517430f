//! A table's shared state, common to Term tables and typed tables: identity and rights
//! ([`Meta`]) plus storage ([`Store`]).

use std::any::Any;
use std::sync::Arc;

use crate::error::EtsError;
use crate::options::{Options, TableType};
use crate::registry::{self, AnyTable, Meta};
use crate::store::{Cursor, Keyed, Keys, Store};
use crate::term::Atom;

/// How many objects a traversal copies or matches per lock acquisition: enough to amortise the
/// lock, few enough that writers to that shard or leaf wait only briefly.
pub(crate) const CHUNK: usize = 256;

pub(crate) struct Core<X: Keys, O: Keyed<X::H> + Send + Sync> {
    pub(crate) meta: Meta,
    pub(crate) store: Store<X, O>,
    /// Bytes an object owns on the heap, for `info().memory`.
    heap: fn(&O) -> usize,
}

impl<X: Keys, O: Keyed<X::H> + Send + Sync + 'static> Core<X, O> {
    /// Creates and registers a table owned by the calling process.
    pub(crate) fn create(
        name: Atom,
        opts: &Options,
        heap: fn(&O) -> usize,
    ) -> Result<Arc<Self>, EtsError> {
        if opts.keypos == 0 {
            return Err(EtsError::BadKeypos(0));
        }
        let core = Arc::new(Core {
            meta: Meta::new(name, opts, runtime::self_pid()),
            store: Store::new(opts.kind, opts.read_concurrency, opts.keypos),
            heap,
        });
        registry::register(core.clone())?;
        Ok(core)
    }

    pub(crate) fn kind(&self) -> TableType {
        self.meta.kind
    }

    /// Copies the objects chunk by chunk (one lock held per chunk) and hands each chunk to `f`
    /// with no lock held, so `f` may run user code.
    pub(crate) fn each_chunk(&self, forward: bool, f: impl FnMut(Vec<O>)) {
        self.chunks(forward).for_each(f);
    }

    /// The objects as an iterator of copied chunks; no lock is held between two `next` calls.
    pub(crate) fn chunks(&self, forward: bool) -> Chunks<'_, X, O> {
        Chunks {
            core: self,
            cursor: Some(self.store.start()),
            forward,
        }
    }

    /// Checks read access, then folds `f` over copies of the objects, chunk by chunk with no
    /// lock held while `f` runs (`forward`: table order; otherwise reverse, for `foldr`).
    pub(crate) fn fold<A>(
        &self,
        forward: bool,
        acc: A,
        f: impl FnMut(A, O) -> A,
    ) -> Result<A, EtsError> {
        self.meta.check_read()?;
        Ok(self.chunks(forward).flatten().fold(acc, f))
    }

    /// Fails with `WrongType` unless the table holds one object per key.
    pub(crate) fn require_set(&self) -> Result<(), EtsError> {
        if self.kind().is_set() {
            Ok(())
        } else {
            Err(EtsError::WrongType(self.kind()))
        }
    }
}

impl<X: Keys, O: Keyed<X::H> + Send + Sync + 'static> AnyTable for Core<X, O> {
    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn size(&self) -> usize {
        self.store.len()
    }

    fn memory(&self) -> usize {
        let heap = self.heap;
        self.store.memory(|o| std::mem::size_of::<O>() + heap(o))
    }

    fn clear(&self) {
        self.store.clear();
    }

    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// See [`Core::chunks`].
pub(crate) struct Chunks<'a, X: Keys, O: Keyed<X::H> + Send + Sync> {
    core: &'a Core<X, O>,
    /// `None` once the table is exhausted.
    cursor: Option<Cursor<X::O>>,
    forward: bool,
}

impl<X: Keys, O: Keyed<X::H> + Send + Sync + 'static> Iterator for Chunks<'_, X, O> {
    type Item = Vec<O>;

    fn next(&mut self) -> Option<Vec<O>> {
        loop {
            let cursor = self.cursor.as_mut()?;
            let mut chunk = Vec::with_capacity(CHUNK);
            let done = self
                .core
                .store
                .scan(cursor, self.forward, CHUNK, &mut |objs| {
                    chunk.extend_from_slice(objs)
                });
            if done {
                self.cursor = None;
            }
            if !chunk.is_empty() {
                return Some(chunk);
            }
        }
    }
}

/// Finds a live table by id and checks that it has the expected object type.
pub(crate) fn downcast<X: Keys, O: Keyed<X::H> + Send + Sync + 'static>(
    t: Arc<dyn AnyTable>,
) -> Option<Arc<Core<X, O>>> {
    t.as_any().downcast::<Core<X, O>>().ok()
}
