//! The project's benchmark table: every workload of [`workloads()`] run by the `profiler` crate,
//! one table with throughput and latency, the BEAM's figures beside ours when given, and a
//! JSON report. `cargo xtask bench` builds and runs it in release mode; `cargo xtask bench
//! --beam` first runs `benches/beam/profiler.exs` and passes its figures in.
//!
//! ```text
//! cargo run --release -p benches --bin bench_table -- [--quick] [--beam FILE] [--json PATH]
//!                                                      [--only KEY,KEY...]
//! ```
//!
//! - `--quick`: a tenth of every workload's operations (a smoke run; figures are noisier).
//! - `--beam FILE`: the BEAM's figures, as `benches/beam/profiler.exs --out FILE` writes them.
//! - `--json PATH`: where to write the JSON report (default `target/bench/report.json`).
//! - `--only KEYS`: run only these workloads.

mod cache;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use profiler::{Machine, Report, compare};
use serde_json::{Value, json};

use crate::workloads::{Scale, comparisons, workloads};

/// One workload's figures from the BEAM script.
#[derive(Clone, Debug)]
struct Beam {
    key: String,
    clients: u64,
    rate: f64,
    rel_stddev: f64,
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

struct Args {
    scale: Scale,
    beam: Option<PathBuf>,
    json: PathBuf,
    only: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        scale: Scale(1.0),
        beam: None,
        json: PathBuf::from("target/bench/report.json"),
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => args.scale = Scale(0.1),
            "--beam" => args.beam = Some(it.next().ok_or("--beam needs a file")?.into()),
            "--json" => args.json = it.next().ok_or("--json needs a path")?.into(),
            "--only" => {
                let keys = it.next().ok_or("--only needs keys")?;
                args.only = keys.split(',').map(str::to_owned).collect();
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Reads the BEAM script's figures: one tab-separated line per workload.
fn read_beam(path: &PathBuf) -> Result<Vec<Beam>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || {
            format!(
                "{}:{}: not a BEAM result line: {line:?}",
                path.display(),
                n + 1
            )
        };
        if f.len() != 8 {
            return Err(bad());
        }
        let int = |i: usize| f[i].trim().parse::<u64>().map_err(|_| bad());
        let float = |i: usize| f[i].trim().parse::<f64>().map_err(|_| bad());
        rows.push(Beam {
            key: f[0].to_owned(),
            clients: int(1)?,
            rate: float(2)?,
            rel_stddev: float(3)?,
            p50: int(4)?,
            p99: int(5)?,
            p999: int(6)?,
            max: int(7)?,
        });
    }
    Ok(rows)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_table: {e}");
            return ExitCode::from(2);
        }
    };
    let beam = match args.beam.as_ref().map(read_beam).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(e) => {
            eprintln!("bench_table: {e}");
            return ExitCode::FAILURE;
        }
    };
    let machine = Machine::current();
    println!("machine: {machine}");
    // The load at the start: on a shared machine it explains a noisy table.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let avg: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("load average: {}", avg.join(" "));
    }
    if machine.profile != "release" {
        println!("warning: a debug build; its figures are not worth comparing (use --release)");
    }

    let chosen: Vec<_> = workloads()
        .into_iter()
        .filter(|w| args.only.is_empty() || args.only.iter().any(|k| k == w.key))
        .collect();
    let mut ours: Vec<(&'static str, Report)> = Vec::new();
    for w in &chosen {
        match (w.run)(args.scale) {
            Ok(r) => {
                println!(
                    "  {:<28} {:>12.0} ops/s  p50 {:>7} ns  errors {}",
                    w.key, r.throughput.mean, r.latency.p50, r.errors
                );
                ours.push((w.key, r));
            }
            Err(e) => {
                eprintln!("bench_table: workload {} did not run: {e}", w.key);
                return ExitCode::FAILURE;
            }
        }
    }

    println!();
    print!("{}", table(&ours, &beam, args.only.is_empty()));
    let compared = comparisons()
        .into_iter()
        .filter_map(|(a, b)| {
            let find = |k: &str| ours.iter().find(|(key, _)| *key == k).map(|(_, r)| r);
            Some(compare(find(a)?, find(b)?))
        })
        .collect::<Vec<_>>();
    if !compared.is_empty() {
        println!();
        for c in &compared {
            println!("{c}");
        }
    }

    let doc = json_report(&machine, args.scale, &ours, &beam, &compared);
    if let Some(dir) = args.json.parent()
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("bench_table: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    match std::fs::write(&args.json, doc) {
        Ok(()) => {
            println!("\nwrote {}", args.json.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_table: cannot write {}: {e}", args.json.display());
            ExitCode::FAILURE
        }
    }
}

/// Nanoseconds in a short human unit.
fn ns(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        "-".to_owned()
    } else if v < 1e3 {
        format!("{v:.0} ns")
    } else if v < 1e6 {
        format!("{:.2} µs", v / 1e3)
    } else if v < 1e9 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// Operations per second in a short human unit.
fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The table: our figures, then the BEAM's and the ratio when there are any. Rows the BEAM
/// measured and we did not (a workload of a crate not yet in the workspace) come last, when
/// every workload was run.
fn table(ours: &[(&'static str, Report)], beam: &[Beam], all: bool) -> String {
    let with_beam = !beam.is_empty();
    let titles: Vec<String> = ours.iter().map(|(_, r)| r.name.clone()).collect();
    let width = titles
        .iter()
        .map(|t| t.chars().count())
        .chain(beam.iter().map(|b| b.key.len()))
        .max()
        .unwrap_or(8);
    let mut out = format!(
        "{:<width$} {:>7} {:>10} {:>5} {:>9} {:>9} {:>9} {:>9}",
        "workload (ours)", "clients", "ops/s", "±%", "time/op", "p50", "p99", "p99.9"
    );
    if with_beam {
        out += &format!(
            " | {:>10} {:>5} {:>9} {:>9} | {:>9}",
            "BEAM ops/s", "±%", "p50", "p99", "ours/BEAM"
        );
    }
    out.push('\n');
    for (key, r) in ours {
        let t = &r.throughput;
        out += &format!(
            "{:<width$} {:>7} {:>10} {:>5.1} {:>9} {:>9} {:>9} {:>9}",
            r.name,
            r.settings.concurrency,
            rate(t.mean),
            t.relative_stddev(),
            // In fixed-rate mode the time per operation is only the schedule's interval.
            if r.settings.rate.is_some() {
                "-".to_owned()
            } else {
                ns(1e9 / t.mean)
            },
            ns(r.latency.p50 as f64),
            ns(r.latency.p99 as f64),
            ns(r.latency.p999 as f64),
        );
        if with_beam {
            match beam.iter().find(|b| b.key == *key) {
                Some(b) => {
                    out += &format!(
                        " | {:>10} {:>5.1} {:>9} {:>9} | {:>8.2}x",
                        rate(b.rate),
                        b.rel_stddev,
                        ns(b.p50 as f64),
                        ns(b.p99 as f64),
                        t.mean / b.rate
                    );
                }
                None => out += &format!(" | {:>10} {:>5} {:>9} {:>9} | {:>9}", "-", "", "", "", ""),
            }
        }
        out.push('\n');
    }
    if all {
        for b in beam
            .iter()
            .filter(|b| !ours.iter().any(|(k, _)| *k == b.key))
        {
            out += &format!(
                "{:<width$} {:>7} {:>10} {:>5} {:>9} {:>9} {:>9} {:>9} | {:>10} {:>5.1} {:>9} {:>9} | {:>9}\n",
                b.key,
                b.clients,
                "-",
                "",
                "",
                "",
                "",
                "",
                rate(b.rate),
                b.rel_stddev,
                ns(b.p50 as f64),
                ns(b.p99 as f64),
                "BEAM only"
            );
        }
    }
    if with_beam {
        out += "ours/BEAM: our throughput over the BEAM's (above 1: we are faster). Same workload, \
                clients, operations, samples and timing method on both sides.\n";
    }
    out
}

fn beam_json(b: &Beam) -> Value {
    json!({
        "clients": b.clients,
        "throughput": { "unit": "ops/s", "mean": b.rate, "relative_stddev_pct": b.rel_stddev },
        "latency_ns": { "p50": b.p50, "p99": b.p99, "p99_9": b.p999, "max": b.max },
    })
}

fn json_report(
    machine: &Machine,
    scale: Scale,
    ours: &[(&'static str, Report)],
    beam: &[Beam],
    compared: &[profiler::Comparison],
) -> String {
    let mut rows: Vec<Value> = ours
        .iter()
        .map(|(key, r)| {
            let b = beam.iter().find(|b| b.key == *key);
            json!({
                "key": key,
                "title": r.name,
                "ours": serde_json::from_str::<Value>(&r.to_json()).unwrap_or(Value::Null),
                "beam": b.map(beam_json),
                "ours_over_beam": b.map(|b| r.throughput.mean / b.rate),
            })
        })
        .collect();
    rows.extend(
        beam.iter()
            .filter(|b| !ours.iter().any(|(k, _)| *k == b.key))
            .map(|b| json!({ "key": b.key, "ours": null, "beam": beam_json(b), "ours_over_beam": null })),
    );
    let doc = json!({
        "machine": {
            "cores": machine.cores,
            "cpu": machine.cpu,
            "os": machine.os,
            "kernel": machine.kernel,
            "arch": machine.arch,
            "profile": machine.profile,
        },
        "scale": scale.0,
        "workloads": rows,
        "comparisons": compared
            .iter()
            .map(|c| serde_json::from_str::<Value>(&c.to_json()).unwrap_or(Value::Null))
            .collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
