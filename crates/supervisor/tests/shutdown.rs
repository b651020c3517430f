//! Shutdown: order, protocol and timeouts.
//!
//! Ported from `supervisor.erl`'s `shutdown/2` and `terminate_children/2` and OTP's
//! `supervisor_SUITE` (`sup_stop_infinity/1`, `sup_stop_timeout/1`, `sup_stop_brutal_kill/1`,
//! `child_unlink/1`): children stop in reverse start order; each is monitored, sent
//! `shutdown` and waited for; one still running when its shutdown time runs out is killed;
//! `brutal_kill` kills at once; `infinity` waits as long as it takes; waiting on the monitor,
//! not the link, means a child that unlinked itself cannot hang its supervisor.

mod common;

use std::time::Duration;

use common::*;
use runtime::{
    Down, ExitReason, Pid, SpawnOpts, monitor, receive_match_timeout, receive_timeout, self_pid,
    send, spawn,
};
use supervisor::{ChildSpec, Shutdown, Supervisor, SupervisorOpts};

#[test]
fn children_stop_in_reverse_start_order() {
    quiet();
    let me = self_pid();
    let ids = ["a", "b", "c", "d"];
    let sup = Supervisor::start_link(
        ids.iter().map(|id| trapping_worker(id, me)).collect(),
        SupervisorOpts::new(),
    )
    .expect("start");
    let pids = started_in_order(&ids);
    stop(&sup, &pids);
    let order: Vec<_> = (0..4).map(|_| next_stopping()).collect();
    let expect: Vec<_> = ["d", "c", "b", "a"]
        .iter()
        .map(|id| (id.to_string(), ExitReason::Shutdown))
        .collect();
    assert_eq!(order, expect);
}

#[test]
fn a_child_that_ignores_shutdown_is_killed_after_its_timeout() {
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(
        vec![trapping_worker("stubborn", me).shutdown(Shutdown::Timeout(STUBBORN_TIMEOUT))],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pid = started("stubborn");
    send(pid, Cmd::Stubborn);
    let m = monitor(pid);
    sup.stop().expect("stop");
    // It was asked first, then killed.
    assert_eq!(next_stopping(), ("stubborn".into(), ExitReason::Shutdown));
    let d = receive_match_timeout(WAIT, |d: &Down| d.monitor == m).expect("Down");
    assert_eq!(d.reason, ExitReason::Killed);
}

#[test]
fn terminate_child_uses_the_same_protocol() {
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(
        vec![trapping_worker("stubborn", me).shutdown(Shutdown::Timeout(STUBBORN_TIMEOUT))],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pid = started("stubborn");
    send(pid, Cmd::Stubborn);
    let m = monitor(pid);
    sup.terminate_child("stubborn").expect("terminate");
    let d = receive_match_timeout(Duration::ZERO, |d: &Down| d.monitor == m)
        .expect("the child is dead when terminate_child returns");
    assert_eq!(d.reason, ExitReason::Killed);
    assert_eq!(next_stopping(), ("stubborn".into(), ExitReason::Shutdown));
    stop(&sup, &[]);
}

#[test]
fn brutal_kill_kills_without_asking() {
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(
        vec![trapping_worker("victim", me).shutdown(Shutdown::BrutalKill)],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pid = started("victim");
    let m = monitor(pid);
    sup.stop().expect("stop");
    let d = receive_match_timeout(Duration::ZERO, |d: &Down| d.monitor == m).expect("Down");
    assert_eq!(d.reason, ExitReason::Killed);
    assert!(
        events_now().is_empty(),
        "a trapping child got no shutdown signal first"
    );
}

/// Released by the test: a child that takes as long as the test wants to stop.
struct Go;

#[test]
fn infinity_waits_as_long_as_the_child_takes() {
    quiet();
    let me = self_pid();
    // On shutdown the child reports, then waits for Go before it exits.
    let slow = ChildSpec::worker("slow", move || {
        SpawnOpts::new()
            .link()
            .trap_exit()
            .spawn(move || {
                let e: runtime::Exit = runtime::receive();
                send(me, Ev::Stopping("slow".into(), e.reason.clone()));
                let Go = runtime::receive();
                runtime::exit_self(e.reason);
            })
            .map(|s| s.pid)
            .map_err(|e| ExitReason::custom(e.to_string()))
    })
    .shutdown(Shutdown::Infinity);
    let sup = Supervisor::start_link(vec![slow], SupervisorOpts::new()).expect("start");
    let child = child_pid(&sup, "slow");
    // Stop the supervisor from another process, which reports when stop returns.
    struct Stopped;
    let s = sup.clone();
    let stopper = spawn(move || {
        s.stop().expect("stop");
        send(me, Stopped);
    });
    assert_eq!(next_stopping(), ("slow".into(), ExitReason::Shutdown));
    assert!(
        receive_timeout::<Stopped>(Duration::from_millis(100)).is_none(),
        "stop returned while the child was still stopping"
    );
    assert!(runtime::is_alive(child));
    send(child, Go);
    let Stopped = runtime::receive();
    assert_all_dead(&[child]);
    wait_all_end(&[stopper]);
}

#[test]
fn a_child_that_unlinked_itself_cannot_hang_its_supervisor() {
    // child_unlink: shutdown waits on a monitor, not on the link.
    quiet();
    let me = self_pid();
    let spec = ChildSpec::worker("unlinked", move || {
        let sup = self_pid();
        let pid = SpawnOpts::new()
            .link()
            .spawn(move || {
                runtime::unlink(sup);
                send(me, "unlinked");
                let _: () = runtime::receive();
            })
            .map(|s| s.pid)
            .map_err(|e| ExitReason::custom(e.to_string()))?;
        Ok::<Pid, ExitReason>(pid)
    })
    .shutdown(Shutdown::Timeout(Duration::from_secs(60)));
    let sup = Supervisor::start_link(vec![spec], SupervisorOpts::new()).expect("start");
    let child = child_pid(&sup, "unlinked");
    let _: &str = runtime::receive();
    let m = monitor(child);
    sup.stop().expect("stop");
    let d = receive_match_timeout(Duration::ZERO, |d: &Down| d.monitor == m).expect("Down");
    assert_eq!(d.reason, ExitReason::Shutdown);
}

#[test]
fn a_supervisor_stopped_by_its_parent_stops_its_children_first_in_reverse_order() {
    quiet();
    let me = self_pid();
    let nested = Supervisor::child_spec(
        "nested",
        vec![trapping_worker("x", me), trapping_worker("y", me)],
        SupervisorOpts::new(),
    );
    let sup = Supervisor::start_link(
        vec![trapping_worker("a", me), nested, trapping_worker("b", me)],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pids = started_in_order(&["a", "x", "y", "b"]);
    let nested_pid = child_pid(&sup, "nested");
    stop(&sup, &pids);
    let order: Vec<String> = (0..4).map(|_| next_stopping().0).collect();
    assert_eq!(order, ["b", "y", "x", "a"]);
    assert_all_dead(&[nested_pid]);
}

#[test]
fn a_supervisor_linked_to_an_ending_parent_stops_its_children() {
    // The supervisor traps exits; its parent's exit signal ends it through terminate, which
    // stops the children (gen_server's handling of the parent's EXIT).
    quiet();
    let me = self_pid();
    struct SupIs(Pid);
    let parent = spawn(move || {
        let sup = Supervisor::start_link(vec![trapping_worker("c", me)], SupervisorOpts::new())
            .expect("start");
        send(me, SupIs(sup.pid().expect("running")));
        runtime::exit_self(ExitReason::custom("the parent crashed"));
    });
    let SupIs(sup) = runtime::receive();
    let c = started("c");
    assert_eq!(next_stopping(), ("c".into(), ExitReason::Shutdown));
    wait_all_end(&[parent, sup, c]);
}
