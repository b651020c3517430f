//! Table identity, ownership, access rights and the global registry of tables and names.
//!
//! Every table, Term or typed, has a [`Meta`]: its id, type, access mode and owner. The registry
//! maps ids and names to live tables. Ownership rides on the runtime's exit hooks: creating a
//! table registers a hook on the owner; when the owner exits, the hook hands the table to the
//! heir (sending it an [`EtsTransfer`]) or deletes it. A hook checks that the exiting process is
//! still the owner before acting, so a hook left behind by `give_away` or a race is harmless.
//! No table or registry lock is held while calling into the runtime.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::{Mutex, RwLock};
use runtime::{ExitHookId, Pid};

use crate::error::EtsError;
use crate::hash::FxBuild;
use crate::options::{Access, Options, TableType};
use crate::term::{Atom, Term};

/// A table identifier, ETS's `tid()`. Never reused within a run: a tid of a deleted table stays
/// invalid even if its name is taken again.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Tid(u64);

impl Tid {
    /// The identifier's number.
    pub fn id(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Tid<{}>", self.0)
    }
}

/// The message an heir (or the new owner after [`give_away`](crate::Table::give_away)) receives,
/// ETS's `{'ETS-TRANSFER', Tid, FromPid, HeirData}`. Receive it with
/// `runtime::receive::<EtsTransfer>()`, then open the table with
/// [`Table::from_tid`](crate::Table::from_tid) or
/// [`TypedTable::from_tid`](crate::TypedTable::from_tid).
#[derive(Clone, Debug, PartialEq)]
pub struct EtsTransfer {
    /// The table handed over.
    pub table: Tid,
    /// Its previous owner.
    pub from: Pid,
    /// The heir data given with the `heir` option, or the data given to `give_away`.
    pub heir_data: Term,
}

/// What `info` reports about a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    /// The table's id.
    pub id: Tid,
    /// Its name (every table has one; only `named_table` ones are found by name).
    pub name: Atom,
    /// Whether [`whereis`](crate::whereis) finds it by name.
    pub named_table: bool,
    /// Its type.
    pub kind: TableType,
    /// Its access mode.
    pub protection: Access,
    /// The owning process.
    pub owner: Pid,
    /// The heir, if any.
    pub heir: Option<Pid>,
    /// The key position (1 for typed tables, whose key is given by the record type).
    pub keypos: usize,
    /// Whether reads are reader-biased (`read_concurrency`).
    pub read_concurrency: bool,
    /// Objects stored.
    pub size: usize,
    /// Approximate bytes used (ETS reports words; we report bytes).
    pub memory: usize,
}

pub(crate) struct MetaState {
    pub(crate) owner: Pid,
    pub(crate) name: Atom,
    pub(crate) heir: Option<(Pid, Term)>,
    pub(crate) hook: Option<ExitHookId>,
}

/// Identity, rights and ownership of one table.
pub(crate) struct Meta {
    pub(crate) tid: Tid,
    pub(crate) kind: TableType,
    pub(crate) access: Access,
    pub(crate) keypos: usize,
    pub(crate) read_concurrency: bool,
    pub(crate) named: bool,
    /// The owner's pid number, read on every access check without taking the state lock.
    owner_id: AtomicU64,
    deleted: AtomicBool,
    pub(crate) state: Mutex<MetaState>,
}

static NEXT_TID: AtomicU64 = AtomicU64::new(1);

impl Meta {
    pub(crate) fn new(name: Atom, opts: &Options, owner: Pid) -> Meta {
        // `set_heir` semantics: an heir that is not alive is no heir.
        let heir = opts
            .heir
            .clone()
            .filter(|(p, _)| *p != owner && runtime::is_alive(*p));
        Meta {
            tid: Tid(NEXT_TID.fetch_add(1, Ordering::Relaxed)),
            kind: opts.kind,
            access: opts.access,
            keypos: opts.keypos,
            read_concurrency: opts.read_concurrency,
            named: opts.named,
            owner_id: AtomicU64::new(owner.id()),
            deleted: AtomicBool::new(false),
            state: Mutex::new(MetaState {
                owner,
                name,
                heir,
                hook: None,
            }),
        }
    }

    #[inline]
    fn is_owner(&self) -> bool {
        runtime::self_pid().id() == self.owner_id.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// Checks that the table exists and the caller may read it.
    #[inline]
    pub(crate) fn check_read(&self) -> Result<(), EtsError> {
        if self.is_deleted() {
            return Err(EtsError::NoTable);
        }
        if self.access == Access::Private && !self.is_owner() {
            return Err(EtsError::AccessDenied {
                access: self.access,
                op: "read",
            });
        }
        Ok(())
    }

    /// Checks that the table exists and the caller may write it.
    #[inline]
    pub(crate) fn check_write(&self) -> Result<(), EtsError> {
        if self.is_deleted() {
            return Err(EtsError::NoTable);
        }
        if self.access != Access::Public && !self.is_owner() {
            return Err(EtsError::AccessDenied {
                access: self.access,
                op: "write",
            });
        }
        Ok(())
    }

    /// Checks that the table exists and the caller owns it.
    pub(crate) fn check_owner(&self, op: &'static str) -> Result<(), EtsError> {
        if self.is_deleted() {
            return Err(EtsError::NoTable);
        }
        if !self.is_owner() {
            return Err(EtsError::AccessDenied {
                access: self.access,
                op,
            });
        }
        Ok(())
    }

    fn set_owner(&self, st: &mut MetaState, owner: Pid) {
        st.owner = owner;
        self.owner_id.store(owner.id(), Ordering::Release);
    }
}

/// What the registry needs from a table, whatever its object type.
pub(crate) trait AnyTable: Send + Sync + 'static {
    fn meta(&self) -> &Meta;
    fn size(&self) -> usize;
    fn memory(&self) -> usize;
    /// Drops every object (the table is being deleted).
    fn clear(&self);
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

#[derive(Default)]
struct Registry {
    tables: RwLock<HashMap<Tid, Arc<dyn AnyTable>, FxBuild>>,
    names: RwLock<HashMap<Atom, Tid>>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

/// Registers a new table: its name (if named), its id, and the owner's exit hook.
pub(crate) fn register(table: Arc<dyn AnyTable>) -> Result<(), EtsError> {
    let meta = table.meta();
    let tid = meta.tid;
    let (owner, name) = {
        let st = meta.state.lock();
        (st.owner, st.name.clone())
    };
    if meta.named {
        let mut names = REGISTRY.names.write();
        if names.contains_key(&name) {
            return Err(EtsError::NameTaken(name));
        }
        names.insert(name.clone(), tid);
    }
    REGISTRY.tables.write().insert(tid, table.clone());
    match runtime::add_exit_hook(owner, move |pid, _| owner_exited(tid, pid)) {
        Ok(id) => {
            meta.state.lock().hook = Some(id);
            Ok(())
        }
        Err(e) => {
            delete(&table);
            Err(EtsError::NoProc(e.0))
        }
    }
}

/// The live table with id `tid`.
pub(crate) fn get(tid: Tid) -> Option<Arc<dyn AnyTable>> {
    REGISTRY.tables.read().get(&tid).cloned()
}

/// The live table named `name`.
pub(crate) fn get_named(name: &Atom) -> Option<Arc<dyn AnyTable>> {
    let tid = *REGISTRY.names.read().get(name)?;
    get(tid)
}

/// ETS's `whereis/1`: the id of the table registered under `name`.
pub fn whereis(name: impl Into<Atom>) -> Option<Tid> {
    REGISTRY.names.read().get(&name.into()).copied()
}

/// ETS's `all/0`: the ids of every live table, in no particular order. Tables created or
/// deleted concurrently may or may not be listed.
pub fn all() -> Vec<Tid> {
    REGISTRY.tables.read().keys().copied().collect()
}

/// ETS's `info/1` by id: `None` if no such table exists.
pub fn info(tid: Tid) -> Option<Info> {
    get(tid).map(|t| info_of(&*t))
}

pub(crate) fn info_of(t: &dyn AnyTable) -> Info {
    let m = t.meta();
    let (name, owner, heir) = {
        let st = m.state.lock();
        (st.name.clone(), st.owner, st.heir.as_ref().map(|h| h.0))
    };
    Info {
        id: m.tid,
        name,
        named_table: m.named,
        kind: m.kind,
        protection: m.access,
        owner,
        heir,
        keypos: m.keypos,
        read_concurrency: m.read_concurrency,
        size: t.size(),
        memory: t.memory(),
    }
}

/// Deletes a table: marks it deleted, frees its name and id, drops its objects and removes the
/// owner's exit hook. Idempotent.
pub(crate) fn delete(t: &Arc<dyn AnyTable>) {
    let m = t.meta();
    let (name, owner, hook) = {
        let mut st = m.state.lock();
        if m.deleted.swap(true, Ordering::AcqRel) {
            return;
        }
        (st.name.clone(), st.owner, st.hook.take())
    };
    if m.named {
        let mut names = REGISTRY.names.write();
        if names.get(&name) == Some(&m.tid) {
            names.remove(&name);
        }
    }
    REGISTRY.tables.write().remove(&m.tid);
    t.clear();
    if let Some(h) = hook {
        runtime::remove_exit_hook(owner, h);
    }
}

/// The owner's exit hook: hand the table to a live heir, or delete it.
fn owner_exited(tid: Tid, pid: Pid) {
    let Some(t) = get(tid) else { return };
    let m = t.meta();
    let heir = {
        let mut st = m.state.lock();
        if m.is_deleted() || st.owner != pid {
            // A give_away already moved the table on; this hook is stale.
            return;
        }
        st.hook = None;
        st.heir.clone()
    };
    if let Some((heir, data)) = heir.filter(|(h, _)| *h != pid)
        && let Ok(id) = runtime::add_exit_hook(heir, move |p, _| owner_exited(tid, p))
    {
        let mut st = m.state.lock();
        // Only the owner may change ownership, and the owner is dead: nothing raced us.
        m.set_owner(&mut st, heir);
        st.hook = Some(id);
        drop(st);
        runtime::send(
            heir,
            EtsTransfer {
                table: tid,
                from: pid,
                heir_data: data,
            },
        );
        return;
    }
    delete(&t);
}

/// ETS's `give_away/3`: the owner hands the table to a live process and sends it an
/// [`EtsTransfer`].
pub(crate) fn give_away(t: &Arc<dyn AnyTable>, to: Pid, data: Term) -> Result<(), EtsError> {
    let m = t.meta();
    m.check_owner("give_away")?;
    let me = runtime::self_pid();
    if to == me {
        return Err(EtsError::AlreadyOwner(to));
    }
    let tid = m.tid;
    let new_hook = runtime::add_exit_hook(to, move |p, _| owner_exited(tid, p))
        .map_err(|e| EtsError::NoProc(e.0))?;
    let old_hook = {
        let mut st = m.state.lock();
        if m.is_deleted() || st.owner != me {
            drop(st);
            runtime::remove_exit_hook(to, new_hook);
            return Err(EtsError::NoTable);
        }
        m.set_owner(&mut st, to);
        st.hook.replace(new_hook)
    };
    if let Some(h) = old_hook {
        runtime::remove_exit_hook(me, h);
    }
    runtime::send(
        to,
        EtsTransfer {
            table: tid,
            from: me,
            heir_data: data,
        },
    );
    Ok(())
}

/// ETS's `setopts(T, {heir, ...})`: only the owner may change the heir.
pub(crate) fn set_heir(t: &dyn AnyTable, heir: Option<(Pid, Term)>) -> Result<(), EtsError> {
    let m = t.meta();
    m.check_owner("set_heir")?;
    let heir = heir.filter(|(p, _)| runtime::is_alive(*p));
    m.state.lock().heir = heir;
    Ok(())
}

/// ETS's `rename/2`: a named table moves to a new name; an unnamed one just changes its
/// reported name.
pub(crate) fn rename(t: &dyn AnyTable, name: Atom) -> Result<(), EtsError> {
    let m = t.meta();
    m.check_write()?;
    if m.named {
        let mut names = REGISTRY.names.write();
        let mut st = m.state.lock();
        if st.name == name {
            return Ok(());
        }
        if names.contains_key(&name) {
            return Err(EtsError::NameTaken(name));
        }
        if names.get(&st.name) == Some(&m.tid) {
            names.remove(&st.name);
        }
        names.insert(name.clone(), m.tid);
        st.name = name;
    } else {
        m.state.lock().name = name;
    }
    Ok(())
}
