//! The arithmetic of a run: throughput and the spread of repeated samples.

use std::time::Duration;

/// Operations per second: `operations / elapsed`, as the seed's profiler computes it
/// (`1_000_000 * operations / microseconds`). Zero when no time passed.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(profiler::throughput(500_000, Duration::from_millis(250)), 2_000_000.0);
/// ```
pub fn throughput(operations: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        operations as f64 / secs
    } else {
        0.0
    }
}

/// The spread of a few samples of one figure: mean, standard deviation, extremes.
///
/// ```
/// let s = profiler::Spread::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
/// assert_eq!((s.mean, s.min, s.max, s.samples), (5.0, 2.0, 9.0, 8));
/// assert!((s.stddev - 2.138).abs() < 1e-3); // sample (n - 1) standard deviation
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spread {
    /// How many samples.
    pub samples: usize,
    /// Their arithmetic mean.
    pub mean: f64,
    /// Their sample standard deviation (divided by n - 1); zero for fewer than two samples.
    pub stddev: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Spread {
    /// The spread of `samples`; all zero when there are none.
    pub fn of(samples: &[f64]) -> Spread {
        let n = samples.len();
        if n == 0 {
            return Spread::default();
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        let stddev = if n > 1 {
            let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Spread {
            samples: n,
            mean,
            stddev,
            min,
            max,
        }
    }

    /// The standard deviation as a percentage of the mean (the coefficient of variation);
    /// zero when the mean is zero.
    pub fn relative_stddev(&self) -> f64 {
        if self.mean == 0.0 {
            0.0
        } else {
            100.0 * self.stddev / self.mean
        }
    }

    /// Whether the ranges `mean ± stddev` of `self` and `other` overlap, i.e. whether a
    /// difference between them is within the noise of the samples.
    pub fn overlaps(&self, other: &Spread) -> bool {
        let (a_lo, a_hi) = (self.mean - self.stddev, self.mean + self.stddev);
        let (b_lo, b_hi) = (other.mean - other.stddev, other.mean + other.stddev);
        a_lo <= b_hi && b_lo <= a_hi
    }
}
