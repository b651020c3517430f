//! The supervisor API and OTP's result for each case.
//!
//! Ported from the API table of `supervisor.erl` (`start_child/2`, `terminate_child/2`,
//! `restart_child/2`, `delete_child/2`, `which_children/1`, `count_children/1`,
//! `get_childspec/2`) and OTP's `supervisor_SUITE` (`sup_start_ignore_child/1`,
//! `sup_start_ignore_temporary_child/1`, `child_adm/1`, `child_specs/1`, `count_children/1`).

mod common;

use std::time::Duration;

use common::*;
use runtime::{CallError, ExitReason, self_pid};
use supervisor::{
    ChildError, ChildPid, ChildSpec, ChildType, Counts, Restart, Shutdown, StartChildError,
    Supervisor, SupervisorOpts,
};

fn sup_with(children: Vec<ChildSpec>) -> Supervisor {
    quiet();
    Supervisor::start_link(children, SupervisorOpts::new()).expect("start")
}

fn ignore(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || -> Result<Option<runtime::Pid>, ExitReason> {
        Ok(None)
    })
}

#[test]
fn start_child_adds_after_the_existing_children_and_returns_the_pid() {
    let me = self_pid();
    let sup = sup_with(vec![worker("a", me)]);
    let a = started("a");
    let b = sup
        .start_child(worker("b", me))
        .expect("start b")
        .expect("a pid");
    assert_eq!(started("b"), b);
    assert_eq!(
        children(&sup),
        [
            ("a".into(), ChildPid::Pid(a)),
            ("b".into(), ChildPid::Pid(b))
        ]
    );
    stop(&sup, &[a, b]);
}

#[test]
fn start_child_with_an_id_in_use_is_already_started_or_already_present() {
    let me = self_pid();
    let sup = sup_with(vec![worker("a", me)]);
    let a = started("a");
    assert_eq!(
        sup.start_child(worker("a", me)),
        Err(StartChildError::AlreadyStarted(a))
    );
    sup.terminate_child("a").expect("terminate");
    assert_eq!(
        sup.start_child(worker("a", me)),
        Err(StartChildError::AlreadyPresent)
    );
    assert!(events_now().is_empty(), "no start was attempted");
    stop(&sup, &[a]);
}

#[test]
fn a_child_whose_start_returns_ignore_is_kept_without_a_pid() {
    // sup_start_ignore_child: {ok, undefined}, the spec stays (which_children shows undefined).
    let sup = sup_with(vec![ignore("at_init")]);
    assert_eq!(sup.start_child(ignore("later")), Ok(None));
    assert_eq!(
        children(&sup),
        [
            ("at_init".into(), ChildPid::Undefined),
            ("later".into(), ChildPid::Undefined)
        ]
    );
    let n = sup.count_children().expect("count");
    assert_eq!((n.specs, n.active), (2, 0));
    assert_eq!(
        sup.start_child(ignore("later")),
        Err(StartChildError::AlreadyPresent)
    );
    stop(&sup, &[]);
}

#[test]
fn a_temporary_child_whose_start_returns_ignore_is_not_kept() {
    // sup_start_ignore_temporary_child.
    let sup = sup_with(vec![ignore("at_init").restart(Restart::Temporary)]);
    assert_eq!(
        sup.start_child(ignore("later").restart(Restart::Temporary)),
        Ok(None)
    );
    assert!(ids(&sup).is_empty());
    stop(&sup, &[]);
}

#[test]
fn terminate_child_keeps_the_spec_and_answers_not_found_for_unknown_ids() {
    let me = self_pid();
    let sup = sup_with(vec![trapping_worker("a", me), worker("b", me)]);
    let pids = started_in_order(&["a", "b"]);
    assert_eq!(sup.terminate_child("a"), Ok(()));
    assert_eq!(next_stopping(), ("a".into(), ExitReason::Shutdown));
    assert_all_dead(&pids[..1]);
    assert_eq!(child(&sup, "a"), ChildPid::Undefined);
    assert_eq!(
        sup.terminate_child("a"),
        Ok(()),
        "a stopped child: ok again"
    );
    assert_eq!(sup.terminate_child("nope"), Err(ChildError::NotFound));
    assert_eq!(ids(&sup), ["a", "b"]);
    stop(&sup, &pids[1..]);
}

#[test]
fn terminate_child_of_a_temporary_child_drops_its_spec() {
    let me = self_pid();
    let sup = sup_with(vec![worker("t", me).restart(Restart::Temporary)]);
    let t = started("t");
    assert_eq!(sup.terminate_child("t"), Ok(()));
    assert!(ids(&sup).is_empty());
    assert_eq!(sup.terminate_child("t"), Err(ChildError::NotFound));
    stop(&sup, &[t]);
}

#[test]
fn restart_child_results() {
    let me = self_pid();
    let sup = sup_with(vec![worker("a", me)]);
    let a = started("a");
    assert_eq!(sup.restart_child("a"), Err(ChildError::Running));
    assert_eq!(sup.restart_child("nope"), Err(ChildError::NotFound));
    sup.terminate_child("a").expect("terminate");
    let a2 = sup.restart_child("a").expect("restart").expect("a pid");
    assert_eq!(started("a"), a2);
    assert_ne!(a, a2);
    assert_eq!(child(&sup, "a"), ChildPid::Pid(a2));
    stop(&sup, &[a, a2]);
}

#[test]
fn delete_child_results() {
    let me = self_pid();
    let sup = sup_with(vec![worker("a", me), worker("b", me)]);
    let pids = started_in_order(&["a", "b"]);
    assert_eq!(sup.delete_child("a"), Err(ChildError::Running));
    sup.terminate_child("a").expect("terminate");
    assert_eq!(sup.delete_child("a"), Ok(()));
    assert_eq!(ids(&sup), ["b"]);
    assert_eq!(sup.delete_child("a"), Err(ChildError::NotFound));
    assert_eq!(sup.restart_child("a"), Err(ChildError::NotFound));
    // The id is free again.
    let a = sup
        .start_child(worker("a", me))
        .expect("start")
        .expect("pid");
    assert_eq!(ids(&sup), ["b", "a"]);
    stop(&sup, &[pids[0], pids[1], a]);
}

#[test]
fn count_children_counts_specs_running_children_and_kinds() {
    let me = self_pid();
    let nested = Supervisor::child_spec("nested", vec![], SupervisorOpts::new());
    let sup = sup_with(vec![worker("a", me), worker("b", me), nested, ignore("i")]);
    let pids = started_in_order(&["a", "b"]);
    assert_eq!(
        sup.count_children().expect("count"),
        Counts {
            specs: 4,
            active: 3,
            supervisors: 1,
            workers: 3
        }
    );
    sup.terminate_child("b").expect("terminate");
    assert_eq!(sup.count_children().expect("count").active, 2);
    stop(&sup, &pids);
}

#[test]
fn get_childspec_returns_the_spec_with_its_defaults() {
    let me = self_pid();
    let nested = Supervisor::child_spec("nested", vec![], SupervisorOpts::new());
    let sup = sup_with(vec![
        worker("w", me),
        nested,
        worker("t", me)
            .restart(Restart::Transient)
            .shutdown(Shutdown::BrutalKill),
    ]);
    let pids = started_in_order(&["w", "t"]);
    let w = sup.get_childspec("w").expect("spec of w");
    assert_eq!(w.id(), "w");
    assert_eq!(w.restart_type(), Restart::Permanent);
    assert_eq!(w.shutdown_type(), Shutdown::Timeout(Duration::from_secs(5)));
    assert_eq!(w.child_type(), ChildType::Worker);
    let n = sup.get_childspec("nested").expect("spec of nested");
    assert_eq!(
        n.shutdown_type(),
        Shutdown::Infinity,
        "supervisors default to infinity"
    );
    assert_eq!(n.child_type(), ChildType::Supervisor);
    let t = sup.get_childspec("t").expect("spec of t");
    assert_eq!(t.restart_type(), Restart::Transient);
    assert_eq!(t.shutdown_type(), Shutdown::BrutalKill);
    assert!(sup.get_childspec("nope").is_err());
    assert_eq!(sup.get_childspec("nope").err(), Some(ChildError::NotFound));
    stop(&sup, &pids);
}

#[test]
fn which_children_lists_children_in_start_order_with_kind_and_restart() {
    let me = self_pid();
    let nested = Supervisor::child_spec("nested", vec![], SupervisorOpts::new());
    let sup = sup_with(vec![
        worker("w", me),
        nested,
        worker("t", me).restart(Restart::Temporary),
    ]);
    let pids = started_in_order(&["w", "t"]);
    let rows = sup.which_children().expect("which_children");
    let shape: Vec<_> = rows
        .iter()
        .map(|c| (c.id.clone().unwrap_or_default(), c.kind, c.restart))
        .collect();
    assert_eq!(
        shape,
        [
            ("w".into(), ChildType::Worker, Restart::Permanent),
            ("nested".into(), ChildType::Supervisor, Restart::Permanent),
            ("t".into(), ChildType::Worker, Restart::Temporary),
        ]
    );
    assert_eq!(rows[0].pid, ChildPid::Pid(pids[0]));
    assert_eq!(rows[2].pid, ChildPid::Pid(pids[1]));
    stop(&sup, &pids);
}

#[test]
fn requests_to_a_stopped_supervisor_fail_with_noproc() {
    let sup = sup_with(vec![]);
    sup.stop().expect("stop");
    assert_eq!(sup.which_children(), Err(CallError::NoProc));
    assert_eq!(
        sup.terminate_child("a"),
        Err(ChildError::Supervisor(CallError::NoProc))
    );
    assert_eq!(
        sup.start_child(ignore("a")),
        Err(StartChildError::Supervisor(CallError::NoProc))
    );
}

#[test]
fn a_named_supervisor_is_reached_by_name() {
    quiet();
    let sup = Supervisor::start_link(vec![], SupervisorOpts::new().name("api_results_named"))
        .expect("start");
    assert_eq!(runtime::whereis("api_results_named"), sup.pid());
    let by_name = Supervisor::named("api_results_named");
    assert_eq!(by_name.count_children().expect("count").specs, 0);
    runtime::trap_exit(true);
    assert!(matches!(
        Supervisor::start_link(vec![], SupervisorOpts::new().name("api_results_named")),
        Err(supervisor::SupervisorError::AlreadyStarted(p)) if Some(p) == sup.pid()
    ));
    stop(&sup, &[]);
    assert_eq!(runtime::whereis("api_results_named"), None);
}
