//! `cargo xtask load`: the book's load test of the to-do system, with what it needs to be read.
//!
//! Builds the `todo` binary in release mode, checks how the disk answers `fdatasync` (with
//! `crates/todo/load/disk_check.py`; a quiet disk answers in a fraction of a millisecond; a
//! stalling one makes every durable write wait), then for each run starts the system on a free port
//! with a fresh data directory, runs `wrk -t4 -c28 -d<seconds>s --latency -s
//! crates/todo/load/wrk.lua` against it, stops it with Ctrl-C (SIGINT), and counts the slow commits
//! it logged (a database worker's write and `fdatasync` that took 50 ms or more). One line per run:
//! throughput, wrk's percentiles (corrected for coordinated omission, see
//! `crates/todo/load/README.md`), and the stalls the server saw meanwhile.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::{cargo, run, target_dir};

/// What `cargo xtask load` was asked for.
struct Args {
    seconds: u64,
    runs: usize,
    workers: Option<u64>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        seconds: 30,
        runs: 3,
        workers: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or(format!("load: {name} needs a positive number"))
        };
        match flag.as_str() {
            "--seconds" => a.seconds = value("--seconds")?,
            "--runs" => a.runs = value("--runs")? as usize,
            "--db-workers" => a.workers = Some(value("--db-workers")?),
            other => {
                return Err(format!(
                    "load: unknown argument {other:?} (use --seconds N, --runs N, --db-workers N)"
                ));
            }
        }
    }
    Ok(a)
}

pub(crate) fn load(root: &Path, args: &[String]) -> Result<(), String> {
    let a = parse(args)?;
    if Command::new("wrk").arg("-v").output().is_err() {
        return Err("wrk is not on the PATH (Debian/Ubuntu: `apt-get install -y wrk`)".into());
    }
    let mut build = cargo();
    build.args(["build", "--quiet", "--release", "-p", "todo"]);
    run(root, "build the to-do system", build)?;
    let bin = target_dir(root).join("release").join("todo");
    let scratch = target_dir(root).join("load");
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;

    // The disk check is `crates/todo/load/disk_check.py`, the one the load README uses.
    let mut check = Command::new("python3");
    check
        .arg(root.join("crates/todo/load/disk_check.py"))
        .arg(&scratch)
        .arg("3");
    if let Err(e) = run(
        root,
        "the disk: 2 KB writes, each followed by fdatasync, for 3 s",
        check,
    ) {
        println!("==> {e} (python3 runs the disk check); the runs go on without it");
    }

    // wrk's own script, plus a `done` hook that prints what the table needs.
    let script = scratch.join("wrk-load.lua");
    let mix = root.join("crates/todo/load/wrk.lua");
    std::fs::write(
        &script,
        format!(
            "dofile({:?})\n\
             done = function(s, l, r)\n  \
               io.write(string.format(\"LOAD %d %d %d %d %d %d\\n\", s.requests, s.duration, \
             l:percentile(50), l:percentile(99), l.max, s.errors.status + s.errors.timeout))\n\
             end\n",
            mix.display().to_string()
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", script.display()))?;

    println!(
        "\n==> {} runs of `wrk -t4 -c28 -d{}s --latency -s crates/todo/load/wrk.lua`, a fresh \
         server and data directory each",
        a.runs, a.seconds
    );
    println!(
        "    {:<4} {:>9} {:>9} {:>10} {:>10} {:>7}  slow commits (50 ms or more; one line per worker)",
        "run", "req/s", "p50", "p99", "max", "errors"
    );
    for n in 1..=a.runs {
        let line = one_run(&bin, &scratch, &script, &a, n)?;
        println!("    {line}");
    }
    println!(
        "\n    p50/p99/max are wrk's, corrected for coordinated omission: one stall of the disk \
         counts once for every request a steady client would have sent meanwhile \
         (crates/todo/load/README.md)."
    );
    Ok(())
}

/// One server, one wrk run, one line of the table.
fn one_run(
    bin: &Path,
    scratch: &Path,
    script: &Path,
    a: &Args,
    n: usize,
) -> Result<String, String> {
    let dir = scratch.join(format!("data-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cmd = Command::new(bin);
    cmd.arg("--port").arg("0").arg("--data-dir").arg(&dir);
    if let Some(w) = a.workers {
        cmd.arg("--db-workers").arg(w.to_string());
    }
    let mut server = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stderr = server.stderr.take().ok_or("the server's stderr")?;
    // Every line the server logs, and its port as soon as it says it serves.
    let (port_tx, port_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("todo: serving http://localhost:")
                && let Some(port) = rest.split('/').next().and_then(|p| p.parse::<u16>().ok())
            {
                let _ = port_tx.send(port);
            }
            lines.push(line);
        }
        lines
    });
    let port = match port_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(p) => p,
        Err(_) => {
            let _ = server.kill();
            let _ = server.wait();
            let lines = reader.join().unwrap_or_default();
            return Err(format!("the server did not start:\n{}", lines.join("\n")));
        }
    };
    let out = Command::new("wrk")
        .args([
            "-t4",
            "-c28",
            &format!("-d{}s", a.seconds),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output();
    // Ctrl-C: the system stops in order and writes what it holds.
    let _ = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status();
    let stopped = server.wait();
    let lines = reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(f) = text
        .lines()
        .find_map(|l| l.strip_prefix("LOAD "))
        .map(|l| {
            l.split(' ')
                .filter_map(|v| v.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|f| f.len() == 6)
    else {
        return Err(format!(
            "wrk printed no summary:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    };
    if !stopped.is_ok_and(|s| s.success()) {
        return Err(format!(
            "the server did not stop cleanly:\n{}",
            lines.join("\n")
        ));
    }
    let slow: Vec<u64> = lines
        .iter()
        .filter(|l| l.contains("slow commit"))
        .filter_map(|l| l.split(" took ").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
    let slow_text = match slow.iter().max() {
        None => "none".to_owned(),
        Some(max) => format!("{} lines, longest {max} ms", slow.len()),
    };
    Ok(format!(
        "{:<4} {:>9.0} {:>9} {:>10} {:>10} {:>7}  {slow_text}",
        n,
        f[0] as f64 / (f[1] as f64 / 1e6),
        ms(f[2]),
        ms(f[3]),
        ms(f[4]),
        f[5],
    ))
}
