//! Typed errors.

use runtime::{CallError, ExitReason};
use thiserror::Error;

/// Why a checkout gave no worker.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckoutError {
    /// No worker is free, no overflow is allowed, and the checkout did not block (`:full`).
    #[error("the pool is full")]
    Full,
    /// No worker came free in time; the checkout was cancelled and nothing leaked.
    #[error("checkout timed out")]
    Timeout,
    /// A new worker (overflow, or a replacement) failed to start; the pool keeps running.
    #[error("a worker failed to start: {0}")]
    WorkerStart(ExitReason),
    /// The pool is not running.
    #[error("the pool is unavailable: {0}")]
    Pool(CallError),
}

/// Why a transaction failed (the closure's own panics are not errors: they propagate after
/// the worker is checked in).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionError {
    /// No worker could be checked out.
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
}

/// Why a pool did not start.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// A pool with this name exists already.
    #[error("a pool named {0:?} already exists")]
    AlreadyExists(String),
    /// The configuration is invalid.
    #[error("invalid pool configuration: {0}")]
    InvalidConfig(String),
    /// The pool failed to start (for instance its workers could not start); other pools are
    /// untouched.
    #[error("the pool failed to start: {0}")]
    StartFailed(String),
    /// The pools' supervisor is not running.
    #[error("the pools supervisor is unavailable: {0}")]
    Unavailable(CallError),
}
