//! Monitors: one-way, independent per call, each fires once, noproc for a dead pid, demonitor
//! and demonitor with flush.
//!
//! Ports the Reference Manual, Processes, "Monitors", and erlang:monitor/2, erlang:demonitor/1,2
//! (otp-semantics.md 1.4).

mod common;

use common::{Note, Probe, down_for, down_queued, r};
use runtime::{
    Down, ExitReason, demonitor, demonitor_flush, exit, monitor, process_info, self_pid, send,
    spawn_monitor,
};

/// Every monitor call is its own monitor, and each fires exactly once.
#[test]
fn monitors_are_independent_and_fire_once() {
    let p = Probe::new();
    let m1 = monitor(p.pid);
    let m2 = monitor(p.pid);
    assert_ne!(m1, m2);
    let info = process_info(p.pid).expect("alive");
    assert_eq!(info.monitored_by, vec![self_pid(), self_pid(), self_pid()]);
    exit(p.pid, r("twice"));
    // exit/2 takes effect at once: both Downs are queued when it returns.
    for m in [m1, m2, p.monitor] {
        let d = down_queued(m).expect("queued Down");
        assert_eq!((d.pid, d.reason), (p.pid, r("twice")));
    }
    // Fired monitors are gone: demonitor finds nothing, no second Down.
    assert!(!demonitor(m1));
    assert!(down_queued(m1).is_none());
    assert!(
        process_info(self_pid())
            .expect("alive")
            .monitors
            .iter()
            .all(|(m, _)| *m != m1)
    );
    common::assert_probes_ended();
}

/// Monitoring a process that is not alive gives an immediate Down with noproc.
#[test]
fn monitor_of_a_dead_pid_is_an_immediate_noproc_down() {
    let p = Probe::new();
    let pid = p.pid;
    p.stop();
    let m = monitor(pid);
    let d = down_queued(m).expect("Down at once");
    assert_eq!(
        d,
        Down {
            monitor: m,
            pid,
            reason: ExitReason::NoProc
        }
    );
    assert!(!demonitor(m));
    common::assert_probes_ended();
}

/// Monitors are one-way: the watcher's death does not touch the watched process, and the
/// watched process's record of the watcher is removed.
#[test]
fn a_monitor_is_one_way() {
    let watched = Probe::new();
    let watcher = Probe::new();
    let w = watched.pid;
    watcher.call(move || monitor(w));
    assert_eq!(process_info(w).expect("alive").monitored_by.len(), 2);
    exit(watcher.pid, r("watcher dies"));
    assert_eq!(watcher.wait_down(), r("watcher dies"));
    let info = process_info(w).expect("the watched process lives on");
    assert_eq!(info.monitored_by, vec![self_pid()]);
    watched.stop();
    common::assert_probes_ended();
}

/// After demonitor returns, no Down for it is placed in the queue.
#[test]
fn demonitor_stops_the_down() {
    let p = Probe::new();
    let m = monitor(p.pid);
    assert!(demonitor(m));
    assert!(!demonitor(m), "a second demonitor finds nothing");
    assert_eq!(
        process_info(p.pid).expect("alive").monitored_by,
        vec![self_pid()]
    );
    exit(p.pid, r("unwatched"));
    // The death procedure has run entirely inside exit(): a Down would be queued by now.
    assert_eq!(p.down_now(), Some(r("unwatched")));
    assert!(down_queued(m).is_none());
    common::assert_probes_ended();
}

/// demonitor (without flush) leaves a Down that is already queued; demonitor_flush removes it
/// (erlang:demonitor/2 with [flush]).
#[test]
fn demonitor_flush_removes_a_queued_down() {
    let p = Probe::new();
    let m1 = monitor(p.pid);
    let m2 = monitor(p.pid);
    exit(p.pid, r("queued"));
    send(self_pid(), "after");
    assert!(!demonitor(m1));
    assert!(
        down_queued(m1).is_some(),
        "plain demonitor keeps the queued Down"
    );
    assert!(!demonitor_flush(m2), "the monitor had already fired");
    assert!(down_queued(m2).is_none(), "flush removed it");
    // Nothing else was removed.
    assert_eq!(p.down_now(), Some(r("queued")));
    assert_eq!(runtime::receive::<&str>(), "after");
    common::assert_probes_ended();
}

/// demonitor_flush on an active monitor: true, and nothing arrives later.
#[test]
fn demonitor_flush_on_an_active_monitor() {
    let p = Probe::new();
    let m = monitor(p.pid);
    assert!(demonitor_flush(m));
    exit(p.pid, ExitReason::Kill);
    assert_eq!(p.down_now(), Some(ExitReason::Killed));
    assert!(down_queued(m).is_none());
    common::assert_probes_ended();
}

/// A probe's own monitors: Down carries the monitored pid and its reason, and arrives in the
/// monitoring process's mailbox (not the test's).
#[test]
fn a_process_gets_down_for_its_own_monitors() {
    let watcher = Probe::new();
    let (pid, m) = watcher.call(|| spawn_monitor(|| runtime::exit_self(r("child reason"))));
    assert_eq!(
        watcher.next_note(),
        Note::Down(Down {
            monitor: m,
            pid,
            reason: r("child reason")
        })
    );
    watcher.stop();
    common::assert_probes_ended();
}

/// spawn_monitor: the monitor exists before the child runs, so an immediately ending child is
/// reported with its own reason, never noproc.
#[test]
fn spawn_monitor_is_atomic() {
    for i in 0..200 {
        let reason = r(&format!("quick {i}"));
        let reason2 = reason.clone();
        let (pid, m) = spawn_monitor(move || runtime::exit_self(reason2));
        let d = down_for(m);
        assert_eq!((d.pid, d.reason), (pid, reason));
    }
    common::assert_probes_ended();
}
