//! Erlang Term Storage on OS threads: shared in-memory tables of `set`, `ordered_set`, `bag`
//! and `duplicate_bag` type, with ETS's semantics, access rights and ownership.
//!
//! Two fronts share one engine:
//! - [`Table`] stores tuples of dynamic [`Term`]s and has ETS's whole API: match patterns and
//!   match specifications, counters, continuations, `tab2file`.
//! - [`TypedTable`] stores plain Rust records (a tuple such as `(String, Pid)` is keyed on its
//!   first field), with closures for queries, and never builds a `Term`.
//!
//! Options follow `:ets.new/2`'s list ([`Options`]), including `read_concurrency` for
//! read-mostly tables (reader-biased locks: reads from several cores share no lock word).
//!
//! What each front costs: a typed row lives in its hash bucket or B-tree slot and a read copies
//! it. A [`Table`] keeps a pair of numbers such as `{Id, Count}` in the bucket too, and any other
//! tuple behind a shared pointer; a read of a pair builds a new tuple, a read of any other object
//! copies a pointer. Inserting a Rust pair such as `(id, count)` builds no tuple at all
//! ([`IntoObject`]). A Term `ordered_set` searches its B-tree by an 8-byte abbreviation of each
//! key (exact for integers, the first seven bytes of a string or atom), then compares whole
//! keys only where abbreviations meet, such as strings alike in their first seven bytes; a row
//! of an integer key and one other number keeps just that number beside the abbreviation.
//! For plain rows the typed front is several times faster; both fronts'
//! figures against the BEAM are in `benches/ETS-RESULTS.md` of the repository.
//!
//! A table belongs to the process that created it ([`runtime::self_pid`]). When that process
//! exits, the table is deleted, or handed to its heir, which receives an [`EtsTransfer`].
//! Rights ([`Access`]) are checked against the calling process on every operation. Every
//! single-object operation and every list insert is atomic; traversals are not, but never
//! fail, block writers for long, or see half-written objects; reads return owned copies.
//!
//! The seed's IEx session (*The Little Elixir & OTP Guidebook*, ch. 6):
//!
//! ```
//! use ets::{Options, Table, Term, var, any};
//!
//! // :ets.new(:tv_shows, [:set, :private, :named_table])
//! let t = Table::new("tv_shows", Options::set().private().named_table())?;
//! // :ets.insert(:tv_shows, {"The Flash", "Grant Gustin", 7.9})
//! t.insert(("The Flash", "Grant Gustin", 7.9))?;
//! t.insert(("How I Met Your Mother", "Josh Radnor", 8.3))?;
//! // :ets.lookup(:tv_shows, "The Flash")
//! assert_eq!(t.lookup("The Flash")?, vec![Term::from(("The Flash", "Grant Gustin", 7.9))]);
//! // :ets.match(:tv_shows, {:"$1", "Grant Gustin", :_})
//! assert_eq!(t.match_((var(1), "Grant Gustin", any()))?, vec![vec![Term::from("The Flash")]]);
//! // The name finds the table, as with named_table in ETS.
//! assert_eq!(Table::whereis("tv_shows").map(|t| t.tid()), Some(t.tid()));
//! t.delete_table()?;
//! # Ok::<(), ets::EtsError>(())
//! ```
//!
//! And the same rows without terms:
//!
//! ```
//! use ets::{Options, TypedTable};
//!
//! let t: TypedTable<(String, String, f64)> = TypedTable::new("shows", Options::set())?;
//! t.insert(("The Flash".into(), "Grant Gustin".into(), 7.9))?;
//! let good = t.select(|(title, _, rating)| (*rating > 7.0).then(|| title.clone()))?;
//! assert_eq!(good, vec!["The Flash".to_string()]);
//! # Ok::<(), ets::EtsError>(())
//! ```

mod core;
mod error;
mod file;
mod hash;
mod macros;
mod object;
mod options;
mod pattern;
mod registry;
mod store;
mod stored;
mod table;
mod term;
mod typed;

pub use error::EtsError;
pub use object::{IntoObject, Object};
pub use options::{Access, Options, TableType};
pub use pattern::{any, var};
pub use registry::{EtsTransfer, Info, Tid, all, info, whereis};
pub use table::{Continuation, CounterOp, Table};
pub use term::{Atom, Term};
pub use typed::{Record, TypedContinuation, TypedTable};
