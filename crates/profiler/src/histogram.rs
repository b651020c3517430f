//! Latency recording: an HDR histogram of nanoseconds and the percentiles read from it.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Significant decimal digits the histogram keeps: 3 means every value is recorded within
/// 0.1% of itself, from 1 ns up to any size (the histogram grows as needed).
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of operation latencies, in nanoseconds, at 0.1% precision.
///
/// Each client records into its own histogram (no sharing on the hot path); the profiler
/// merges them when the clients are done. Values below 2,048 ns are kept exactly.
///
/// ```
/// use profiler::LatencyHistogram;
///
/// let mut h = LatencyHistogram::new();
/// for ns in 1..=100 {
///     h.record_ns(ns);
/// }
/// let p = h.percentiles();
/// assert_eq!((p.p50, p.p99, p.max), (50, 99, 100));
/// ```
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    h: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        // `new` enables auto-resize, so there is no upper bound to choose and no value is
        // ever refused; the range grows (rarely) instead of starting at hundreds of KiB.
        let h = match Histogram::new(SIGNIFICANT_DIGITS) {
            Ok(h) => h,
            Err(e) => unreachable!("3 significant digits is a valid precision: {e:?}"),
        };
        LatencyHistogram { h }
    }

    /// Records one latency of `ns` nanoseconds. Zero is recorded as 1 ns (the clock's
    /// resolution cannot tell them apart and the histogram's lowest value is 1).
    pub fn record_ns(&mut self, ns: u64) {
        // `record` grows the range as needed; `saturating_record` would clamp instead.
        // Growing fails only past u64's range, and then clamping is the best left to do.
        if self.h.record(ns.max(1)).is_err() {
            self.h.saturating_record(ns.max(1));
        }
    }

    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        self.record_ns(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Both auto-resize, so `add` cannot fail for lack of range.
        let _ = self.h.add(&other.h);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// The value (ns) at `quantile` (0.0 to 1.0): the smallest recorded value that at least
    /// `quantile` of all values do not exceed (the nearest-rank definition), to 0.1%.
    /// Zero when nothing was recorded.
    pub fn value_at_quantile(&self, quantile: f64) -> u64 {
        if self.h.is_empty() {
            return 0;
        }
        self.h.value_at_quantile(quantile.clamp(0.0, 1.0))
    }

    /// The usual summary: p50, p90, p99, p99.9, min, max and mean, in nanoseconds.
    pub fn percentiles(&self) -> Percentiles {
        if self.h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: self.h.len(),
            min: self.h.min(),
            p50: self.value_at_quantile(0.50),
            p90: self.value_at_quantile(0.90),
            p99: self.value_at_quantile(0.99),
            p999: self.value_at_quantile(0.999),
            max: self.h.max(),
            mean: self.h.mean(),
        }
    }
}

/// Latency percentiles in nanoseconds, read from a [`LatencyHistogram`].
///
/// Values are exact below 2,048 ns and within 0.1% above; `max` is the largest value recorded
/// (to the same precision).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// How many latencies were recorded.
    pub count: u64,
    /// The smallest.
    pub min: u64,
    /// The median.
    pub p50: u64,
    /// The 90th percentile.
    pub p90: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The 99.9th percentile.
    pub p999: u64,
    /// The largest.
    pub max: u64,
    /// The arithmetic mean.
    pub mean: f64,
}
