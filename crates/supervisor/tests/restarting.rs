//! The `restarting` state of a child whose restart failed.
//!
//! Ported from `supervisor.erl` (`restart/2`'s `{try_again, ...}` path,
//! `handle_cast({try_again_restart, Id})`, and the `{error, restarting}` results of
//! `restart_child/2` and `delete_child/2`) and OTP's `supervisor_SUITE`
//! (`hanging_restart_loop/1`, `code_change_simple/1`'s restarting checks): a failed restart
//! leaves the child `restarting` and is retried through a message to the supervisor itself,
//! so requests are still answered in between.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use runtime::{ExitReason, Pid, self_pid};
use supervisor::{ChildError, ChildPid, ChildSpec, Strategy, Supervisor, SupervisorOpts};

/// A child whose start fails while `broken` is set.
fn breakable(id: &str, broken: Arc<AtomicBool>) -> ChildSpec {
    let me = self_pid();
    let name = id.to_owned();
    ChildSpec::worker(id, move || {
        if broken.load(Ordering::SeqCst) {
            Err(ExitReason::custom("broken"))
        } else {
            start_worker(&name, me, false)
        }
    })
}

/// Lots of retries allowed, in a window that never ends during the test.
fn patient(strategy: Strategy) -> SupervisorOpts {
    SupervisorOpts::new()
        .strategy(strategy)
        .max_restarts(1_000_000)
        .max_seconds(Duration::from_secs(3600))
}

/// Asks the supervisor until `id` runs again (bounded).
fn until_running(sup: &Supervisor, id: &str) -> Pid {
    for _ in 0..100_000 {
        if let ChildPid::Pid(p) = child(sup, id) {
            return p;
        }
    }
    panic!("{id} never ran again");
}

#[test]
fn a_failed_restart_shows_restarting_and_is_retried_until_it_works() {
    quiet();
    let broken = Arc::new(AtomicBool::new(false));
    let sup = Supervisor::start_link(
        vec![breakable("c", broken.clone())],
        patient(Strategy::OneForOne),
    )
    .expect("start");
    let first = started("c");
    broken.store(true, Ordering::SeqCst);
    crash(first, ExitReason::custom("boom"));
    assert_eq!(child(&sup, "c"), ChildPid::Restarting);
    assert_eq!(sup.restart_child("c"), Err(ChildError::Restarting));
    assert_eq!(sup.delete_child("c"), Err(ChildError::Restarting));
    let n = sup.count_children().expect("count");
    assert_eq!((n.specs, n.active), (1, 0));
    let tree = supervisor::render_tree(sup.pid().expect("running"));
    assert!(tree.contains(":restarting"), "{tree}");
    let tries = sup.describe().expect("describe").restarts_in_window;
    assert!(tries >= 2, "each retry counts: {tries}");
    broken.store(false, Ordering::SeqCst);
    let again = until_running(&sup, "c");
    assert_eq!(started("c"), again);
    stop(&sup, &[again]);
}

#[test]
fn terminate_child_of_a_restarting_child_stops_the_retries() {
    quiet();
    let broken = Arc::new(AtomicBool::new(false));
    let sup = Supervisor::start_link(
        vec![breakable("c", broken.clone())],
        patient(Strategy::OneForOne),
    )
    .expect("start");
    let first = started("c");
    broken.store(true, Ordering::SeqCst);
    crash(first, ExitReason::custom("boom"));
    assert_eq!(sup.terminate_child("c"), Ok(()));
    assert_eq!(child(&sup, "c"), ChildPid::Undefined);
    broken.store(false, Ordering::SeqCst);
    // A retry already queued must not start it again.
    let before = sup.describe().expect("describe").restarts_in_window;
    for _ in 0..10 {
        assert_eq!(child(&sup, "c"), ChildPid::Undefined);
    }
    assert_eq!(sup.describe().expect("describe").restarts_in_window, before);
    assert!(events_now().is_empty());
    assert_eq!(sup.delete_child("c"), Ok(()));
    stop(&sup, &[]);
}

#[test]
fn rest_for_one_waits_for_the_failed_child_before_starting_the_ones_after_it() {
    quiet();
    let me = self_pid();
    let broken = Arc::new(AtomicBool::new(false));
    let sup = Supervisor::start_link(
        vec![
            worker("a", me),
            breakable("b", broken.clone()),
            worker("c", me),
        ],
        patient(Strategy::RestForOne),
    )
    .expect("start");
    let pids = started_in_order(&["a", "b", "c"]);
    broken.store(true, Ordering::SeqCst);
    crash(pids[1], ExitReason::custom("boom"));
    let now = children(&sup);
    assert_eq!(now[0], ("a".into(), ChildPid::Pid(pids[0])));
    assert_eq!(now[1], ("b".into(), ChildPid::Restarting));
    assert!(
        !matches!(now[2].1, ChildPid::Pid(_)),
        "c waits for b: {now:?}"
    );
    broken.store(false, Ordering::SeqCst);
    let b = until_running(&sup, "b");
    let c = until_running(&sup, "c");
    let order: Vec<_> = events_now()
        .into_iter()
        .map(|e| match e {
            Ev::Started(id, _) => id,
            Ev::Stopping(id, _) => format!("stopping {id}"),
        })
        .collect();
    assert_eq!(order, ["b", "c"]);
    stop(&sup, &[pids[0], pids[1], pids[2], b, c]);
}

#[test]
fn a_supervisor_with_a_restarting_child_stops_cleanly() {
    quiet();
    let me = self_pid();
    let broken = Arc::new(AtomicBool::new(false));
    let sup = Supervisor::start_link(
        vec![trapping_worker("a", me), breakable("b", broken.clone())],
        patient(Strategy::OneForOne),
    )
    .expect("start");
    let pids = started_in_order(&["a", "b"]);
    broken.store(true, Ordering::SeqCst);
    crash(pids[1], ExitReason::custom("boom"));
    assert_eq!(child(&sup, "b"), ChildPid::Restarting);
    stop(&sup, &pids);
    assert_eq!(next_stopping(), ("a".into(), ExitReason::Shutdown));
}
