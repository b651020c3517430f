//! The profiler's arithmetic on known inputs: throughput, spread, percentiles, comparisons,
//! and the shape of its JSON and tables. Nothing here is timed.

use std::time::Duration;

use profiler::{
    LatencyHistogram, Report, Sample, Settings, Spread, compare, reports_to_json, summary_table,
    throughput,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn sample(ms: u64, operations: u64, errors: u64) -> Sample {
    Sample {
        elapsed: Duration::from_millis(ms),
        operations,
        errors,
    }
}

/// A report whose samples each ran `ops` operations in the given milliseconds.
fn report(name: &str, ops: u64, millis: &[u64], latencies: &[u64]) -> Report {
    let mut h = LatencyHistogram::new();
    for &ns in latencies {
        h.record_ns(ns);
    }
    let mut settings = Settings::new(ops, 1);
    settings.samples = millis.len();
    let samples = millis.iter().map(|&ms| sample(ms, ops, 0)).collect();
    Report::from_parts(name, settings, samples, h, None)
}

mod throughput_arithmetic {
    use super::*;

    #[test]
    fn is_operations_over_seconds() {
        assert_eq!(throughput(1_000, Duration::from_secs(1)), 1_000.0);
        assert_eq!(throughput(500_000, Duration::from_millis(250)), 2_000_000.0);
        assert_eq!(throughput(3, Duration::from_micros(2)), 1_500_000.0);
    }

    #[test]
    fn matches_the_seed_formula() {
        // round(1_000_000 * operations_count * concurrency_level / time_us)
        let (ops, conc, time_us) = (100_000u64, 100u64, 5_482_910u64);
        let seed = (1_000_000.0 * (ops * conc) as f64 / time_us as f64).round();
        let ours = throughput(ops * conc, Duration::from_micros(time_us)).round();
        assert_eq!(ours, seed);
    }

    #[test]
    fn is_zero_when_no_time_passed() {
        assert_eq!(throughput(10, Duration::ZERO), 0.0);
    }

    #[test]
    fn of_a_sample() {
        assert_eq!(sample(500, 1_000, 3).throughput(), 2_000.0);
    }
}

mod spread {
    use super::*;

    #[test]
    fn of_known_samples() {
        let s = Spread::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.samples, 8);
        assert_eq!(s.mean, 5.0);
        assert_eq!((s.min, s.max), (2.0, 9.0));
        // Sum of squared deviations is 32; the sample variance divides by n - 1 = 7.
        assert!(close(s.stddev, (32.0f64 / 7.0).sqrt()));
        assert!(close(
            s.relative_stddev(),
            100.0 * (32.0f64 / 7.0).sqrt() / 5.0
        ));
    }

    #[test]
    fn of_one_sample_has_no_deviation() {
        let s = Spread::of(&[42.0]);
        assert_eq!(
            (s.samples, s.mean, s.stddev, s.min, s.max),
            (1, 42.0, 0.0, 42.0, 42.0)
        );
    }

    #[test]
    fn of_nothing_is_all_zero() {
        assert_eq!(Spread::of(&[]), Spread::default());
        assert_eq!(Spread::default().relative_stddev(), 0.0);
    }

    #[test]
    fn overlap_is_of_mean_plus_minus_stddev() {
        let a = Spread::of(&[9.0, 11.0]); // 10 ± 1.414
        let b = Spread::of(&[11.0, 13.0]); // 12 ± 1.414
        let c = Spread::of(&[20.0, 22.0]); // 21 ± 1.414
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
    }

    #[test]
    fn of_a_report_is_over_its_samples_throughput() {
        // 1,000 operations in 1 s, 0.5 s and 0.25 s: 1,000, 2,000 and 4,000 ops/s.
        let r = report("r", 1_000, &[1_000, 500, 250], &[]);
        assert!(close(r.throughput.mean, 7_000.0 / 3.0));
        assert_eq!((r.throughput.min, r.throughput.max), (1_000.0, 4_000.0));
        assert_eq!(r.operations, 3_000);
        assert_eq!(r.elapsed(), Duration::from_millis(1_750));
        assert_eq!(r.seed_line(), "2333 reqs/sec");
    }

    #[test]
    fn report_totals_add_up_samples() {
        let samples = vec![sample(100, 10, 1), sample(100, 20, 2), sample(200, 30, 0)];
        let r = Report::from_parts(
            "t",
            Settings::new(30, 1),
            samples,
            LatencyHistogram::new(),
            Some("Err(Timeout)".into()),
        );
        assert_eq!((r.operations, r.errors), (60, 3));
        assert_eq!(r.first_error.as_deref(), Some("Err(Timeout)"));
    }
}

mod histogram {
    use super::*;

    fn filled(values: impl IntoIterator<Item = u64>) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for v in values {
            h.record_ns(v);
        }
        h
    }

    #[test]
    fn percentiles_of_1_to_1000_are_nearest_rank() {
        // Below 2,048 ns values are kept exactly, so the nearest-rank percentiles of 1..=1000
        // are exact: the smallest value that the given fraction of values do not exceed.
        let p = filled(1..=1_000).percentiles();
        assert_eq!(p.count, 1_000);
        assert_eq!((p.min, p.max), (1, 1_000));
        assert_eq!((p.p50, p.p90, p.p99, p.p999), (500, 900, 990, 999));
        assert!(close(p.mean, 500.5));
    }

    #[test]
    fn a_slow_tail_shows_only_at_the_top() {
        // 999 fast operations and one 5 ms stall: the median does not see it, p99.9 does.
        let p = filled(std::iter::repeat_n(100, 999).chain([5_000_000])).percentiles();
        assert_eq!((p.p50, p.p90, p.p99, p.p999), (100, 100, 100, 100));
        let p = filled(std::iter::repeat_n(100, 998).chain([5_000_000, 5_000_000])).percentiles();
        assert_eq!(p.p99, 100);
        assert!(within_precision(p.p999, 5_000_000));
        assert!(within_precision(p.max, 5_000_000));
    }

    fn within_precision(got: u64, want: u64) -> bool {
        // Three significant digits: within 0.1%.
        (got as f64 - want as f64).abs() <= want as f64 / 1_000.0
    }

    #[test]
    fn large_values_keep_three_significant_digits() {
        let h = filled([1_234_567, 987_654_321, 3_600_000_000_000]);
        let p = h.percentiles();
        assert!(within_precision(p.min, 1_234_567));
        assert!(within_precision(h.value_at_quantile(0.5), 987_654_321));
        assert!(within_precision(p.max, 3_600_000_000_000)); // an hour
    }

    #[test]
    fn merge_is_the_union_of_the_recordings() {
        let mut a = filled(1..=500);
        let b = filled(501..=1_000);
        a.merge(&b);
        let p = a.percentiles();
        assert_eq!(p.count, 1_000);
        assert_eq!((p.p50, p.p99, p.max), (500, 990, 1_000));
    }

    #[test]
    fn durations_are_recorded_in_nanoseconds_and_zero_as_one() {
        let mut h = LatencyHistogram::new();
        h.record(Duration::from_nanos(750));
        h.record(Duration::ZERO);
        let p = h.percentiles();
        assert_eq!((p.count, p.min, p.max), (2, 1, 750));
    }

    #[test]
    fn empty_gives_zeroes() {
        let h = LatencyHistogram::new();
        assert_eq!(h.count(), 0);
        assert_eq!(h.value_at_quantile(0.99), 0);
        assert_eq!(h.percentiles(), profiler::Percentiles::default());
    }

    #[test]
    fn a_report_reads_its_percentiles_from_its_histogram() {
        let r = report("r", 1_000, &[1_000], &(1..=1_000).collect::<Vec<_>>());
        assert_eq!((r.latency.p50, r.latency.p999), (500, 999));
        assert_eq!(r.histogram().value_at_quantile(0.25), 250);
    }
}

mod comparison {
    use super::*;

    #[test]
    fn ratio_is_faster_mean_over_slower_mean() {
        let registry = report("registry cache", 250_000, &[1_000], &[2_000]);
        let ets = report("ETS cache", 1_800_000, &[1_000], &[250]);
        for c in [compare(&registry, &ets), compare(&ets, &registry)] {
            assert_eq!(c.faster, "ETS cache");
            assert_eq!(c.slower, "registry cache");
            assert!(close(c.ratio, 7.2));
            assert_eq!(c.p99_ratio, Some(8.0));
            assert!(!c.within_noise);
            assert_eq!(
                c.to_string(),
                "ETS cache is 7.2x faster than registry cache (1.800 M vs 250.0 k ops/s)"
            );
        }
    }

    #[test]
    fn overlapping_samples_are_within_noise() {
        // 1,000 ops in 1,000 / 900 ms against 1,000 ops in 950 / 1,000 ms.
        let a = report("a", 1_000, &[1_000, 900], &[]);
        let b = report("b", 1_000, &[950, 1_000], &[]);
        let c = compare(&a, &b);
        assert!(c.within_noise);
        assert!(c.to_string().ends_with(", within the noise of the samples"));
        assert_eq!(c.p99_ratio, None); // no latencies recorded
    }

    #[test]
    fn equal_reports_are_1x_and_the_first_is_named_faster() {
        let a = report("a", 1_000, &[1_000], &[]);
        let b = report("b", 1_000, &[1_000], &[]);
        let c = compare(&a, &b);
        assert_eq!(
            (c.faster.as_str(), c.ratio, c.within_noise),
            ("a", 1.0, true)
        );
    }

    #[test]
    fn against_nothing_is_infinitely_faster() {
        let mut settings = Settings::new(1, 1);
        settings.samples = 1;
        let idle = Report::from_parts(
            "idle",
            settings,
            vec![sample(1_000, 0, 0)],
            LatencyHistogram::new(),
            None,
        );
        let busy = report("busy", 10, &[1_000], &[]);
        assert!(compare(&idle, &busy).ratio.is_infinite());
    }

    #[test]
    fn as_json() {
        let a = report("a", 2_000, &[1_000], &[10]);
        let b = report("b", 1_000, &[1_000], &[30]);
        let v: serde_json::Value =
            serde_json::from_str(&compare(&a, &b).to_json()).expect("valid JSON");
        assert_eq!(v["faster"], "a");
        assert_eq!(v["ratio"], 2.0);
        assert_eq!(v["p99_ratio"], 3.0);
        assert_eq!(v["within_noise"], false);
    }
}

mod output {
    use super::*;

    fn known() -> Report {
        let mut settings = Settings::new(1_000, 2);
        settings.samples = 2;
        settings.warmup = Duration::from_millis(100);
        let mut h = LatencyHistogram::new();
        for ns in 1..=1_000 {
            h.record_ns(ns);
        }
        Report::from_parts(
            "known",
            settings,
            vec![sample(1_000, 2_000, 0), sample(500, 2_000, 1)],
            h,
            Some("panic: boom".into()),
        )
    }

    #[test]
    fn json_has_every_field() {
        let r = known();
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("valid JSON");
        assert_eq!(v["name"], "known");
        for key in ["cores", "os", "arch", "profile"] {
            assert!(!v["machine"][key].is_null(), "machine.{key}");
        }
        assert_eq!(v["settings"]["operations"], 1_000);
        assert_eq!(v["settings"]["concurrency"], 2);
        assert_eq!(v["settings"]["samples"], 2);
        assert_eq!(v["settings"]["warmup_s"], 0.1);
        assert!(v["settings"]["rate_per_s"].is_null());
        assert_eq!(v["throughput"]["unit"], "ops/s");
        assert_eq!(v["throughput"]["mean"], 3_000.0);
        assert_eq!(v["throughput"]["min"], 2_000.0);
        assert_eq!(v["throughput"]["max"], 4_000.0);
        let lat = &v["latency_ns"];
        assert_eq!(
            [
                &lat["count"],
                &lat["p50"],
                &lat["p90"],
                &lat["p99"],
                &lat["p99_9"],
                &lat["max"]
            ],
            [1_000, 500, 900, 990, 999, 1_000]
        );
        assert_eq!(v["operations"], 4_000);
        assert_eq!(v["errors"], 1);
        assert_eq!(v["first_error"], "panic: boom");
        assert_eq!(v["elapsed_s"], 1.5);
        let samples = v["samples"].as_array().expect("an array");
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[1]["throughput"], 4_000.0);
        assert_eq!(samples[1]["errors"], 1);
    }

    #[test]
    fn several_reports_share_one_machine() {
        let v: serde_json::Value =
            serde_json::from_str(&reports_to_json(&[known(), known()])).expect("valid JSON");
        assert!(v["machine"]["cores"].as_u64().is_some_and(|c| c >= 1));
        assert_eq!(v["reports"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn table_reads_well() {
        let t = known().table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "known: 2 clients x 1,000 ops, 2 samples, warm-up 100.0 ms"
        );
        assert!(lines[1].starts_with("  machine     ") && lines[1].contains("cores"));
        assert_eq!(
            lines[2],
            "  throughput  3.000 k ops/s ± 47.1% (min 2.000 k, max 4.000 k)"
        );
        assert_eq!(
            lines[3],
            "  latency     p50 500 ns  p90 900 ns  p99 990 ns  p99.9 999 ns  max 1.000 µs"
        );
        assert_eq!(lines[4], "  errors      1 of 4,000 (first: panic: boom)");
        assert_eq!(known().to_string(), t);
    }

    #[test]
    fn fixed_rate_is_stated_in_the_table() {
        let mut r = known();
        r.settings.rate = Some(50_000.0);
        assert!(r.table().contains("fixed rate, 50.00 k ops/s target"));
    }

    #[test]
    fn summary_table_has_a_row_per_report() {
        let t = summary_table(&[known(), report("other", 10, &[1_000], &[])]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("machine: "));
        assert!(lines[1].starts_with("workload") && lines[1].contains("p99.9"));
        assert!(lines[2].starts_with("known ") && lines[2].contains("3.000 k"));
        assert!(lines[3].starts_with("other "));
    }
}
