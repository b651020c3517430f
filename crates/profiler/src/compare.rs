//! Two targets side by side: "ETS cache is 7.2x faster than registry cache".

use std::fmt;

use crate::format;
use crate::report::{Report, pretty};
use crate::stats::Spread;

/// Which of two reports has the higher mean throughput, and by how much.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Comparison {
    /// The name of the faster target (the first one when they are equal).
    pub faster: String,
    /// The name of the slower target.
    pub slower: String,
    /// Mean throughput of the faster over that of the slower (at least 1; infinite when
    /// the slower did nothing).
    pub ratio: f64,
    /// Mean throughput of the faster, operations per second.
    pub faster_throughput: f64,
    /// Mean throughput of the slower, operations per second.
    pub slower_throughput: f64,
    /// The p99 latency of the slower over that of the faster (how much worse its tail is;
    /// below 1 when the faster one has the worse tail). `None` without latencies.
    pub p99_ratio: Option<f64>,
    /// Whether the two throughputs' ranges `mean ± stddev` overlap: the difference is
    /// within the noise of the samples and the ratio says little.
    pub within_noise: bool,
}

/// Compares two reports by mean throughput.
///
/// ```
/// use std::time::Duration;
/// use profiler::{LatencyHistogram, Report, Sample, Settings, compare};
///
/// let report = |name: &str, ops: u64| {
///     let sample = Sample { elapsed: Duration::from_secs(1), operations: ops, errors: 0 };
///     Report::from_parts(name, Settings::new(ops, 1), vec![sample], LatencyHistogram::new(), None)
/// };
/// let c = compare(&report("registry cache", 250_000), &report("ETS cache", 1_800_000));
/// assert_eq!(c.to_string(), "ETS cache is 7.2x faster than registry cache (1.800 M vs 250.0 k ops/s)");
/// ```
pub fn compare(a: &Report, b: &Report) -> Comparison {
    let (fast, slow) = if b.throughput.mean > a.throughput.mean {
        (b, a)
    } else {
        (a, b)
    };
    Comparison {
        faster: fast.name.clone(),
        slower: slow.name.clone(),
        ratio: ratio(fast.throughput.mean, slow.throughput.mean),
        faster_throughput: fast.throughput.mean,
        slower_throughput: slow.throughput.mean,
        p99_ratio: (fast.latency.count > 0 && slow.latency.count > 0)
            .then(|| ratio(slow.latency.p99 as f64, fast.latency.p99 as f64)),
        within_noise: noise(&fast.throughput, &slow.throughput),
    }
}

/// `a / b`, with 0 / 0 = 1 and x / 0 = infinity.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else if a > 0.0 {
        f64::INFINITY
    } else {
        1.0
    }
}

fn noise(a: &Spread, b: &Spread) -> bool {
    // With one sample each there is no spread to judge by: only equal means are "noise".
    if a.samples < 2 || b.samples < 2 {
        return a.mean == b.mean;
    }
    a.overlaps(b)
}

impl Comparison {
    /// The comparison as a JSON object.
    pub fn to_json(&self) -> String {
        pretty(&serde_json::json!({
            "faster": self.faster,
            "slower": self.slower,
            "ratio": self.ratio,
            "faster_throughput": self.faster_throughput,
            "slower_throughput": self.slower_throughput,
            "p99_ratio": self.p99_ratio,
            "within_noise": self.within_noise,
        }))
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is {:.1}x faster than {} ({} vs {} ops/s)",
            self.faster,
            self.ratio,
            self.slower,
            format::rate(self.faster_throughput),
            format::rate(self.slower_throughput),
        )?;
        if self.within_noise {
            f.write_str(", within the noise of the samples")?;
        }
        Ok(())
    }
}
