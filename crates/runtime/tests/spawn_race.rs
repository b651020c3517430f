//! Spawning under fire: another process kills every process it finds in `processes()` while
//! the test spawns linked children. spawn_link is atomic (Reference Manual, Processes,
//! "Links"): a child killed at any moment, even before spawn_link has returned, is reported
//! to its trapping parent by exactly one Exit.
//!
//! This file is its own test binary on purpose: the killer would kill other tests' processes.
//! For the same reason its tests take turns (cargo test runs them on threads of one process).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use common::{WAIT, assert_all_end};
use runtime::{
    Exit, ExitReason, Pid, RegisterError, SpawnError, SpawnOpts, exit, processes, receive,
    receive_match_timeout, self_pid, spawn_monitor, trap_exit,
};

static SWEEP: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    SWEEP.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn spawn_link_while_a_killer_sweeps_the_process_table() {
    let _turn = turn();
    let me = self_pid();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let (killer, km) = spawn_monitor(move || {
        let spared: HashSet<Pid> = [me, self_pid()].into_iter().collect();
        while !stop2.load(Ordering::Acquire) {
            for p in processes() {
                if !spared.contains(&p) {
                    exit(p, ExitReason::Kill);
                }
            }
        }
    });
    trap_exit(true);
    let mut children = Vec::new();
    for round in 0..3000 {
        // Half the children are named: registering widens the moment between the child's
        // creation and its link.
        let opts = if round % 2 == 0 {
            SpawnOpts::new().link().name("spawn_race::child")
        } else {
            SpawnOpts::new().link()
        };
        let child = match opts.spawn(|| {
            let _: () = receive();
        }) {
            Ok(s) => s.pid,
            // Killed before it could take its name: the spawn fails, nothing is linked.
            Err(SpawnError::Register(RegisterError::NoProc(_))) => continue,
            Err(e) => panic!("round {round}: {e}"),
        };
        // Whoever kills it, the link reports it once.
        exit(child, ExitReason::Kill);
        let e = receive_match_timeout::<Exit>(WAIT, |e| e.from == child);
        let e = e.unwrap_or_else(|| panic!("round {round}: the link never fired"));
        assert_eq!(e.reason, ExitReason::Killed, "round {round}");
        children.push(child);
    }
    trap_exit(false);
    stop.store(true, Ordering::Release);
    assert_eq!(common::down_for(km).reason, ExitReason::Normal);
    assert!(runtime::process_info(me).expect("me").links.is_empty());
    children.push(killer);
    assert_all_end(&children);
}

/// The same for spawn_monitor: the Down of a child killed at any moment carries its real
/// reason, never noproc (the monitor exists from the child's creation, as in OTP).
#[test]
fn spawn_monitor_while_a_killer_sweeps_the_process_table() {
    let _turn = turn();
    let me = self_pid();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let (killer, km) = spawn_monitor(move || {
        let spared: HashSet<Pid> = [me, self_pid()].into_iter().collect();
        while !stop2.load(Ordering::Acquire) {
            for p in processes() {
                if !spared.contains(&p) {
                    exit(p, ExitReason::Kill);
                }
            }
        }
    });
    let mut children = Vec::new();
    for round in 0..3000 {
        let opts = if round % 2 == 0 {
            SpawnOpts::new().monitor().name("spawn_race::watched")
        } else {
            SpawnOpts::new().monitor()
        };
        let s = match opts.spawn(|| {
            let _: () = receive();
        }) {
            Ok(s) => s,
            Err(SpawnError::Register(RegisterError::NoProc(_))) => continue,
            Err(e) => panic!("round {round}: {e}"),
        };
        exit(s.pid, ExitReason::Kill);
        let d = common::down_for(s.monitor.expect("monitor"));
        assert_eq!(d.reason, ExitReason::Killed, "round {round}");
        children.push(s.pid);
    }
    stop.store(true, Ordering::Release);
    assert_eq!(common::down_for(km).reason, ExitReason::Normal);
    assert!(runtime::process_info(me).expect("me").monitors.is_empty());
    children.push(killer);
    assert_all_end(&children);
}

/// A process killed while it spawns named children leaves no half-made child behind (found by
/// the supervisor's chaos test: the child stayed in the process table for ever).
#[test]
fn a_process_killed_while_spawning_a_named_child_leaves_no_process_behind() {
    let _turn = turn();
    let me = runtime::self_pid();
    let mut spawners = Vec::new();
    for round in 0..100 {
        let spawner = runtime::spawn(move || {
            for i in 0u64.. {
                let _ = runtime::SpawnOpts::new()
                    .name(format!("named_race_{round}_{i}"))
                    .spawn(|| {});
            }
        });
        for _ in 0..50 {
            std::thread::yield_now();
        }
        runtime::exit(spawner, runtime::ExitReason::Kill);
        spawners.push(spawner);
    }
    // Children that did start end by themselves; wait (bounded) for the table to settle.
    let strays = || -> Vec<runtime::Pid> {
        runtime::processes()
            .into_iter()
            .filter(|p| *p != me && !runtime::process_info(*p).is_some_and(|i| i.adopted))
            .collect()
    };
    let mut left = strays();
    for _ in 0..100_000 {
        if left.is_empty() {
            break;
        }
        std::thread::yield_now();
        left = strays();
    }
    assert!(
        left.is_empty(),
        "{} processes left: {:?}",
        left.len(),
        left.first().and_then(|p| runtime::process_info(*p))
    );
}
