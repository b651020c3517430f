//! Seed 003, "Restart Strategies": one_for_one, one_for_all and rest_for_one on the seed's
//! "multi-stage data processing pipeline": a producer, a transformer and a consumer, started
//! in that order. The transformer crashes on a bad record; each strategy restarts a different
//! set of stages:
//!
//! - `:one_for_one`: "only that process is restarted";
//! - `:one_for_all`: "all other child processes are terminated and restarted";
//! - `:rest_for_one`: "the rest of the children started after it are terminated and
//!   restarted" (the consumer depends on the transformer; the producer keeps running).
//!
//! Run with `cargo run -p examples --bin seed003_strategies`.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, ExitReason, Pid, SpawnOpts, exit, monitor, processes, receive_match_timeout, recv,
    self_pid,
};
use supervisor::{ChildPid, ChildSpec, Strategy, Supervisor, SupervisorOpts, render_tree};

const STAGES: [&str; 3] = ["producer", "transformer", "consumer"];

fn stage(name: &'static str) -> ChildSpec {
    ChildSpec::worker(name, move || {
        SpawnOpts::new()
            .link()
            .name(format!("pipeline_{name}"))
            .spawn(|| {
                loop {
                    let _ = recv();
                }
            })
            .map(|s| s.pid)
            .map_err(|e| ExitReason::custom(e.to_string()))
    })
}

fn pids(sup: &Supervisor) -> Vec<Pid> {
    sup.which_children()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| match c.pid {
            ChildPid::Pid(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn main() {
    runtime::set_crash_handler(|_| {});
    let mut c = Checker::new("seed003_strategies");
    let expected: [(Strategy, [bool; 3]); 3] = [
        (Strategy::OneForOne, [false, true, false]),
        (Strategy::OneForAll, [true, true, true]),
        (Strategy::RestForOne, [false, true, true]),
    ];
    for (strategy, restarted) in expected {
        banner(&format!(":{strategy}"));
        let sup = Supervisor::start_link(
            STAGES.iter().map(|s| stage(s)).collect(),
            SupervisorOpts::new().strategy(strategy),
        )
        .unwrap_or_else(|e| c.fail(&e.to_string()));
        println!(
            "iex> Supervisor.start_link([Producer, Transformer, Consumer], strategy: :{strategy})"
        );
        let before = pids(&sup);
        print!(
            "{}",
            render_tree(sup.pid().unwrap_or_else(|| c.fail("no pid")))
        );
        let transformer = before[1];
        let m = monitor(transformer);
        exit(transformer, ExitReason::custom("bad_record"));
        let _ = receive_match_timeout(Duration::from_secs(5), |d: &Down| d.monitor == m);
        println!("iex> Process.exit(transformer, :bad_record)");
        let after = pids(&sup);
        for (i, name) in STAGES.iter().enumerate() {
            let verdict = if before[i] == after[i] {
                "kept running"
            } else {
                "restarted"
            };
            println!("   {name:<12} {} -> {}  {verdict}", before[i], after[i]);
        }
        let got: Vec<bool> = before.iter().zip(&after).map(|(a, b)| a != b).collect();
        c.check(
            &format!(":{strategy} restarts {}", describe(&restarted)),
            got == restarted && after.len() == 3,
        );
        c.check(
            "every stage that was restarted is a new process, the old one is gone",
            before
                .iter()
                .zip(&after)
                .all(|(a, b)| a == b || !runtime::is_alive(*a)),
        );
        sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    }
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == self_pid()),
    );
    c.finish();
}

fn describe(restarted: &[bool; 3]) -> String {
    let names: Vec<&str> = STAGES
        .iter()
        .zip(restarted)
        .filter(|(_, r)| **r)
        .map(|(n, _)| *n)
        .collect();
    names.join(" and ")
}
