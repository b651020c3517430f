//! Small typed errors, one per operation.

use thiserror::Error;

use crate::ids::Pid;

/// The process does not exist (or is no longer alive).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("no such process: {0}")]
pub struct NoProc(pub Pid);

/// Why `link` failed.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The target is not alive and the caller does not trap exits (`noproc`).
    #[error("cannot link to {0}: no such process")]
    NoProc(Pid),
}

/// Why a send by name failed; the message is handed back.
#[derive(Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError<M> {
    /// No process is registered under that name.
    #[error("no process is registered as {name:?}")]
    NotRegistered {
        /// The name that was not found.
        name: String,
        /// The message that was not sent.
        msg: M,
    },
}

impl<M> std::fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::NotRegistered { name, .. } => f
                .debug_struct("NotRegistered")
                .field("name", name)
                .finish_non_exhaustive(),
        }
    }
}

impl<M> SendError<M> {
    /// The message that could not be sent.
    pub fn into_message(self) -> M {
        match self {
            SendError::NotRegistered { msg, .. } => msg,
        }
    }
}

/// Why `register` failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// Names must not be empty.
    #[error("a process name must not be empty")]
    EmptyName,
    /// Another process has the name.
    #[error("the name {name:?} is already registered by {pid}")]
    NameTaken {
        /// The name asked for.
        name: String,
        /// The process that has it.
        pid: Pid,
    },
    /// The process already has a (different) name; a process has at most one.
    #[error("{pid} is already registered as {name:?}")]
    AlreadyNamed {
        /// The process.
        pid: Pid,
        /// Its current name.
        name: String,
    },
    /// The process is not alive.
    #[error("cannot register {0}: no such process")]
    NoProc(Pid),
}

/// Why `unregister` failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("no process is registered as {0:?}")]
pub struct NotRegistered(pub String);

/// Why a spawn failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The operating system would not create another thread (Erlang's `system_limit`).
    #[error("cannot spawn: the system would not create a thread ({0})")]
    SystemLimit(String),
    /// The name asked for in the spawn options could not be registered.
    #[error(transparent)]
    Register(#[from] RegisterError),
}
