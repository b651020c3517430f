//! `DynamicSupervisor`.
//!
//! Ported from Elixir's `DynamicSupervisor` docs and its test suite
//! (`test/elixir/dynamic_supervisor_test.exs`: "start_child/2", "with max_children",
//! "with extra_arguments", "terminate_child/2", "restarting children", "temporary/transient
//! children", "stops children in parallel"): one_for_one over children identified by pid,
//! `{:error, :max_children}`, extra arguments prepended to every start, `terminate_child` by
//! pid, parallel shutdown.

mod common;

use std::time::Duration;

use common::*;
use runtime::{
    Exit, ExitReason, Pid, SpawnOpts, receive, receive_timeout, self_pid, send, trap_exit,
};
use supervisor::{
    ChildError, ChildPid, ChildSpec, DynamicOpts, DynamicSupervisor, Restart, StartChildError,
};

fn dyn_sup() -> DynamicSupervisor {
    quiet();
    DynamicSupervisor::start_link(DynamicOpts::new()).expect("start")
}

fn pids_of(sup: &DynamicSupervisor) -> Vec<ChildPid> {
    sup.which_children()
        .expect("which_children")
        .into_iter()
        .map(|c| {
            assert_eq!(c.id, None, "a dynamic supervisor's children have no id");
            c.pid
        })
        .collect()
}

#[test]
fn start_child_starts_children_on_demand() {
    let sup = dyn_sup();
    let me = self_pid();
    assert!(pids_of(&sup).is_empty());
    let a = sup
        .start_child(worker("room", me))
        .expect("start")
        .expect("pid");
    let b = sup
        .start_child(worker("room", me))
        .expect("start")
        .expect("pid");
    assert_eq!(started_in_order(&["room", "room"]), [a, b]);
    assert_eq!(pids_of(&sup), [ChildPid::Pid(a), ChildPid::Pid(b)]);
    let n = sup.count_children().expect("count");
    assert_eq!((n.specs, n.active, n.workers, n.supervisors), (2, 2, 2, 0));
    stop(sup.as_supervisor(), &[a, b]);
}

#[test]
fn max_children_refuses_more_and_frees_a_place_when_one_ends() {
    quiet();
    let me = self_pid();
    let sup = DynamicSupervisor::start_link(DynamicOpts::new().max_children(2)).expect("start");
    let a = sup
        .start_child(worker("w", me).restart(Restart::Temporary))
        .expect("a")
        .expect("pid");
    let b = sup.start_child(worker("w", me)).expect("b").expect("pid");
    assert_eq!(
        sup.start_child(worker("w", me)),
        Err(StartChildError::MaxChildren)
    );
    assert_eq!(events_now().len(), 2, "the refused child was never started");
    crash(a, ExitReason::Normal);
    let c = sup.start_child(worker("w", me)).expect("c").expect("pid");
    assert_eq!(
        sup.start_child(worker("w", me)),
        Err(StartChildError::MaxChildren)
    );
    stop(sup.as_supervisor(), &[b, c]);
}

/// The configuration every child of the supervisor gets.
#[derive(Clone, Debug, PartialEq)]
struct RoomConfig {
    server: &'static str,
}

#[test]
fn extra_arguments_are_passed_to_every_start() {
    quiet();
    let me = self_pid();
    let sup = DynamicSupervisor::start_link(DynamicOpts::new().extra_arguments(RoomConfig {
        server: "chat.example",
    }))
    .expect("start");
    for room in ["lobby", "random"] {
        let spec = ChildSpec::worker_with("room", move |cfg: &RoomConfig| {
            let label = format!("{}#{room}", cfg.server);
            SpawnOpts::new()
                .link()
                .spawn(move || {
                    send(me, label);
                    let _: () = receive();
                })
                .map(|s| s.pid)
                .map_err(|e| ExitReason::custom(e.to_string()))
        });
        sup.start_child(spec).expect("start").expect("pid");
        let label: String = receive();
        assert_eq!(label, format!("chat.example#{room}"));
    }
    // A child expecting other extra arguments fails to start, with a typed error.
    let wrong = ChildSpec::worker_with("wrong", |_: &u64| runtime::spawn_link(|| {}));
    assert!(matches!(
        sup.start_child(wrong),
        Err(StartChildError::Failed(_))
    ));
    assert_eq!(sup.count_children().expect("count").active, 2);
    let kids: Vec<Pid> = sup
        .which_children()
        .expect("which")
        .into_iter()
        .filter_map(|c| match c.pid {
            ChildPid::Pid(p) => Some(p),
            _ => None,
        })
        .collect();
    stop(sup.as_supervisor(), &kids);
}

#[test]
fn terminate_child_by_pid() {
    let sup = dyn_sup();
    let me = self_pid();
    let a = sup
        .start_child(trapping_worker("a", me))
        .expect("a")
        .expect("pid");
    let b = sup.start_child(worker("b", me)).expect("b").expect("pid");
    assert_eq!(sup.terminate_child(a), Ok(()));
    assert!(events_now().contains(&Ev::Stopping("a".into(), ExitReason::Shutdown)));
    assert_all_dead(&[a]);
    assert_eq!(pids_of(&sup), [ChildPid::Pid(b)], "its spec is gone too");
    assert_eq!(sup.terminate_child(a), Err(ChildError::NotFound));
    assert_eq!(sup.terminate_child(me), Err(ChildError::NotFound));
    // Id-based requests make no sense here.
    let general = sup.as_supervisor();
    assert_eq!(general.restart_child("b"), Err(ChildError::NotSupported));
    assert_eq!(general.delete_child("b"), Err(ChildError::NotSupported));
    assert_eq!(
        general.get_childspec("b").err(),
        Some(ChildError::NotSupported)
    );
    stop(general, &[b]);
}

#[test]
fn children_are_restarted_by_their_restart_type() {
    let sup = dyn_sup();
    let me = self_pid();
    let p = sup.start_child(worker("p", me)).expect("p").expect("pid");
    let t = sup
        .start_child(worker("t", me).restart(Restart::Transient))
        .expect("t")
        .expect("pid");
    let tmp = sup
        .start_child(worker("tmp", me).restart(Restart::Temporary))
        .expect("tmp")
        .expect("pid");
    let _ = started_in_order(&["p", "t", "tmp"]);
    crash(p, ExitReason::custom("boom"));
    let p2 = started("p");
    crash(t, ExitReason::custom("boom"));
    let t2 = started("t");
    crash(tmp, ExitReason::custom("boom"));
    assert_eq!(
        pids_of(&sup),
        [ChildPid::Pid(p2), ChildPid::Pid(t2)],
        "temporary dropped"
    );
    crash(t2, ExitReason::Normal);
    assert_eq!(
        pids_of(&sup),
        [ChildPid::Pid(p2)],
        "transient after normal: dropped"
    );
    crash(p2, ExitReason::Normal);
    let p3 = started("p");
    assert_eq!(pids_of(&sup), [ChildPid::Pid(p3)]);
    assert_eq!(
        sup.as_supervisor()
            .describe()
            .expect("describe")
            .restarts_in_window,
        3
    );
    stop(sup.as_supervisor(), &[p3]);
}

#[test]
fn a_start_that_returns_ignore_adds_nothing() {
    let sup = dyn_sup();
    let spec = ChildSpec::worker("i", || -> Option<Pid> { None });
    assert_eq!(sup.start_child(spec), Ok(None));
    assert!(pids_of(&sup).is_empty());
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn a_restart_that_returns_ignore_removes_the_child() {
    // Elixir's DynamicSupervisor.restart_child/4: `:ignore -> {:ok, delete_child(pid, state)}`.
    let sup = dyn_sup();
    let me = self_pid();
    let once = std::sync::atomic::AtomicBool::new(false);
    let spec = ChildSpec::worker("once", move || -> Result<Option<Pid>, ExitReason> {
        if once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            Ok(None)
        } else {
            start_worker("once", me, false).map(Some)
        }
    });
    let pid = sup.start_child(spec).expect("start").expect("pid");
    crash(pid, ExitReason::custom("boom"));
    assert!(pids_of(&sup).is_empty(), "{:?}", pids_of(&sup));
    assert_eq!(sup.count_children().expect("count").specs, 0);
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn the_fourth_crash_in_five_seconds_stops_it() {
    quiet();
    trap_exit(true);
    let me = self_pid();
    let sup = DynamicSupervisor::start_link(DynamicOpts::new()).expect("start");
    let sup_pid = sup.pid().expect("running");
    let other = sup
        .start_child(trapping_worker("other", me))
        .expect("o")
        .expect("pid");
    let mut pid = sup.start_child(worker("c", me)).expect("c").expect("pid");
    assert_eq!(started_in_order(&["other", "c"]), [other, pid]);
    for _ in 0..3 {
        crash(pid, ExitReason::custom("boom"));
        pid = started("c");
    }
    crash(pid, ExitReason::custom("boom"));
    let e = runtime::receive_match_timeout(WAIT, |e: &Exit| e.from == sup_pid).expect("gave up");
    assert_eq!(e.reason, ExitReason::Shutdown);
    assert_eq!(next_stopping(), ("other".into(), ExitReason::Shutdown));
    assert_all_dead(&[other]);
}

/// A child stopping in the parallel shutdown test tells the coordinator it got the signal.
struct Got(Pid);
/// The coordinator's answer once every child got its signal.
struct Go;
/// What each child reports to the test: whether it saw every sibling get the signal too.
struct Finished(bool);

#[test]
fn children_are_stopped_in_parallel_at_shutdown() {
    // With the children stopped one after the other, the first would wait for Go in vain
    // (Go comes only once all N got their signal) and report `Finished(false)`.
    const N: usize = 4;
    let sup = dyn_sup();
    let me = self_pid();
    let coordinator = runtime::spawn(move || {
        let mut seen = Vec::new();
        while seen.len() < N {
            let Got(p) = receive();
            seen.push(p);
        }
        for p in seen {
            send(p, Go);
        }
    });
    let spec = ChildSpec::worker("slow", move || {
        SpawnOpts::new()
            .link()
            .trap_exit()
            .spawn(move || {
                let e: Exit = receive();
                send(coordinator, Got(self_pid()));
                let all = receive_timeout::<Go>(Duration::from_secs(5)).is_some();
                send(me, Finished(all));
                runtime::exit_self(e.reason);
            })
            .map(|s| s.pid)
            .map_err(|e| ExitReason::custom(e.to_string()))
    });
    let mut kids = Vec::new();
    for _ in 0..N {
        kids.push(sup.start_child(spec.clone()).expect("start").expect("pid"));
    }
    stop(sup.as_supervisor(), &kids);
    for _ in 0..N {
        let Finished(all) = runtime::receive_timeout(Duration::ZERO).expect("each child reported");
        assert!(all, "a child stopped before its siblings were signalled");
    }
    wait_all_end(&[coordinator]);
}

#[test]
fn a_dynamic_supervisor_under_a_supervisor() {
    quiet();
    let me = self_pid();
    let top = supervisor::Supervisor::start_link(
        vec![DynamicSupervisor::<()>::child_spec(
            "rooms",
            DynamicOpts::new().name("dynamic_rooms"),
        )],
        supervisor::SupervisorOpts::new(),
    )
    .expect("start");
    let rooms = DynamicSupervisor::<()>::named("dynamic_rooms");
    let a = rooms
        .start_child(trapping_worker("a", me))
        .expect("start")
        .expect("pid");
    stop(&top, &[a]);
    assert_eq!(next_stopping(), ("a".into(), ExitReason::Shutdown));
}

#[test]
fn parallel_shutdown_kills_children_that_outlive_their_shutdown_time() {
    // DynamicSupervisor's terminate_children/2: monitor all, exit(pid, :shutdown) (or :kill for
    // brutal_kill), then kill whoever is still there when its timeout fires.
    quiet();
    let me = self_pid();
    let sup = DynamicSupervisor::start_link(DynamicOpts::new()).expect("start");
    let stubborn = sup
        .start_child(
            trapping_worker("stubborn", me)
                .shutdown(supervisor::Shutdown::Timeout(STUBBORN_TIMEOUT)),
        )
        .expect("start")
        .expect("pid");
    let brutal = sup
        .start_child(trapping_worker("brutal", me).shutdown(supervisor::Shutdown::BrutalKill))
        .expect("start")
        .expect("pid");
    let polite = sup
        .start_child(trapping_worker("polite", me))
        .expect("start")
        .expect("pid");
    let _ = started_in_order(&["stubborn", "brutal", "polite"]);
    send(stubborn, Cmd::Stubborn);
    let monitors: Vec<_> = [stubborn, brutal, polite]
        .iter()
        .map(|p| runtime::monitor(*p))
        .collect();
    sup.stop().expect("stop");
    let reasons: Vec<ExitReason> = monitors
        .iter()
        .map(|m| {
            runtime::receive_match_timeout(Duration::ZERO, |d: &runtime::Down| d.monitor == *m)
                .expect("every child is dead when stop returns")
                .reason
        })
        .collect();
    assert_eq!(
        reasons,
        [ExitReason::Killed, ExitReason::Killed, ExitReason::Shutdown]
    );
    let mut stopping: Vec<String> = events_now()
        .into_iter()
        .filter_map(|e| match e {
            Ev::Stopping(id, r) => {
                assert_eq!(r, ExitReason::Shutdown);
                Some(id)
            }
            Ev::Started(..) => None,
        })
        .collect();
    stopping.sort();
    assert_eq!(
        stopping,
        ["polite", "stubborn"],
        "brutal_kill sends no shutdown first"
    );
}

/// Elixir's DynamicSupervisor rejects significant children (elixir-lang/elixir#12077).
#[test]
fn a_dynamic_supervisor_rejects_significant_children() {
    let sup =
        supervisor::DynamicSupervisor::start_link(supervisor::DynamicOpts::new()).expect("start");
    let spec = supervisor::ChildSpec::worker("sig", || runtime::spawn_link(|| {}))
        .restart(supervisor::Restart::Transient)
        .significant(true);
    assert!(matches!(
        sup.start_child(spec),
        Err(supervisor::StartChildError::InvalidSpec(_))
    ));
    assert_eq!(sup.count_children().expect("count").specs, 0);
    sup.stop().expect("stop");
}
