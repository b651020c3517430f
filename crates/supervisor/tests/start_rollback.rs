//! Start rollback: a child that fails to start during the supervisor's start.
//!
//! Ported from `supervisor.erl`'s `start_link/3` docs and `init_children/2`, and OTP's
//! `supervisor_SUITE` (`sup_start_fail/1`, `sup_start_error_return/1`): children start in
//! order; when one fails, those already started are stopped in reverse order (reason
//! `shutdown`), the ones after it are never started, and start returns
//! `{error, {shutdown, {failed_to_start_child, Id, Reason}}}`.

mod common;

use common::*;
use runtime::{Exit, ExitReason, Pid, receive_match_timeout, self_pid, trap_exit};
use supervisor::{ChildSpec, Supervisor, SupervisorError, SupervisorOpts};

fn failing(id: &str) -> ChildSpec {
    ChildSpec::worker(id, || -> Result<Pid, ExitReason> {
        Err(ExitReason::custom("eaddrinuse"))
    })
}

#[test]
fn started_children_are_stopped_in_reverse_order_and_later_ones_never_start() {
    quiet();
    trap_exit(true);
    let me = self_pid();
    let r = Supervisor::start_link(
        vec![
            trapping_worker("a", me),
            trapping_worker("b", me),
            failing("c"),
            trapping_worker("d", me),
        ],
        SupervisorOpts::new(),
    );
    assert_eq!(
        r,
        Err(SupervisorError::FailedToStartChild {
            id: "c".into(),
            reason: ExitReason::custom("eaddrinuse")
        })
    );
    let events = events_now();
    let [
        Ev::Started(a, pa),
        Ev::Started(b, pb),
        Ev::Stopping(s1, r1),
        Ev::Stopping(s2, r2),
    ] = &events[..]
    else {
        panic!("unexpected events {events:?}")
    };
    assert_eq!((a.as_str(), b.as_str()), ("a", "b"));
    assert_eq!(
        (s1.as_str(), s2.as_str()),
        ("b", "a"),
        "reverse start order"
    );
    assert_eq!((r1, r2), (&ExitReason::Shutdown, &ExitReason::Shutdown));
    assert_all_dead(&[*pa, *pb]);
    // The linked caller is told too, with the supervisor's exit reason.
    let exit = receive_match_timeout(WAIT, |_: &Exit| true).expect("an Exit from the supervisor");
    assert!(
        matches!(exit.reason, ExitReason::ShutdownWith(_)),
        "{}",
        exit.reason
    );
}

#[test]
fn an_unlinked_start_reports_the_failure_without_an_exit_signal() {
    quiet();
    trap_exit(true);
    let me = self_pid();
    let r = Supervisor::start(vec![worker("a", me), failing("b")], SupervisorOpts::new());
    assert!(matches!(r, Err(SupervisorError::FailedToStartChild { ref id, .. }) if id == "b"));
    let a = started("a");
    assert_all_dead(&[a]);
    assert!(receive_match_timeout(std::time::Duration::from_millis(20), |_: &Exit| true).is_none());
}

#[test]
fn a_nested_supervisor_that_fails_to_start_fails_its_parent() {
    // The child supervisor's own failure is its start error, so the parent's start fails
    // naming the nested supervisor, and the grandchild started before is stopped.
    quiet();
    trap_exit(true);
    let me = self_pid();
    let nested = Supervisor::child_spec(
        "nested",
        vec![worker("x", me), failing("y")],
        SupervisorOpts::new(),
    );
    let r = Supervisor::start_link(
        vec![trapping_worker("a", me), nested],
        SupervisorOpts::new(),
    );
    match r {
        Err(SupervisorError::FailedToStartChild { id, reason }) => {
            assert_eq!(id, "nested");
            assert!(reason.to_string().contains("\"y\""), "{reason}");
        }
        other => panic!("expected FailedToStartChild, got {other:?}"),
    }
    let a = started("a");
    let x = started("x");
    assert_eq!(next_stopping(), ("a".into(), ExitReason::Shutdown));
    assert_all_dead(&[a, x]);
}

#[test]
fn a_children_function_that_fails_fails_the_start() {
    // The callback-module style: init/1 returning an error.
    quiet();
    trap_exit(true);
    for reason in [
        ExitReason::custom("no config"),
        ExitReason::Panic("init refused".into()),
    ] {
        let given = reason.clone();
        let r = Supervisor::start_link_with(SupervisorOpts::new(), move || Err(given));
        assert_eq!(r, Err(SupervisorError::Init(reason)));
    }
}
