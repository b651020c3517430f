//! What a run found: throughput, latency, errors; as a table and as JSON.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::format;
use crate::histogram::{LatencyHistogram, Percentiles};
use crate::machine::Machine;
use crate::stats::{Spread, throughput};

/// How a profile runs: the knobs of [`Profile`](crate::Profile), kept in its report.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// Operations each client runs per sample.
    pub operations: u64,
    /// Client processes per sample.
    pub concurrency: usize,
    /// Timed samples.
    pub samples: usize,
    /// How long the clients run the operation before the first sample, untimed.
    pub warmup: Duration,
    /// Fixed-rate mode: the total target rate in operations per second, spread evenly over
    /// the clients. `None` is the closed loop of the seed (each client runs flat out).
    pub rate: Option<f64>,
}

impl Settings {
    /// The seed's settings: `operations` per client, `concurrency` clients, one sample, no
    /// warm-up, closed loop.
    pub fn new(operations: u64, concurrency: usize) -> Settings {
        Settings {
            operations,
            concurrency,
            samples: 1,
            warmup: Duration::ZERO,
            rate: None,
        }
    }

    /// Operations per sample, all clients together.
    pub fn operations_per_sample(&self) -> u64 {
        self.operations.saturating_mul(self.concurrency as u64)
    }
}

/// One timed sample: every client ran its operations once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// From before the first client was spawned until the last one reported (as the seed
    /// times it: client start-up is included).
    pub elapsed: Duration,
    /// Operations completed, failed ones included.
    pub operations: u64,
    /// Operations that failed or panicked, plus those a client that died never ran.
    pub errors: u64,
}

impl Sample {
    /// Operations per second in this sample.
    pub fn throughput(&self) -> f64 {
        throughput(self.operations, self.elapsed)
    }
}

/// The result of a profile. [`table`](Report::table) renders it for people,
/// [`to_json`](Report::to_json) for programs; `Display` is the table.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The profile's name.
    pub name: String,
    /// Where it ran.
    pub machine: Machine,
    /// How it ran.
    pub settings: Settings,
    /// Throughput across the samples, in operations per second.
    pub throughput: Spread,
    /// Latency percentiles over every operation of every sample, in nanoseconds. In
    /// fixed-rate mode each latency runs from the operation's *intended* start.
    pub latency: Percentiles,
    /// Operations completed in all samples, failed ones included.
    pub operations: u64,
    /// Failed operations in all samples (see [`Sample::errors`]).
    pub errors: u64,
    /// What the first failure was: `Err(..)` in `Debug` form, `panic: ..`, or a client's death.
    pub first_error: Option<String>,
    /// The timed samples, in order.
    pub samples: Vec<Sample>,
    histogram: LatencyHistogram,
}

impl Report {
    /// A report from its parts; the figures (throughput spread, totals, percentiles) are
    /// computed from them. The profiler builds its reports this way; so can a test, or a
    /// program that measured something else.
    pub fn from_parts(
        name: impl Into<String>,
        settings: Settings,
        samples: Vec<Sample>,
        histogram: LatencyHistogram,
        first_error: Option<String>,
    ) -> Report {
        let rates: Vec<f64> = samples.iter().map(Sample::throughput).collect();
        Report {
            name: name.into(),
            machine: Machine::current(),
            throughput: Spread::of(&rates),
            latency: histogram.percentiles(),
            operations: samples.iter().map(|s| s.operations).sum(),
            errors: samples.iter().map(|s| s.errors).sum(),
            first_error,
            settings,
            samples,
            histogram,
        }
    }

    /// The merged latency histogram, for quantiles other than the usual ones.
    pub fn histogram(&self) -> &LatencyHistogram {
        &self.histogram
    }

    /// Timed time, all samples together.
    pub fn elapsed(&self) -> Duration {
        self.samples.iter().map(|s| s.elapsed).sum()
    }

    /// The seed's output line: `"1823739 reqs/sec"` (the mean over the samples, rounded).
    pub fn seed_line(&self) -> String {
        format!("{} reqs/sec", self.throughput.mean.round() as u64)
    }

    /// The report as a readable block of text, with the machine header:
    ///
    /// ```text
    /// GenServer call: 1 client x 100,000 ops, 5 samples, warm-up 200.0 ms
    ///   machine     2 cores (...), linux 6.1.0 x86_64, release build
    ///   throughput  412.3 k ops/s ± 2.1% (min 400.1 k, max 420.0 k)
    ///   latency     p50 2.310 µs  p90 2.600 µs  p99 4.100 µs  p99.9 12.30 µs  max 1.200 ms
    ///   errors      0 of 500,000
    /// ```
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = self.write_table(&mut out);
        out
    }

    fn write_table(&self, out: &mut String) -> fmt::Result {
        let s = &self.settings;
        write!(
            out,
            "{}: {} client{} x {} ops, {} sample{}",
            self.name,
            s.concurrency,
            plural(s.concurrency as u64),
            format::count(s.operations),
            s.samples,
            plural(s.samples as u64),
        )?;
        if !s.warmup.is_zero() {
            write!(
                out,
                ", warm-up {}",
                format::nanos(s.warmup.as_nanos() as f64)
            )?;
        }
        writeln!(out)?;
        writeln!(out, "  machine     {}", self.machine)?;
        if let Some(rate) = s.rate {
            writeln!(
                out,
                "  mode        fixed rate, {} ops/s target; latency from each operation's intended start",
                format::rate(rate)
            )?;
        }
        let t = &self.throughput;
        write!(out, "  throughput  {} ops/s", format::rate(t.mean))?;
        if t.samples > 1 {
            write!(
                out,
                " ± {:.1}% (min {}, max {})",
                t.relative_stddev(),
                format::rate(t.min),
                format::rate(t.max)
            )?;
        }
        writeln!(out)?;
        let l = &self.latency;
        writeln!(
            out,
            "  latency     p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            format::nanos(l.p50 as f64),
            format::nanos(l.p90 as f64),
            format::nanos(l.p99 as f64),
            format::nanos(l.p999 as f64),
            format::nanos(l.max as f64),
        )?;
        write!(
            out,
            "  errors      {} of {}",
            format::count(self.errors),
            format::count(self.operations)
        )?;
        if let Some(e) = &self.first_error {
            write!(out, " (first: {e})")?;
        }
        writeln!(out)
    }

    /// The report as a JSON object (pretty-printed). Durations are in seconds (`*_s`) or
    /// nanoseconds (`latency_ns`), rates in operations per second; see the crate docs for
    /// the fields.
    pub fn to_json(&self) -> String {
        pretty(&self.json_value())
    }

    pub(crate) fn json_value(&self) -> serde_json::Value {
        let s = &self.settings;
        let t = &self.throughput;
        let l = &self.latency;
        serde_json::json!({
            "name": self.name,
            "machine": self.machine.to_json(),
            "settings": {
                "operations": s.operations,
                "concurrency": s.concurrency,
                "samples": s.samples,
                "warmup_s": s.warmup.as_secs_f64(),
                "rate_per_s": s.rate,
            },
            "throughput": {
                "unit": "ops/s",
                "mean": t.mean,
                "stddev": t.stddev,
                "relative_stddev_pct": t.relative_stddev(),
                "min": t.min,
                "max": t.max,
            },
            "latency_ns": {
                "count": l.count,
                "min": l.min,
                "p50": l.p50,
                "p90": l.p90,
                "p99": l.p99,
                "p99_9": l.p999,
                "max": l.max,
                "mean": l.mean,
            },
            "operations": self.operations,
            "errors": self.errors,
            "first_error": self.first_error,
            "elapsed_s": self.elapsed().as_secs_f64(),
            "samples": self.samples.iter().map(|x| serde_json::json!({
                "elapsed_s": x.elapsed.as_secs_f64(),
                "operations": x.operations,
                "errors": x.errors,
                "throughput": x.throughput(),
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table())
    }
}

/// Several reports as one table, one row each, under one machine header:
///
/// ```text
/// machine: 2 cores (...), linux 6.1.0 x86_64, release build
/// workload         clients     ops/s  ±%     p50      p99    p99.9      max  errors
/// GenServer call         1   412.3 k  2.1  2.3 µs  4.1 µs  12.3 µs  1.20 ms       0
/// ```
pub fn summary_table(reports: &[Report]) -> String {
    let mut out = String::new();
    if let Some(first) = reports.first() {
        let _ = writeln!(out, "machine: {}", first.machine);
    }
    let width = reports
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7}  {:>10}  {:>5}  {:>10}  {:>10}  {:>10}  {:>10}  {:>6}",
        "workload", "clients", "ops/s", "±%", "p50", "p99", "p99.9", "max", "errors"
    );
    for r in reports {
        let l = &r.latency;
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>10}  {:>5.1}  {:>10}  {:>10}  {:>10}  {:>10}  {:>6}",
            r.name,
            r.settings.concurrency,
            format::rate(r.throughput.mean),
            r.throughput.relative_stddev(),
            format::nanos(l.p50 as f64),
            format::nanos(l.p99 as f64),
            format::nanos(l.p999 as f64),
            format::nanos(l.max as f64),
            r.errors,
        );
    }
    out
}

/// Several reports as one JSON document: `{"machine": {...}, "reports": [...]}`.
pub fn reports_to_json(reports: &[Report]) -> String {
    let machine = reports
        .first()
        .map_or_else(|| Machine::current().to_json(), |r| r.machine.to_json());
    pretty(&serde_json::json!({
        "machine": machine,
        "reports": reports.iter().map(Report::json_value).collect::<Vec<_>>(),
    }))
}

pub(crate) fn pretty(v: &serde_json::Value) -> String {
    // Serialising a `Value` to a string cannot fail (its map keys are strings).
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
