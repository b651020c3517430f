//! Memory of idle processes: spawns N processes (default 20,000) that each block in a receive,
//! waits until every one has said it is ready, and prints the growth of the resident set size
//! (VmRSS) in total and per process. Then it stops them all, waits for every `Down`, and exits 0.
//! The BEAM counterpart is the `idle` workload of `benches/beam/runtime_bench.exs`.
//!
//! ```text
//! cargo run --release -p benches --bin idle_processes [-- N]
//! ```
//!
//! Every process is an OS thread, so N is bounded by the kernel: `kernel.pid_max` and
//! `kernel.threads-max` count threads, and `vm.max_map_count` (65,530 by default) counts memory
//! mappings. The runtime starts its threads with `pthread_create`, two mappings each (the stack
//! and its guard page); a `std::thread` costs four, because the standard library adds a signal
//! stack with its own guard page, which stopped a default kernel near 16,000 processes (and
//! aborted the program there). The program first measures the mappings one process costs and
//! refuses an N that cannot fit, instead of failing half way.

use std::process::ExitCode;
use std::time::Instant;

use benches::{map_count, read_proc_limit, status_kib, thread_count, vm_rss_kib};
use runtime::{Down, Pid, Ref, is_alive, processes, receive, self_pid, send, spawn_monitor};

/// Sent by each idle process once it is running, just before it blocks.
struct Ready;

/// Tells an idle process to return.
struct Stop;

/// Processes spawned twice over first, to measure what one costs in mappings.
const PROBE: usize = 64;

/// Mappings left for the program itself (code, heap, libraries) when checking the budget.
const MAPPINGS_SLACK: u64 = 2_000;

fn main() -> ExitCode {
    let mut n: usize = 20_000;
    for arg in std::env::args().skip(1) {
        match arg.parse() {
            Ok(v) => n = v,
            Err(e) => {
                eprintln!("usage: idle_processes [N]  ({arg}: {e})");
                return ExitCode::from(2);
            }
        }
    }
    let pid_max = read_proc_limit("/proc/sys/kernel/pid_max");
    let threads_max = read_proc_limit("/proc/sys/kernel/threads-max");
    let map_max = read_proc_limit("/proc/sys/vm/max_map_count");
    println!(
        "limits: kernel.pid_max {}, kernel.threads-max {}, vm.max_map_count {}",
        show(pid_max),
        show(threads_max),
        show(map_max)
    );
    let me = self_pid();
    let rss_before = vm_rss_kib();
    let pte_before = status_kib("VmPTE");

    // The probe: two batches of fresh threads; the growth in mappings over the second batch
    // is what one more process costs (the first also creates malloc's per-thread arenas).
    // The probe's threads go back to the pool and are reused by the run below.
    let mut probe: Vec<(Pid, Ref)> = (0..PROBE).map(|_| spawn_idle(me)).collect();
    wait_ready(PROBE);
    let maps_before = map_count();
    probe.extend((0..PROBE).map(|_| spawn_idle(me)));
    wait_ready(PROBE);
    let per_process = match (maps_before, map_count()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / PROBE as f64,
        _ => 0.0,
    };
    stop_all(&probe);
    println!("one process costs {per_process:.2} memory mappings");
    if let (Some(max), Some(now)) = (map_max, map_count()) {
        let need = now + (per_process * n as f64).ceil() as u64 + MAPPINGS_SLACK;
        if need > max {
            eprintln!(
                "{n} processes need about {need} mappings, over vm.max_map_count = {max}: \
                 raise it (sysctl vm.max_map_count)"
            );
            return ExitCode::FAILURE;
        }
    }
    if let Some(max) = pid_max.into_iter().chain(threads_max).min()
        && n as u64 + 500 > max
    {
        eprintln!("{n} processes (threads) do not fit under the kernel's limit of {max}");
        return ExitCode::FAILURE;
    }

    let start = Instant::now();
    let pids: Vec<(Pid, Ref)> = (0..n).map(|_| spawn_idle(me)).collect();
    wait_ready(n);
    let ready_in = start.elapsed();
    let rss_after = vm_rss_kib();
    let pte_after = status_kib("VmPTE");
    let alive = pids.iter().filter(|(p, _)| is_alive(*p)).count();
    println!(
        "{n} processes spawned and ready in {:.0} ms ({:.1} us each)",
        ready_in.as_secs_f64() * 1e3,
        ready_in.as_secs_f64() * 1e6 / n.max(1) as f64
    );
    println!(
        "alive: {alive} of {n} (the runtime lists {} processes, the kernel {} threads)",
        processes().len(),
        show(thread_count())
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        let grown = b.saturating_sub(a);
        println!(
            "VmRSS {a} KiB -> {b} KiB: {grown} KiB for {n} processes = {:.1} KiB per process",
            grown as f64 / n.max(1) as f64
        );
    } else {
        println!("VmRSS: cannot read /proc/self/status");
    }
    if let (Some(a), Some(b)) = (pte_before, pte_after) {
        // Page tables and kernel stacks are kernel memory, not counted in VmRSS.
        println!(
            "VmPTE (page tables, not in VmRSS) {a} KiB -> {b} KiB = {:.1} KiB per process",
            b.saturating_sub(a) as f64 / n.max(1) as f64
        );
    }

    let start = Instant::now();
    let downs = stop_all(&pids);
    println!(
        "stopped: {downs} Downs in {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    if alive == n && downs == n {
        ExitCode::SUCCESS
    } else {
        eprintln!("{alive} of {n} processes were alive, {downs} Downs received");
        ExitCode::FAILURE
    }
}

/// Spawns one idle process, monitored, that reports to `me` and waits for [`Stop`].
fn spawn_idle(me: Pid) -> (Pid, Ref) {
    spawn_monitor(move || {
        send(me, Ready);
        let Stop = receive();
    })
}

fn wait_ready(n: usize) {
    for _ in 0..n {
        let Ready = receive();
    }
}

/// Stops the processes and waits for their `Down`s; returns how many arrived.
fn stop_all(pids: &[(Pid, Ref)]) -> usize {
    for (pid, _) in pids {
        send(*pid, Stop);
    }
    let mut downs = 0;
    for _ in pids {
        let _: Down = receive();
        downs += 1;
    }
    downs
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "?".to_owned(), |v| v.to_string())
}
