//! Table options: type, access, name, key position, heir and `read_concurrency` (ETS's `new/2`
//! option list).

use runtime::Pid;

use crate::term::Term;

/// The four ETS table types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TableType {
    /// One object per key; keys match exactly (`1` and `1.0` are two keys).
    #[default]
    Set,
    /// One object per key, kept in Erlang term order; keys compare by value (`1` and `1.0` are
    /// one key).
    OrderedSet,
    /// Many objects per key, in insertion order, but never two identical objects.
    Bag,
    /// Many objects per key, in insertion order, identical copies allowed.
    DuplicateBag,
}

impl TableType {
    /// Whether the type holds at most one object per key.
    pub fn is_set(self) -> bool {
        matches!(self, TableType::Set | TableType::OrderedSet)
    }
}

/// Who may read and write a table. The owner may always do both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Access {
    /// Every process reads and writes.
    Public,
    /// Every process reads; only the owner writes (the default).
    #[default]
    Protected,
    /// Only the owner reads or writes.
    Private,
}

/// Options for a new table, built in the style of ETS's option list:
/// `:ets.new(:tv_shows, [:set, :private, :named_table])` is
/// `Options::set().private().named_table()`.
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) kind: TableType,
    pub(crate) access: Access,
    pub(crate) named: bool,
    pub(crate) keypos: usize,
    pub(crate) heir: Option<(Pid, Term)>,
    pub(crate) read_concurrency: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kind: TableType::Set,
            access: Access::Protected,
            named: false,
            keypos: 1,
            heir: None,
            read_concurrency: false,
        }
    }
}

impl Options {
    /// ETS's defaults: `set`, `protected`, key position 1, no heir, unnamed, no
    /// `read_concurrency`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults with type `set`.
    pub fn set() -> Self {
        Self::new().kind(TableType::Set)
    }

    /// Defaults with type `ordered_set`.
    pub fn ordered_set() -> Self {
        Self::new().kind(TableType::OrderedSet)
    }

    /// Defaults with type `bag`.
    pub fn bag() -> Self {
        Self::new().kind(TableType::Bag)
    }

    /// Defaults with type `duplicate_bag`.
    pub fn duplicate_bag() -> Self {
        Self::new().kind(TableType::DuplicateBag)
    }

    /// Sets the table type.
    pub fn kind(mut self, kind: TableType) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the access mode.
    pub fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// Access `public`.
    pub fn public(self) -> Self {
        self.access(Access::Public)
    }

    /// Access `protected` (the default).
    pub fn protected(self) -> Self {
        self.access(Access::Protected)
    }

    /// Access `private`.
    pub fn private(self) -> Self {
        self.access(Access::Private)
    }

    /// `named_table`: the table's name finds it through [`whereis`](crate::whereis).
    pub fn named_table(mut self) -> Self {
        self.named = true;
        self
    }

    /// `{read_concurrency, true}`: reads get cheaper and scale across cores, switching
    /// between reads and writes gets dearer, as in ETS. For tables read far more often than
    /// written, such as a cache or a registry. While no one writes, a reader writes to no
    /// cache line that a reader on another core also writes (but for a chance collision of
    /// their hashed slots); the first write after reads
    /// waits for the readers in progress and scans a 32 KiB table of them (a few
    /// microseconds), and reads take the ordinary lock for a while after each such switch.
    ///
    /// ```
    /// let t = ets::Table::new("names", ets::Options::set().read_concurrency(true))?;
    /// t.insert(("bob", 1))?;
    /// assert!(t.member("bob")?);
    /// assert!(t.info()?.read_concurrency);
    /// # Ok::<(), ets::EtsError>(())
    /// ```
    pub fn read_concurrency(mut self, on: bool) -> Self {
        self.read_concurrency = on;
        self
    }

    /// `{keypos, Pos}`: which tuple element (from 1) is the key. Term tables only.
    pub fn keypos(mut self, pos: usize) -> Self {
        self.keypos = pos;
        self
    }

    /// `{heir, Pid, HeirData}`: who inherits the table when its owner dies.
    pub fn heir(mut self, pid: Pid, data: impl Into<Term>) -> Self {
        self.heir = Some((pid, data.into()));
        self
    }
}
