//! Why a profile cannot run.

use thiserror::Error;

/// Why [`Profile::run`](crate::Profile::run) (or [`run`](crate::run)) did not produce a report.
///
/// Failing operations are not errors of the profile: they are counted in the report.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProfileError {
    /// A profile needs at least one client process.
    #[error("concurrency must be at least 1")]
    NoClients,
    /// A profile needs at least one operation per client.
    #[error("operations must be at least 1")]
    NoOperations,
    /// A profile needs at least one sample.
    #[error("samples must be at least 1")]
    NoSamples,
    /// The fixed rate must be a positive, finite number of operations per second.
    #[error("rate must be a positive, finite number of operations per second, not {0}")]
    BadRate(f64),
    /// A client process could not be spawned (the OS refused a thread).
    #[error("cannot spawn a client process: {0}")]
    Spawn(#[from] runtime::SpawnError),
}
