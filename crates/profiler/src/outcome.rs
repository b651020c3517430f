//! What an operation returns, and how the profiler tells success from failure.

use std::convert::Infallible;
use std::fmt::Debug;

/// The result of one profiled operation: `()` always succeeds, a `Result` fails on `Err`.
///
/// A failed operation is counted in [`Report::errors`](crate::Report::errors) and the
/// client goes on with the next one; so is an operation that panics. The first failure's
/// description (`Err(..)` in `Debug` form, or the panic message) is kept in the report.
pub trait Outcome {
    /// What a failure carries.
    type Failure: Debug;

    /// `Ok(())` on success.
    fn into_result(self) -> Result<(), Self::Failure>;
}

impl Outcome for () {
    type Failure = Infallible;

    fn into_result(self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Failure = E;

    fn into_result(self) -> Result<(), E> {
        self.map(drop)
    }
}
