//! The typed error of every fallible table operation (Erlang's `badarg`, split by cause).

use runtime::Pid;

use crate::options::{Access, TableType};
use crate::term::{Atom, Term};

/// Why a table operation failed. Where ETS raises `badarg`, this says which argument was bad.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EtsError {
    /// The table was deleted (or its owner died without an heir).
    #[error("the table does not exist")]
    NoTable,
    /// The calling process may not perform this operation on the table.
    #[error("access denied: {op} on a {access:?} table by a process that is not its owner")]
    AccessDenied {
        /// The table's access mode.
        access: Access,
        /// `"read"`, `"write"` or the name of an owner-only operation.
        op: &'static str,
    },
    /// A named table with this name already exists.
    #[error("a table named {0} already exists")]
    NameTaken(Atom),
    /// The key position is 0 (positions count from 1).
    #[error("bad key position {0}: positions count from 1")]
    BadKeypos(usize),
    /// An object is not a tuple.
    #[error("object {0} is not a tuple")]
    NotATuple(Term),
    /// An object has fewer elements than the key position.
    #[error("object has {arity} elements, fewer than the key position {keypos}")]
    TooShort {
        /// The object's size.
        arity: usize,
        /// The table's key position.
        keypos: usize,
    },
    /// A position is outside the object.
    #[error("position {pos} is outside an object of {arity} elements")]
    BadPosition {
        /// The requested position (from 1).
        pos: usize,
        /// The object's size.
        arity: usize,
    },
    /// The operation would change the key field.
    #[error("position {0} is the key position, which cannot be updated")]
    KeyPosition(usize),
    /// The key is not in the table (`lookup_element` or `update_counter` without a default).
    #[error("the key is not in the table")]
    KeyNotFound,
    /// A hash-table traversal was asked for the key after one that is no longer in the table.
    #[error("the key passed to next/prev is not in the table")]
    TraversalKeyGone,
    /// A counter field or an increment is not an integer.
    #[error("element at position {0} is not an integer")]
    NotAnInteger(usize),
    /// A counter left the 64-bit integer range (Erlang's `system_limit`).
    #[error("counter overflow")]
    Overflow,
    /// The operation is not defined for this table type.
    #[error("operation not supported on a {0:?} table")]
    WrongType(TableType),
    /// A match pattern is malformed.
    #[error("bad match pattern: {0}")]
    BadPattern(String),
    /// A match specification is malformed.
    #[error("bad match specification: {0}")]
    BadMatchSpec(String),
    /// A `select_replace` result or a typed replacement changed the object's key.
    #[error("the replacement object has a different key")]
    KeyChanged,
    /// An object holds a NaN or an infinite float (Erlang has neither).
    #[error("floats must be finite")]
    NonFiniteFloat,
    /// The process named as new owner or heir is not alive.
    #[error("process {0} is not alive")]
    NoProc(Pid),
    /// `give_away` to the process that already owns the table.
    #[error("process {0} already owns the table")]
    AlreadyOwner(Pid),
    /// A chunk limit of 0 (limits count from 1).
    #[error("the limit must be at least 1")]
    BadLimit,
    /// `tab2file`/`file2tab` could not read or write the file.
    #[error("i/o error: {0}")]
    Io(String),
    /// The file is not a table dump, is truncated, or fails its checksum.
    #[error("bad table file: {0}")]
    BadFile(String),
    /// The table holds a term that has no meaning outside this run (a pid or a reference).
    #[error("cannot write a {0} to a table file")]
    Unserializable(&'static str),
}

impl From<std::io::Error> for EtsError {
    fn from(e: std::io::Error) -> Self {
        EtsError::Io(e.to_string())
    }
}
