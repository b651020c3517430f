//! Bad input: typed errors, and the supervisor keeps running.
//!
//! Ported from OTP's `supervisor_SUITE` (`sup_start_fail/1`, `child_adm/1`,
//! `child_specs/1`, `sup_flags/1`) and `supervisor.erl`'s spec checks: duplicate ids give
//! `{duplicate_child_name, Id}`, a start that fails gives `{error, Reason}` and adds nothing,
//! unknown ids give `not_found`, a running child cannot be restarted or deleted, and a
//! significant child cannot be permanent.

mod common;

use common::*;
use runtime::{ExitReason, Pid, self_pid, trap_exit};
use supervisor::{
    AutoShutdown, ChildError, ChildSpec, Restart, StartChildError, Supervisor, SupervisorError,
    SupervisorOpts,
};

fn panicking(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || -> Pid { panic!("the start closure panicked") })
}

fn failing(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || -> Result<Pid, ExitReason> {
        Err(ExitReason::custom("no database"))
    })
}

/// The supervisor still answers, with exactly these children.
fn still_running(sup: &Supervisor, expect: &[&str]) {
    assert!(sup.pid().is_some_and(runtime::is_alive));
    assert_eq!(ids(sup), expect);
}

#[test]
fn duplicate_child_ids_are_rejected_before_anything_starts() {
    quiet();
    trap_exit(true);
    let me = self_pid();
    let r = Supervisor::start_link(
        vec![worker("a", me), worker("b", me), worker("a", me)],
        SupervisorOpts::new(),
    );
    match r {
        Err(SupervisorError::InvalidSpec(m)) => assert!(m.contains("duplicate"), "{m}"),
        other => panic!("expected InvalidSpec, got {other:?}"),
    }
    assert!(events_now().is_empty(), "no child was started");
}

#[test]
fn a_start_closure_that_panics_makes_start_child_fail_and_nothing_is_added() {
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(vec![worker("a", me)], SupervisorOpts::new()).expect("start");
    let a = started("a");
    match sup.start_child(panicking("p")) {
        Err(StartChildError::Failed(ExitReason::Panic(m))) => {
            assert!(m.contains("panicked"), "{m}")
        }
        other => panic!("expected Failed(Panic), got {other:?}"),
    }
    still_running(&sup, &["a"]);
    assert_eq!(child_pid(&sup, "a"), a);
    stop(&sup, &[a]);
}

#[test]
fn a_start_closure_that_returns_an_error_makes_start_child_fail() {
    quiet();
    let sup = Supervisor::start_link(vec![], SupervisorOpts::new()).expect("start");
    assert_eq!(
        sup.start_child(failing("f")),
        Err(StartChildError::Failed(ExitReason::custom("no database")))
    );
    still_running(&sup, &[]);
    // The id was not taken by the failed start.
    assert!(sup.start_child(worker("f", self_pid())).is_ok());
    let f = started("f");
    stop(&sup, &[f]);
}

#[test]
fn start_link_with_a_panicking_child_fails_with_its_id_and_reason() {
    quiet();
    trap_exit(true);
    match Supervisor::start_link(vec![panicking("p")], SupervisorOpts::new()) {
        Err(SupervisorError::FailedToStartChild { id, reason }) => {
            assert_eq!(id, "p");
            assert!(matches!(reason, ExitReason::Panic(_)), "{reason}");
        }
        other => panic!("expected FailedToStartChild, got {other:?}"),
    }
}

#[test]
fn unknown_ids_are_not_found() {
    quiet();
    let sup = Supervisor::start_link(vec![], SupervisorOpts::new()).expect("start");
    assert_eq!(sup.terminate_child("ghost"), Err(ChildError::NotFound));
    assert_eq!(sup.restart_child("ghost"), Err(ChildError::NotFound));
    assert_eq!(sup.delete_child("ghost"), Err(ChildError::NotFound));
    assert_eq!(sup.get_childspec("ghost").err(), Some(ChildError::NotFound));
    still_running(&sup, &[]);
    stop(&sup, &[]);
}

#[test]
fn restart_or_delete_of_a_running_child_is_refused() {
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(vec![worker("a", me)], SupervisorOpts::new()).expect("start");
    let a = started("a");
    assert_eq!(sup.restart_child("a"), Err(ChildError::Running));
    assert_eq!(sup.delete_child("a"), Err(ChildError::Running));
    assert_eq!(child_pid(&sup, "a"), a, "the child was left alone");
    assert!(events_now().is_empty());
    stop(&sup, &[a]);
}

#[test]
fn restart_child_whose_start_fails_reports_the_reason_and_leaves_it_stopped() {
    quiet();
    let sup = Supervisor::start_link(vec![], SupervisorOpts::new()).expect("start");
    // Starts once, then fails: the first start_child works, a later restart_child does not.
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let me = self_pid();
    let spec = ChildSpec::worker("flaky", move || {
        if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            start_worker("flaky", me, false)
        } else {
            Err(ExitReason::custom("cannot start twice"))
        }
    });
    let pid = sup.start_child(spec).expect("first start").expect("pid");
    sup.terminate_child("flaky").expect("terminate");
    assert_eq!(
        sup.restart_child("flaky"),
        Err(ChildError::StartFailed(ExitReason::custom(
            "cannot start twice"
        )))
    );
    assert_eq!(child(&sup, "flaky"), supervisor::ChildPid::Undefined);
    still_running(&sup, &["flaky"]);
    stop(&sup, &[pid]);
}

#[test]
fn invalid_significant_specs_are_rejected() {
    quiet();
    trap_exit(true);
    let me = self_pid();
    // A significant child cannot be permanent...
    let r = Supervisor::start_link(
        vec![worker("a", me).significant(true)],
        SupervisorOpts::new().auto_shutdown(AutoShutdown::AnySignificant),
    );
    assert!(matches!(r, Err(SupervisorError::InvalidSpec(_))), "{r:?}");
    // ...and needs auto_shutdown.
    let r = Supervisor::start_link(
        vec![
            worker("a", me)
                .restart(Restart::Transient)
                .significant(true),
        ],
        SupervisorOpts::new(),
    );
    assert!(matches!(r, Err(SupervisorError::InvalidSpec(_))), "{r:?}");
    assert!(events_now().is_empty());
    // The same checks apply to start_child, and the supervisor keeps running.
    let sup = Supervisor::start_link(vec![], SupervisorOpts::new()).expect("start");
    assert!(matches!(
        sup.start_child(
            worker("a", me)
                .restart(Restart::Transient)
                .significant(true)
        ),
        Err(StartChildError::InvalidSpec(_))
    ));
    still_running(&sup, &[]);
    stop(&sup, &[]);
}
