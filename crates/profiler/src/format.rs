//! Human-readable numbers for the tables: rates, durations, counts.

/// A rate with a metric prefix and four significant digits: `950`, `412.3 k`, `1.834 M`.
pub(crate) fn rate(r: f64) -> String {
    if !r.is_finite() {
        return "-".to_owned();
    }
    let (v, unit) = if r >= 1e9 {
        (r / 1e9, " G")
    } else if r >= 1e6 {
        (r / 1e6, " M")
    } else if r >= 1e3 {
        (r / 1e3, " k")
    } else {
        (r, "")
    };
    format!("{}{unit}", four_digits(v))
}

/// A duration in nanoseconds in the largest unit under which it is at least 1: `850 ns`,
/// `2.310 µs`, `1.200 ms`, `1.500 s`.
pub(crate) fn nanos(ns: f64) -> String {
    if !ns.is_finite() {
        return "-".to_owned();
    }
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{} µs", four_digits(ns / 1e3))
    } else if ns < 1e9 {
        format!("{} ms", four_digits(ns / 1e6))
    } else {
        format!("{} s", four_digits(ns / 1e9))
    }
}

/// Four significant digits for a value in [1, 1000), fewer decimals as it grows.
fn four_digits(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else if v >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A count with thousands separators: `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
