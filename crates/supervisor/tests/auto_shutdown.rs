//! Significant children and `auto_shutdown` (OTP 24, EEP 56).
//!
//! Ported from `supervisor.erl`'s `do_auto_shutdown/2` and OTP's `supervisor_SUITE`
//! (`significant_temporary/1`, `significant_transient/1`, `significant_upgrade/1`'s
//! checks, `auto_shutdown_any/1`, `auto_shutdown_all/1`): with `any_significant` the
//! supervisor exits `shutdown` when a significant child ends on its own (transient: normally;
//! temporary: for any reason); with `all_significant` when the last one has; neither
//! `terminate_child` nor the strategy's own terminations trigger it (erlang/otp#8461).

mod common;

use common::*;
use runtime::{Exit, ExitReason, Pid, receive_match_timeout, self_pid, trap_exit};
use supervisor::{AutoShutdown, Restart, Strategy, Supervisor, SupervisorOpts};

fn shut_itself_down(sup: Pid) {
    let e = receive_match_timeout(WAIT, |e: &Exit| e.from == sup).expect("auto shutdown");
    assert_eq!(e.reason, ExitReason::Shutdown);
}

fn start(auto: AutoShutdown, strategy: Strategy, restarts: [Restart; 2]) -> (Supervisor, Vec<Pid>) {
    quiet();
    trap_exit(true);
    let me = self_pid();
    let sup = Supervisor::start_link(
        vec![
            trapping_worker("plain", me),
            worker("s1", me).restart(restarts[0]).significant(true),
            worker("s2", me).restart(restarts[1]).significant(true),
        ],
        SupervisorOpts::new().auto_shutdown(auto).strategy(strategy),
    )
    .expect("start");
    let pids = started_in_order(&["plain", "s1", "s2"]);
    (sup, pids)
}

#[test]
fn any_significant_shuts_down_when_a_transient_one_ends_normally() {
    let (sup, pids) = start(
        AutoShutdown::AnySignificant,
        Strategy::OneForOne,
        [Restart::Transient, Restart::Transient],
    );
    let sup_pid = sup.pid().expect("running");
    // An abnormal exit is restarted as usual.
    crash(pids[1], ExitReason::custom("boom"));
    let s1 = started("s1");
    assert!(runtime::is_alive(sup_pid));
    crash(s1, ExitReason::Normal);
    shut_itself_down(sup_pid);
    assert_eq!(next_stopping(), ("plain".into(), ExitReason::Shutdown));
    assert_all_dead(&[pids[0], pids[2]]);
}

#[test]
fn any_significant_shuts_down_when_a_temporary_one_ends_for_any_reason() {
    let (sup, pids) = start(
        AutoShutdown::AnySignificant,
        Strategy::OneForOne,
        [Restart::Temporary, Restart::Temporary],
    );
    let sup_pid = sup.pid().expect("running");
    crash(pids[2], ExitReason::custom("boom"));
    shut_itself_down(sup_pid);
    assert_all_dead(&pids);
}

#[test]
fn all_significant_waits_for_the_last_one() {
    let (sup, pids) = start(
        AutoShutdown::AllSignificant,
        Strategy::OneForOne,
        [Restart::Transient, Restart::Temporary],
    );
    let sup_pid = sup.pid().expect("running");
    crash(pids[1], ExitReason::Normal);
    assert_eq!(ids(&sup), ["plain", "s1", "s2"], "still running");
    crash(pids[2], ExitReason::custom("boom"));
    shut_itself_down(sup_pid);
    assert_all_dead(&pids);
}

#[test]
fn terminate_child_does_not_trigger_it() {
    let (sup, pids) = start(
        AutoShutdown::AnySignificant,
        Strategy::OneForOne,
        [Restart::Transient, Restart::Temporary],
    );
    sup.terminate_child("s1").expect("terminate");
    sup.terminate_child("s2").expect("terminate");
    assert_eq!(ids(&sup), ["plain", "s1"]);
    assert!(runtime::is_alive(sup.pid().expect("running")));
    stop(&sup, &pids);
}

#[test]
fn terminations_by_the_strategy_do_not_trigger_it() {
    let (sup, pids) = start(
        AutoShutdown::AnySignificant,
        Strategy::OneForAll,
        [Restart::Transient, Restart::Transient],
    );
    // plain crashes: one_for_all stops s1 and s2 (shutdown) and restarts everyone.
    crash(pids[0], ExitReason::custom("boom"));
    let again = started_in_order(&["plain", "s1", "s2"]);
    assert!(runtime::is_alive(sup.pid().expect("running")));
    assert_eq!(child_pid(&sup, "s2"), again[2]);
    stop(&sup, &again);
}
