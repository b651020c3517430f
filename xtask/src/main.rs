//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: format check, clippy with `-D warnings`, every test (nextest, then doc tests),
//!   the docs build, and the demos. This is what `.ci/run` runs.
//! - `test`: the tests only (nextest, then doc tests).
//! - `demos`: runs every demo in `examples/src/bin`, in name order, printing each one's
//!   output; stops at the first that fails.
//! - `bench [--beam] [--quick]`: the project's benchmark table: builds `bench_table` (in
//!   `benches/`) in release mode and runs it; it profiles every workload with the `profiler`
//!   crate, prints one table and writes `target/bench/report.json`. With `--beam`, first runs
//!   the Elixir scripts in `benches/beam/` when `elixir` is on the PATH, and the table gets
//!   the BEAM's column and the ratio; without elixir it says how to install it and runs ours
//!   alone. `--quick` runs a tenth of every workload.
//! - `bench --criterion [ARGS]`: the criterion benches (`cargo bench -p benches`), passing
//!   ARGS on.
//! - `load [--seconds N] [--runs N] [--db-workers N]`: the book's load test of the to-do
//!   system (needs `wrk`): checks the disk's `fdatasync`, then runs the release `todo` binary
//!   and wrk's mix against it, a fresh server each run, and prints throughput, wrk's
//!   percentiles and the slow commits the server logged (see `crates/todo/load/README.md`).
//!
//! Only the standard library is used, so the first `cargo xtask` builds in seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod load;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("test") => test(&root),
        Some("demos") => demos(&root, &args[1..]),
        Some("bench") => bench(&root, &args[1..]),
        Some("load") => load::load(&root, &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | test | demos [NAME...] | bench [--beam] [--quick] \
                 | bench --criterion [ARGS...] | load [--seconds N] [--runs N] [--db-workers N]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs a command in the workspace root, echoing it, and fails if it fails.
fn run(root: &Path, what: &str, mut cmd: Command) -> Result<(), String> {
    println!("\n==> {what}");
    let started = Instant::now();
    let status = cmd
        .current_dir(root)
        .status()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    println!(
        "==> {what}: {} in {:.1}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn ci(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(root, "cargo fmt --check", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(root, "cargo clippy -D warnings", clippy)?;

    test(root)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run(root, "cargo doc", doc)?;

    demos(root, &[])?;
    println!("\n==> ci passed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn test(root: &Path) -> Result<(), String> {
    if has_nextest() {
        let mut t = cargo();
        t.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        run(root, "cargo nextest run", t)?;
    } else {
        let mut t = cargo();
        t.args([
            "test",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--no-fail-fast",
        ]);
        run(root, "cargo test", t)?;
    }
    let mut d = cargo();
    d.args(["test", "--workspace", "--doc"]);
    run(root, "cargo test --doc", d)
}

/// The demo binaries: every `examples/src/bin/*.rs`, in name order.
fn demo_names(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("examples/src/bin");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "rs").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    Ok(names)
}

fn demos(root: &Path, only: &[String]) -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--quiet", "--release", "-p", "examples", "--bins"]);
    run(root, "build the demos", build)?;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let names = demo_names(root)?;
    let chosen: Vec<&String> = names
        .iter()
        .filter(|n| only.is_empty() || only.iter().any(|o| n.contains(o.as_str())))
        .collect();
    if chosen.is_empty() {
        return Err(format!("no demo matches {only:?}; demos: {names:?}"));
    }
    let started = Instant::now();
    for name in &chosen {
        let bin = target.join("release").join(name);
        println!("\n======== demo {name} ========");
        let t = Instant::now();
        let status = Command::new(&bin)
            .current_dir(root)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !status.success() {
            return Err(format!("demo {name} failed ({status})"));
        }
        println!(
            "-------- demo {name}: ok in {:.2}s",
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "\nall {} demos passed in {:.1}s",
        chosen.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"))
}

fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("--criterion") {
        let mut b = cargo();
        b.args(["bench", "-p", "benches"]);
        if args.len() > 1 {
            b.arg("--").args(&args[1..]);
        }
        return run(root, "cargo bench -p benches", b);
    }
    let mut beam = false;
    let mut quick = false;
    for a in args {
        match a.as_str() {
            "--beam" => beam = true,
            "--quick" => quick = true,
            other => {
                return Err(format!(
                    "bench: unknown argument {other:?} (use --beam, --quick, or --criterion ARGS)"
                ));
            }
        }
    }

    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "benches",
        "--bin",
        "bench_table",
    ]);
    run(root, "build the benchmark table", build)?;

    let out = target_dir(root).join("bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let beam_file = out.join("beam.tsv");
    // Never let figures from an earlier run pass for this one's.
    let _ = std::fs::remove_file(&beam_file);
    let mut have_beam = false;
    if beam {
        if has_elixir() {
            have_beam = run_beam(root, &beam_file, quick)?;
        } else {
            println!(
                "\n==> elixir is not on the PATH: the table will have our column only.\n    \
                 To compare with the BEAM, install Elixir (Debian/Ubuntu: \
                 `apt-get install -y elixir`; elsewhere see https://elixir-lang.org/install.html)\n    \
                 and run `cargo xtask bench --beam` again."
            );
        }
    }

    let mut table = Command::new(target_dir(root).join("release").join("bench_table"));
    table.arg("--json").arg(out.join("report.json"));
    if quick {
        table.arg("--quick");
    }
    if have_beam {
        table.arg("--beam").arg(&beam_file);
    }
    run(root, "the benchmark table", table)
}

fn has_elixir() -> bool {
    Command::new("elixir")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs every script in `benches/beam/` but `profiler.exs`, whose output is shown as it is,
/// then `profiler.exs`, whose figures go into the table through `beam_file` (last, so that
/// the BEAM's figures and ours are measured back to back). Returns whether the table's
/// figures were written.
fn run_beam(root: &Path, beam_file: &Path, quick: bool) -> Result<bool, String> {
    let dir = root.join("benches/beam");
    let mut others: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "exs")
                && p.file_name().is_some_and(|n| n != "profiler.exs")
        })
        .collect();
    others.sort();
    for script in others {
        let name = script
            .strip_prefix(root)
            .unwrap_or(&script)
            .display()
            .to_string();
        let mut cmd = Command::new("elixir");
        cmd.arg(&script);
        if let Err(e) = run(root, &format!("BEAM: elixir {name}"), cmd) {
            println!("==> {e}");
        }
    }
    let mut profiler = Command::new("elixir");
    profiler
        .arg(dir.join("profiler.exs"))
        .arg("--out")
        .arg(beam_file);
    if quick {
        profiler.arg("--quick");
    }
    // A failing BEAM script leaves the table without the BEAM's column, not without ours.
    if let Err(e) = run(root, "BEAM: elixir benches/beam/profiler.exs", profiler) {
        println!("==> {e}; the table will have our column only");
        return Ok(false);
    }
    Ok(beam_file.exists())
}
