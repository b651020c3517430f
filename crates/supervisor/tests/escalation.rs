//! Escalation through nested supervisors.
//!
//! Ported from OTP's `supervisor_SUITE` (`one_for_one_escalation/1`,
//! `one_for_all_escalation/1`, `rest_for_one_escalation/1`) and the end of Elixir's
//! `Supervisor` moduledoc: a supervisor that exceeds its intensity stops its children and
//! exits `shutdown`; its parent then treats it as any child that exited with `shutdown`, so a
//! permanent child supervisor is restarted (with fresh children) and a transient one is not.

mod common;

use common::*;
use runtime::{Down, Exit, ExitReason, Pid, monitor, receive_match_timeout, self_pid, trap_exit};
use supervisor::{ChildPid, Restart, Strategy, Supervisor, SupervisorOpts};

fn nested(restart: Restart, max_restarts: u32) -> supervisor::ChildSpec {
    let me = self_pid();
    Supervisor::child_spec(
        "nested",
        vec![worker("x", me), trapping_worker("y", me)],
        SupervisorOpts::new().max_restarts(max_restarts),
    )
    .restart(restart)
}

fn nested_pid(top: &Supervisor) -> Pid {
    child_pid(top, "nested")
}

#[test]
fn a_permanent_child_supervisor_that_gives_up_is_restarted_with_fresh_children() {
    quiet();
    let me = self_pid();
    let top = Supervisor::start_link(
        vec![
            trapping_worker("sibling", me),
            nested(Restart::Permanent, 0),
        ],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pids = started_in_order(&["sibling", "x", "y"]);
    let old_nested = nested_pid(&top);
    crash(pids[1], ExitReason::custom("boom"));
    // The nested supervisor stopped y and exited shutdown; top restarted it, which started
    // x and y again. Asking the old nested supervisor makes sure it is gone first.
    assert!(matches!(
        wait_down(old_nested),
        ExitReason::Shutdown | ExitReason::NoProc
    ));
    assert_eq!(next_stopping(), ("y".into(), ExitReason::Shutdown));
    let again = started_in_order(&["x", "y"]);
    let new_nested = nested_pid(&top);
    assert_ne!(new_nested, old_nested);
    assert_eq!(
        child_pid(&top, "sibling"),
        pids[0],
        "one_for_one: the sibling is untouched"
    );
    assert_eq!(top.describe().expect("describe").restarts_in_window, 1);
    let inner = Supervisor::from_pid(new_nested);
    assert_eq!(child_pid(&inner, "x"), again[0]);
    stop(&top, &[pids[0], again[0], again[1], new_nested]);
}

#[test]
fn a_transient_child_supervisor_that_gives_up_is_not_restarted() {
    quiet();
    let me = self_pid();
    let top = Supervisor::start_link(
        vec![
            trapping_worker("sibling", me),
            nested(Restart::Transient, 0),
        ],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pids = started_in_order(&["sibling", "x", "y"]);
    let old_nested = nested_pid(&top);
    // Monitored before the crash, so that its Down comes after its exit reached top and the
    // request below is handled after that exit. A monitor set up once the nested supervisor
    // is dying gets `noproc` at once, possibly before its exit has reached top.
    let m = monitor(old_nested);
    crash(pids[1], ExitReason::custom("boom"));
    let d = receive_match_timeout(WAIT, |d: &Down| d.monitor == m).expect("nested gave up");
    assert_eq!(d.reason, ExitReason::Shutdown);
    assert_eq!(
        child(&top, "nested"),
        ChildPid::Undefined,
        "shutdown is clean for transient"
    );
    assert_eq!(top.describe().expect("describe").restarts_in_window, 0);
    assert_eq!(next_stopping(), ("y".into(), ExitReason::Shutdown));
    assert!(events_now().is_empty());
    stop(&top, &[pids[0], pids[2]]);
}

#[test]
fn one_for_all_escalation_restarts_the_siblings_too() {
    quiet();
    let me = self_pid();
    let top = Supervisor::start_link(
        vec![
            trapping_worker("sibling", me),
            nested(Restart::Permanent, 0),
        ],
        SupervisorOpts::new().strategy(Strategy::OneForAll),
    )
    .expect("start");
    let pids = started_in_order(&["sibling", "x", "y"]);
    crash(pids[1], ExitReason::custom("boom"));
    let again = started_in_order(&["sibling", "x", "y"]);
    assert_eq!(child_pid(&top, "sibling"), again[0]);
    // y was stopped by the nested supervisor giving up, then the sibling by top's one_for_all.
    assert_eq!(
        events_now(),
        [
            Ev::Stopping("y".into(), ExitReason::Shutdown),
            Ev::Stopping("sibling".into(), ExitReason::Shutdown)
        ]
    );
    assert_all_dead(&pids);
    stop(&top, &again);
}

#[test]
fn escalation_goes_up_to_the_top() {
    // Three levels, none allowing a restart: a crash at the bottom stops every supervisor,
    // and the top one's parent (the test) gets its shutdown.
    quiet();
    trap_exit(true);
    let me = self_pid();
    let middle = Supervisor::child_spec(
        "middle",
        vec![trapping_worker("m", me), nested(Restart::Permanent, 0)],
        SupervisorOpts::new().max_restarts(0),
    );
    let top = Supervisor::start_link(
        vec![trapping_worker("t", me), middle],
        SupervisorOpts::new().max_restarts(0),
    )
    .expect("start");
    let top_pid = top.pid().expect("running");
    let pids = started_in_order(&["t", "m", "x", "y"]);
    crash(pids[2], ExitReason::custom("boom"));
    let e = receive_match_timeout(WAIT, |e: &Exit| e.from == top_pid).expect("top gave up");
    assert_eq!(e.reason, ExitReason::Shutdown);
    // Each level stopped its own children, bottom-up: y (nested), then m (middle), then t.
    let stops: Vec<String> = (0..3).map(|_| next_stopping().0).collect();
    assert_eq!(stops, ["y", "m", "t"]);
    assert_all_dead(&pids);
}

#[test]
fn a_killed_child_supervisor_takes_its_children_with_it_and_is_restarted() {
    quiet();
    let me = self_pid();
    let top = Supervisor::start_link(vec![nested(Restart::Permanent, 3)], SupervisorOpts::new())
        .expect("start");
    let pids = started_in_order(&["x", "y"]);
    let old = nested_pid(&top);
    kill(old);
    // The children die through their links: x does not trap exits, y gets the Exit and stops.
    let again = started_in_order(&["x", "y"]);
    assert_eq!(next_stopping(), ("y".into(), ExitReason::Killed));
    // y reports that it is stopping and then ends: wait for that end before checking that
    // nothing of the old subtree is left.
    let y = pids[1];
    let _ = common::wait_down(y);
    assert_all_dead(&pids);
    let _ = me;
    stop(&top, &again);
}
