//! Restart types: permanent, transient and temporary.
//!
//! Ported from OTP's `supervisor_SUITE` (`permanent_normal/1`, `transient_normal/1`,
//! `temporary_normal/1`, `permanent_shutdown/1`, `transient_shutdown/1`,
//! `temporary_shutdown/1`, `temporary_bystander/1`) and the child spec table of
//! `supervisor.erl`: a permanent child is always restarted, a transient one only after an
//! abnormal exit (not `normal`, `shutdown` or `{shutdown, _}`), a temporary one never, even
//! under one_for_all or rest_for_one, and its spec is dropped when it exits.

mod common;

use common::*;
use runtime::{ExitReason, Pid, self_pid};
use supervisor::{ChildError, ChildPid, Restart, Strategy, Supervisor, SupervisorOpts};

fn one(restart: Restart) -> (Supervisor, Pid) {
    quiet();
    let spec = worker("child", self_pid()).restart(restart);
    let sup =
        Supervisor::start_link(vec![spec], SupervisorOpts::new().max_restarts(100)).expect("start");
    (sup, started("child"))
}

fn clean_reasons() -> Vec<ExitReason> {
    vec![
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::shutdown_with("done"),
    ]
}

fn abnormal_reasons() -> Vec<ExitReason> {
    vec![ExitReason::custom("boom"), ExitReason::Panic("oops".into())]
}

#[test]
fn permanent_is_restarted_whatever_the_reason() {
    let (sup, mut pid) = one(Restart::Permanent);
    for reason in clean_reasons().into_iter().chain(abnormal_reasons()) {
        crash(pid, reason.clone());
        let new = started("child");
        assert_ne!(new, pid, "restarted after {reason}");
        assert_eq!(child_pid(&sup, "child"), new);
        pid = new;
    }
    kill(pid);
    let new = started("child");
    stop(&sup, &[new]);
}

#[test]
fn transient_is_restarted_only_after_an_abnormal_exit() {
    let (sup, mut pid) = one(Restart::Transient);
    for reason in abnormal_reasons() {
        crash(pid, reason.clone());
        pid = started("child");
        assert_eq!(child_pid(&sup, "child"), pid, "restarted after {reason}");
    }
    kill(pid); // killed is abnormal
    pid = started("child");
    for reason in clean_reasons() {
        crash(pid, reason.clone());
        assert_eq!(
            child(&sup, "child"),
            ChildPid::Undefined,
            "not restarted after {reason}, spec kept"
        );
        assert!(events_now().is_empty());
        assert!(sup.get_childspec("child").is_ok());
        pid = sup
            .restart_child("child")
            .expect("restart_child")
            .expect("a pid");
        assert_eq!(started("child"), pid);
    }
    stop(&sup, &[pid]);
}

#[test]
fn temporary_is_never_restarted_and_its_spec_is_dropped() {
    for reason in clean_reasons()
        .into_iter()
        .chain(abnormal_reasons())
        .chain([ExitReason::Kill])
    {
        let (sup, pid) = one(Restart::Temporary);
        if reason == ExitReason::Kill {
            kill(pid);
        } else {
            crash(pid, reason.clone());
        }
        assert!(ids(&sup).is_empty(), "spec dropped after {reason}");
        assert_eq!(sup.get_childspec("child").err(), Some(ChildError::NotFound));
        assert_eq!(sup.restart_child("child"), Err(ChildError::NotFound));
        assert!(events_now().is_empty(), "not restarted after {reason}");
        stop(&sup, &[]);
    }
}

fn temporary_bystander(strategy: Strategy) {
    quiet();
    let me = self_pid();
    let specs = vec![
        worker("perm", me),
        trapping_worker("temp", me).restart(Restart::Temporary),
        worker("last", me),
    ];
    let sup =
        Supervisor::start_link(specs, SupervisorOpts::new().strategy(strategy)).expect("start");
    let pids = started_in_order(&["perm", "temp", "last"]);
    crash(pids[0], ExitReason::custom("boom"));
    // The temporary child was stopped as part of the restart, and not started again.
    let now_ids = ids(&sup); // answered once the restart is done
    let events = events_now();
    assert!(
        events.contains(&Ev::Stopping("temp".into(), ExitReason::Shutdown)),
        "{strategy}: {events:?}"
    );
    let restarted: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Ev::Started(id, _) => Some(id.as_str()),
            Ev::Stopping(..) => None,
        })
        .collect();
    assert_eq!(restarted, ["perm", "last"], "{strategy}");
    assert_eq!(
        now_ids,
        ["perm", "last"],
        "{strategy}: temporary spec dropped"
    );
    assert_all_dead(&pids);
    let now = [child_pid(&sup, "perm"), child_pid(&sup, "last")];
    stop(&sup, &now);
}

#[test]
fn temporary_bystander_is_not_restarted_under_one_for_all() {
    temporary_bystander(Strategy::OneForAll);
}

#[test]
fn temporary_bystander_is_not_restarted_under_rest_for_one() {
    temporary_bystander(Strategy::RestForOne);
}

#[test]
fn transient_bystander_is_restarted_under_one_for_all() {
    // A transient child stopped by its supervisor's strategy is started again with the rest:
    // the restart is the supervisor's decision, not the child's exit.
    quiet();
    let me = self_pid();
    let specs = vec![worker("a", me), worker("t", me).restart(Restart::Transient)];
    let sup = Supervisor::start_link(specs, SupervisorOpts::new().strategy(Strategy::OneForAll))
        .expect("start");
    let pids = started_in_order(&["a", "t"]);
    crash(pids[0], ExitReason::custom("boom"));
    let now = started_in_order(&["a", "t"]);
    assert_eq!(child_pid(&sup, "t"), now[1]);
    stop(&sup, &now);
}
