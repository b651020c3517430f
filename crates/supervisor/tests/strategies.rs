//! The three restart strategies.
//!
//! Ported from OTP's `supervisor_SUITE` (`one_for_one/1`, `one_for_all/1`, `rest_for_one/1`)
//! and the strategy descriptions of `supervisor.erl`'s moduledoc and Elixir's `Supervisor`
//! docs: one_for_one restarts only the child that exited; one_for_all stops the others in
//! reverse start order and restarts all in start order; rest_for_one does that for the child
//! and the ones started after it.

mod common;

use common::*;
use runtime::{ExitReason, self_pid};
use supervisor::{Strategy, Supervisor, SupervisorOpts};

fn start(strategy: Strategy, ids: &[&str]) -> (Supervisor, Vec<runtime::Pid>) {
    quiet();
    let me = self_pid();
    let specs = ids.iter().map(|id| trapping_worker(id, me)).collect();
    let sup = Supervisor::start_link(specs, SupervisorOpts::new().strategy(strategy))
        .expect("start the supervisor");
    let pids = started_in_order(ids);
    (sup, pids)
}

/// Events after a restart: the `Stopping` ids in order, then the `Started` ids in order.
fn split(events: Vec<Ev>) -> (Vec<String>, Vec<String>) {
    let mut stopping = Vec::new();
    let mut starting = Vec::new();
    for e in events {
        match e {
            Ev::Stopping(id, r) => {
                assert!(starting.is_empty(), "{id} stopped after a restart began");
                assert_eq!(r, ExitReason::Shutdown, "{id} was stopped with shutdown");
                stopping.push(id);
            }
            Ev::Started(id, _) => starting.push(id),
        }
    }
    (stopping, starting)
}

#[test]
fn one_for_one_restarts_only_the_child_that_exited() {
    let (sup, pids) = start(Strategy::OneForOne, &["a", "b", "c"]);
    crash(pids[1], ExitReason::custom("boom"));
    let after = children(&sup); // handled after the restart
    let (stopping, starting) = split(events_now());
    assert!(stopping.is_empty());
    assert_eq!(starting, ["b"]);
    assert_eq!(child_pid(&sup, "a"), pids[0]);
    assert_eq!(child_pid(&sup, "c"), pids[2]);
    assert_ne!(child_pid(&sup, "b"), pids[1]);
    assert_eq!(after.len(), 3);
    let now: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| child_pid(&sup, id))
        .collect();
    stop(&sup, &now);
}

#[test]
fn one_for_all_stops_the_others_in_reverse_order_and_restarts_all_in_order() {
    let (sup, pids) = start(Strategy::OneForAll, &["a", "b", "c", "d"]);
    crash(pids[1], ExitReason::custom("boom"));
    let now: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| child_pid(&sup, id))
        .collect();
    let (stopping, starting) = split(events_now());
    assert_eq!(stopping, ["d", "c", "a"]);
    assert_eq!(starting, ["a", "b", "c", "d"]);
    for (old, new) in pids.iter().zip(&now) {
        assert_ne!(old, new, "every child is a new process");
    }
    assert_all_dead(&pids);
    stop(&sup, &now);
}

#[test]
fn one_for_all_after_the_first_child_exits() {
    let (sup, pids) = start(Strategy::OneForAll, &["a", "b", "c"]);
    runtime::exit(pids[0], ExitReason::Kill);
    assert_eq!(wait_down(pids[0]), ExitReason::NoProc);
    let now: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| child_pid(&sup, id))
        .collect();
    let (stopping, starting) = split(events_now());
    assert_eq!(stopping, ["c", "b"]);
    assert_eq!(starting, ["a", "b", "c"]);
    stop(&sup, &now);
}

#[test]
fn rest_for_one_restarts_the_child_and_the_ones_started_after_it() {
    let (sup, pids) = start(Strategy::RestForOne, &["a", "b", "c", "d"]);
    crash(pids[1], ExitReason::custom("boom"));
    let now: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| child_pid(&sup, id))
        .collect();
    let (stopping, starting) = split(events_now());
    assert_eq!(stopping, ["d", "c"]);
    assert_eq!(starting, ["b", "c", "d"]);
    assert_eq!(
        now[0], pids[0],
        "a child started before the failed one keeps running"
    );
    for i in 1..4 {
        assert_ne!(now[i], pids[i]);
    }
    stop(&sup, &now);
}

#[test]
fn rest_for_one_when_the_last_child_exits_restarts_only_it() {
    let (sup, pids) = start(Strategy::RestForOne, &["a", "b", "c"]);
    crash(pids[2], ExitReason::custom("boom"));
    let now: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| child_pid(&sup, id))
        .collect();
    let (stopping, starting) = split(events_now());
    assert!(stopping.is_empty());
    assert_eq!(starting, ["c"]);
    assert_eq!(&now[..2], &pids[..2]);
    stop(&sup, &now);
}

#[test]
fn a_child_stopped_with_terminate_child_is_started_again_by_one_for_all() {
    // supervisor.erl's restart(one_for_all, ...) terminates and then starts every child in the
    // list, including one whose pid is undefined after terminate_child.
    let (sup, pids) = start(Strategy::OneForAll, &["a", "b", "c"]);
    sup.terminate_child("c").expect("terminate c");
    assert_eq!(next_stopping(), ("c".to_owned(), ExitReason::Shutdown));
    assert_eq!(child(&sup, "c"), supervisor::ChildPid::Undefined);
    crash(pids[0], ExitReason::custom("boom"));
    let now: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| child_pid(&sup, id))
        .collect();
    let (stopping, starting) = split(events_now());
    assert_eq!(stopping, ["b"]);
    assert_eq!(starting, ["a", "b", "c"]);
    stop(&sup, &now);
}

#[test]
fn exits_from_processes_that_are_not_children_are_ignored() {
    // supervisor.erl: handle_info({'EXIT', Pid, Reason}) for a pid that is not a child does
    // nothing.
    let (sup, pids) = start(Strategy::OneForAll, &["a", "b"]);
    let sup_pid = sup.pid().expect("running");
    let stranger = runtime::spawn(move || {
        runtime::link(sup_pid).expect("link to the supervisor");
        runtime::exit_self(ExitReason::custom("a stranger crashed"));
    });
    let _ = wait_down(stranger);
    assert_eq!(child_pid(&sup, "a"), pids[0]);
    assert_eq!(child_pid(&sup, "b"), pids[1]);
    assert!(events_now().is_empty(), "nothing was stopped or started");
    stop(&sup, &pids);
}
