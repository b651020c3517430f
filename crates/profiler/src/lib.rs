//! A load profiler for processes: Saša Jurić's `Profiler.run` from *Elixir in Action*, and
//! what modern tools (Benchee, criterion, wrk2) report besides.
//!
//! # Contents
//!
//! - [`run`]: the seed's `Profiler.run(f, operations, concurrency)`: `concurrency` client
//!   processes each run `f` `operations` times; the whole is timed; [`Report::seed_line`]
//!   prints `"N reqs/sec"`.
//! - [`Profile`]: the same with warm-up, repeated samples, per-client state
//!   ([`Profile::run_with`]) and a fixed-rate (open-loop) mode corrected for coordinated
//!   omission.
//! - [`Report`]: throughput (mean and [`Spread`] over the samples), latency
//!   [`Percentiles`] (p50, p90, p99, p99.9, max) from a [`LatencyHistogram`] merged across
//!   clients, the error count, the [`Machine`] it ran on; [`Report::table`] for people,
//!   [`Report::to_json`] for programs. [`summary_table`] and [`reports_to_json`] do the same
//!   for several reports.
//! - [`compare`]: two reports side by side, "ETS cache is 7.2x faster than registry cache".
//! - [`Outcome`]: an operation returns `()` or a `Result`; an `Err` or a panic is counted,
//!   never fatal.
//! - [`throughput`] and [`Spread::of`]: the arithmetic, exposed so it can be checked.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use profiler::{Profile, compare};
//! use runtime::gen_server::{self, GenServer, Init, Reply, ReplyTo, StartOpts};
//!
//! struct Echo;
//! impl GenServer for Echo {
//!     type Arg = ();
//!     type Call = u32;
//!     type Reply = u32;
//!     type Cast = ();
//!     type Continue = ();
//!     fn init(_: ()) -> Init<Self> {
//!         Init::Ok(Echo)
//!     }
//!     fn handle_call(&mut self, n: u32, _from: ReplyTo<u32>) -> Reply<u32> {
//!         Reply::Reply(n)
//!     }
//! }
//!
//! let server = gen_server::start::<Echo>((), StartOpts::new()).unwrap();
//! // The seed: Profiler.run(fn -> GenServer.call(server, 7) end, 2_000, 4)
//! let client = server.clone();
//! let calls = profiler::run(move || client.call(7), 2_000, 4).unwrap();
//! println!("{}", calls.seed_line()); // e.g. "412345 reqs/sec"
//! assert_eq!((calls.operations, calls.errors), (8_000, 0));
//!
//! // Beyond the seed: warm-up, samples, percentiles, a comparison.
//! let local = Profile::new("local add")
//!     .operations(2_000)
//!     .samples(3)
//!     .warmup(Duration::from_millis(5))
//!     .run(|| { std::hint::black_box(7 + 0); })
//!     .unwrap();
//! println!("{}", local.table());
//! println!("{}", compare(&calls, &local)); // "local add is 30.1x faster than run (...)"
//! assert!(local.to_json().contains("\"p99_9\""));
//! server.stop(runtime::ExitReason::Normal, None).unwrap();
//! ```
//!
//! # How it measures
//!
//! Each client is a process (an OS thread) spawned with a monitor. The caller times from
//! before the first spawn until the last client has reported, as the seed does, then waits
//! for every client's `Down`, so no client outlives [`run`]. Each client times every
//! operation with one clock read (the end of one operation is the start of the next) into
//! its own histogram; the histograms are merged at the end, so the hot loop shares nothing.
//! In fixed-rate mode each latency is measured from the operation's *intended* start, as
//! wrk2 does. A run that lasts over two seconds draws a progress line on standard error when
//! that is a terminal.
//!
//! # JSON
//!
//! [`Report::to_json`] gives `name`, `machine` (`cores`, `cpu`, `os`, `kernel`, `arch`,
//! `profile`), `settings` (`operations`, `concurrency`, `samples`, `warmup_s`, `rate_per_s`),
//! `throughput` (`unit`, `mean`, `stddev`, `relative_stddev_pct`, `min`, `max`),
//! `latency_ns` (`count`, `min`, `p50`, `p90`, `p99`, `p99_9`, `max`, `mean`),
//! `operations`, `errors`, `first_error`, `elapsed_s` and `samples` (each `elapsed_s`,
//! `operations`, `errors`, `throughput`).

mod compare;
mod error;
mod format;
mod histogram;
mod machine;
mod outcome;
mod profile;
mod progress;
mod report;
mod stats;

pub use compare::{Comparison, compare};
pub use error::ProfileError;
pub use histogram::{LatencyHistogram, Percentiles};
pub use machine::Machine;
pub use outcome::Outcome;
pub use profile::{Profile, run};
pub use report::{Report, Sample, Settings, reports_to_json, summary_table};
pub use stats::{Spread, throughput};
