//! A worker pool with Pooly's structure and poolboy's semantics.
//!
//! Workers are processes (any GenServer, or any process linked to its starter). A consumer
//! checks one out, uses it, and checks it in; the pool starts `size` workers up front, up to
//! `max_overflow` more on demand (dismissed again on checkin when nobody waits), and queues
//! consumers first come, first served when all are busy.
//!
//! What poolboy users rely on holds: a consumer that dies has its worker checked in (reused,
//! not killed); a worker that dies is replaced (or its slot goes to a waiter); a checkout that
//! times out is cancelled and leaks nothing, even when a worker was handed over at that very
//! moment; a worker that fails to start gives the caller an error instead of crashing the pool.
//! Consumer monitors are kept in a private ETS table, as in *The Little Elixir & OTP
//! Guidebook*.
//!
//! ```
//! use pool::{Pools, PoolConfig, Pool, PoolState, CheckoutError};
//! let worker = || runtime::spawn_link(|| loop { let _: () = runtime::receive(); });
//! let pools = Pools::start_link(vec![PoolConfig::new("crate_doc", worker).size(1).max_overflow(0)]).unwrap();
//! let pool = Pool::named("crate_doc");
//! let w = pool.checkout().unwrap();
//! assert_eq!(pool.status().unwrap().state, PoolState::Full);
//! assert_eq!(pool.try_checkout(), Err(CheckoutError::Full));
//! pool.checkin(w);
//! assert_eq!(pool.status().unwrap().idle, 1);
//! pools.stop().unwrap();
//! ```

mod api;
mod error;
mod server;

pub use api::{
    DEFAULT_CHECKOUT_TIMEOUT, Pool, PoolConfig, PoolState, PoolStats, PooledWorker, Pools, Status,
    Strategy,
};
pub use error::{CheckoutError, PoolError, TransactionError};
