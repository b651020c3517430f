//! Restart intensity: one restart more than `max_restarts` within `max_seconds`.
//!
//! Ported from OTP's `supervisor_SUITE` (`restart_one_for_one/1`, `restart_one_for_all/1`,
//! `restart_rest_for_one/1`, `sup_flags/1` with intensity 0) and `supervisor.erl`'s
//! `add_restart/3`, with Elixir's defaults (3 restarts in 5 s, seed 001): the 4th crash within
//! 5 s stops a default supervisor with reason `shutdown` after it has stopped its other
//! children in reverse order; restarts spread over time never do.

mod common;

use std::time::{Duration, Instant};

use common::*;
use runtime::{ExitReason, Pid, receive_timeout, self_pid, trap_exit};
use supervisor::{ChildSpec, Strategy, Supervisor, SupervisorOpts};

/// Lets `d` pass. Not a synchronisation: the intensity window is a clock, and this test is
/// about what happens after time has passed.
fn let_time_pass(d: Duration) {
    let until = Instant::now() + d;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        let _: Option<()> = receive_timeout(left);
    }
}

fn start(opts: SupervisorOpts) -> (Supervisor, Pid, Pid) {
    quiet();
    trap_exit(true);
    let me = self_pid();
    let sup = Supervisor::start_link(
        vec![trapping_worker("calm", me), worker("crashy", me)],
        opts,
    )
    .expect("start");
    let pids = started_in_order(&["calm", "crashy"]);
    (sup, pids[0], pids[1])
}

#[test]
fn the_fourth_crash_within_five_seconds_stops_a_default_supervisor() {
    let (sup, calm, mut crashy) = start(SupervisorOpts::new());
    let sup_pid = sup.pid().expect("running");
    for n in 1..=3 {
        crash(crashy, ExitReason::custom("boom"));
        crashy = started("crashy");
        let d = sup.describe().expect("describe");
        assert_eq!(d.restarts_in_window, n, "restart {n} counted");
        assert_eq!(d.max_restarts, 3);
        assert_eq!(d.max_seconds, Duration::from_secs(5));
    }
    crash(crashy, ExitReason::custom("boom"));
    gave_up(sup_pid);
    // It stopped its other child first, with shutdown, and did not restart the crashy one.
    assert_eq!(next_stopping(), ("calm".into(), ExitReason::Shutdown));
    assert!(events_now().is_empty());
    assert_all_dead(&[calm, crashy]);
}

/// Waits for the supervisor's `Exit` (the test is its parent and traps exits) and checks
/// that it gave up the way OTP's do, with reason `shutdown`.
fn gave_up(sup: Pid) {
    let e = runtime::receive_match_timeout(WAIT, |e: &runtime::Exit| e.from == sup)
        .expect("the supervisor gave up");
    assert_eq!(
        e.reason,
        ExitReason::Shutdown,
        "a supervisor gives up with shutdown"
    );
    assert!(!runtime::is_alive(sup));
}

#[test]
fn the_intensity_counts_restarts_of_every_child_together() {
    let me = self_pid();
    quiet();
    trap_exit(true);
    let sup = Supervisor::start_link(
        vec![worker("a", me), worker("b", me)],
        SupervisorOpts::new().max_restarts(2),
    )
    .expect("start");
    let sup_pid = sup.pid().expect("running");
    let pids = started_in_order(&["a", "b"]);
    crash(pids[0], ExitReason::custom("boom"));
    let a = started("a");
    crash(pids[1], ExitReason::custom("boom"));
    let b = started("b");
    crash(a, ExitReason::custom("boom"));
    gave_up(sup_pid);
    assert_all_dead(&[b]);
}

#[test]
fn with_intensity_zero_the_first_restart_stops_the_supervisor() {
    let (sup, calm, crashy) = start(SupervisorOpts::new().max_restarts(0));
    let sup_pid = sup.pid().expect("running");
    crash(crashy, ExitReason::custom("boom"));
    gave_up(sup_pid);
    assert_eq!(next_stopping(), ("calm".into(), ExitReason::Shutdown));
    assert_all_dead(&[calm]);
}

#[test]
fn exits_that_cause_no_restart_do_not_count() {
    // Only restarts are counted (add_restart runs before a restart, not on every exit).
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(vec![], SupervisorOpts::new().max_restarts(1)).expect("start");
    for i in 0..5 {
        let id = format!("t{i}");
        let spec = worker(&id, me).restart(supervisor::Restart::Transient);
        let pid = sup.start_child(spec).expect("start").expect("pid");
        crash(pid, ExitReason::Normal);
        let temp = worker(&format!("tmp{i}"), me).restart(supervisor::Restart::Temporary);
        let pid = sup.start_child(temp).expect("start").expect("pid");
        crash(pid, ExitReason::custom("boom"));
    }
    assert_eq!(sup.describe().expect("describe").restarts_in_window, 0);
    stop(&sup, &[]);
}

#[test]
fn restarts_spread_over_time_never_stop_the_supervisor() {
    // One restart allowed per 300 ms window, and crashes farther apart than that: the window
    // slides, so the supervisor keeps restarting.
    let window = Duration::from_millis(300);
    let (sup, calm, mut crashy) = start(SupervisorOpts::new().max_restarts(1).max_seconds(window));
    let sup_pid = sup.pid().expect("running");
    for _ in 0..4 {
        crash(crashy, ExitReason::custom("boom"));
        crashy = started("crashy");
        assert_eq!(sup.describe().expect("describe").restarts_in_window, 1);
        let_time_pass(window + Duration::from_millis(30));
    }
    assert!(runtime::is_alive(sup_pid));
    stop(&sup, &[calm, crashy]);
}

#[test]
fn each_failed_restart_attempt_counts_against_the_intensity() {
    // supervisor.erl: a restart that fails is retried through {try_again_restart, Id}, and
    // every try goes through add_restart.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    quiet();
    trap_exit(true);
    let me = self_pid();
    for (failures, gives_up) in [(2, false), (3, true)] {
        let starts = Arc::new(AtomicUsize::new(0));
        let s = starts.clone();
        // Starts once, then fails `failures` times, then starts again.
        let spec = ChildSpec::worker("flaky", move || {
            let n = s.fetch_add(1, Ordering::SeqCst);
            if n >= 1 && n <= failures {
                Err(ExitReason::custom("not yet"))
            } else {
                start_worker("flaky", me, false)
            }
        });
        let sup = Supervisor::start_link(vec![spec], SupervisorOpts::new()).expect("start");
        let sup_pid = sup.pid().expect("running");
        let first = started("flaky");
        crash(first, ExitReason::custom("boom"));
        if gives_up {
            // 1 restart + 3 failed tries = 4 > 3.
            gave_up(sup_pid);
            assert_eq!(starts.load(Ordering::SeqCst), 4);
        } else {
            let again = started("flaky");
            assert_eq!(child_pid(&sup, "flaky"), again);
            assert_eq!(sup.describe().expect("describe").restarts_in_window, 3);
            stop(&sup, &[again]);
        }
    }
}

#[test]
fn one_for_all_counts_one_restart_per_exit() {
    quiet();
    let me = self_pid();
    let sup = Supervisor::start_link(
        vec![worker("a", me), worker("b", me), worker("c", me)],
        SupervisorOpts::new().strategy(Strategy::OneForAll),
    )
    .expect("start");
    let mut pids = started_in_order(&["a", "b", "c"]);
    for n in 1..=3 {
        crash(pids[1], ExitReason::custom("boom"));
        pids = started_in_order(&["a", "b", "c"]);
        assert_eq!(sup.describe().expect("describe").restarts_in_window, n);
    }
    stop(&sup, &pids);
}
