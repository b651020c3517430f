//! Typed errors with OTP's result cases.

use runtime::{CallError, ExitReason, Pid};
use thiserror::Error;

/// Why a supervisor did not start.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorError {
    /// A process already has the supervisor's name.
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// A child failed to start; the children started before it were stopped
    /// (`{:error, {:shutdown, {:failed_to_start_child, id, reason}}}`).
    #[error("failed to start child {id:?}: {reason}")]
    FailedToStartChild {
        /// The child's id.
        id: String,
        /// Why its start failed.
        reason: ExitReason,
    },
    /// The child specs or flags are invalid (duplicate ids, a permanent significant child...).
    #[error("invalid supervisor spec: {0}")]
    InvalidSpec(String),
    /// The supervisor's init failed otherwise (its children function returned an error, or
    /// the process could not be spawned).
    #[error("supervisor init failed: {0}")]
    Init(ExitReason),
}

/// Why `start_child` failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartChildError {
    /// A child with this id is running (`{:error, {:already_started, pid}}`).
    #[error("a child with this id is already started as {0}")]
    AlreadyStarted(Pid),
    /// A child with this id exists but is not running (`{:error, :already_present}`).
    #[error("a child with this id is already present")]
    AlreadyPresent,
    /// The dynamic supervisor has `max_children` children (`{:error, :max_children}`).
    #[error("the supervisor has its maximum number of children")]
    MaxChildren,
    /// The child's start failed (`{:error, reason}`); its spec was not added.
    #[error("the child failed to start: {0}")]
    Failed(ExitReason),
    /// The spec is invalid for this supervisor.
    #[error("invalid child spec: {0}")]
    InvalidSpec(String),
    /// The supervisor could not be called.
    #[error("supervisor unavailable: {0}")]
    Supervisor(CallError),
}

/// Why terminate_child, restart_child, delete_child or get_childspec failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChildError {
    /// No child with this id or pid (`{:error, :not_found}`).
    #[error("no such child")]
    NotFound,
    /// The child is running (`{:error, :running}`).
    #[error("the child is running")]
    Running,
    /// The child is being restarted (`{:error, :restarting}`).
    #[error("the child is restarting")]
    Restarting,
    /// Not available on a dynamic supervisor (OTP's `{:error, :simple_one_for_one}`).
    #[error("not supported by a dynamic supervisor")]
    NotSupported,
    /// `restart_child`: the start failed (`{:error, reason}`).
    #[error("the child failed to start: {0}")]
    StartFailed(ExitReason),
    /// The supervisor could not be called.
    #[error("supervisor unavailable: {0}")]
    Supervisor(CallError),
}
