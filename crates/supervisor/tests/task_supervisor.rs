//! `TaskSupervisor`.
//!
//! Ported from Elixir's `Task.Supervisor` docs and `test/elixir/task/supervisor_test.exs`
//! ("start_child/2", "start_child/3 with restart: :transient", "async/2", "async/2 with
//! crash", "async_nolink/2", "async_nolink/2 with crash"): tasks are temporary children;
//! `start_child` is fire and forget; `async` links the caller and the task; `async_nolink`
//! does not, so a crash reaches the caller only as the awaited result.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use runtime::{
    Exit, ExitReason, Pid, TaskError, receive, receive_match_timeout, self_pid, send, trap_exit,
};
use supervisor::{DynamicOpts, Restart, TaskSupervisor};

fn tasks() -> TaskSupervisor {
    quiet();
    TaskSupervisor::start_link(DynamicOpts::new()).expect("start")
}

/// A task told to finish.
struct Finish;

#[test]
fn start_child_runs_the_function_as_a_temporary_child() {
    let sup = tasks();
    let me = self_pid();
    let pid = sup
        .start_child(move || {
            send(me, "sending emails");
            let Finish = receive();
        })
        .expect("start");
    assert_eq!(receive::<&str>(), "sending emails");
    assert_eq!(sup.children().expect("children"), [pid]);
    let info = runtime::process_info(pid).expect("alive");
    assert!(!info.links.contains(&me), "not linked to the caller");
    // Monitored before it is told to finish: a monitor set up after its end gets noproc.
    let m = runtime::monitor(pid);
    send(pid, Finish);
    let d = runtime::receive_match::<runtime::Down>(|d| d.monitor == m);
    assert_eq!(d.reason, ExitReason::Normal);
    assert!(sup.children().expect("children").is_empty());
    // A crash is not restarted either. This task too waits to be told, so that it is
    // monitored before it ends: a monitor set up once it is dying gets `noproc` at once,
    // possibly before its exit has reached the supervisor and so before `children` sees it.
    let crashing = sup
        .start_child(|| {
            let Finish = receive();
            panic!("smtp down")
        })
        .expect("start");
    let m = runtime::monitor(crashing);
    send(crashing, Finish);
    let d = runtime::receive_match::<runtime::Down>(|d| d.monitor == m);
    assert_eq!(d.reason, ExitReason::Panic("smtp down".into()));
    assert!(sup.children().expect("children").is_empty());
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn start_child_with_transient_runs_again_after_a_crash_only() {
    let sup = tasks();
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let me = self_pid();
    let first = sup
        .start_child_with(Restart::Transient, move || {
            let n = r.fetch_add(1, Ordering::SeqCst) + 1;
            send(me, (n, self_pid()));
            if n == 1 {
                panic!("first run fails");
            }
            let Finish = receive();
        })
        .expect("start");
    let (n1, p1) = receive::<(usize, Pid)>();
    assert_eq!((n1, p1), (1, first));
    let (n2, p2) = receive::<(usize, Pid)>();
    assert_eq!(n2, 2, "restarted after the crash");
    assert_ne!(p2, first);
    // The second run ends normally when told to: not restarted, and no longer a child. Its
    // exit reaches the supervisor before its Down reaches the test, so the next request sees
    // it handled. That holds for a monitor set up before the end: one set up while the task
    // is dying gets `noproc` at once, possibly before its exit has reached the supervisor.
    let m = runtime::monitor(p2);
    send(p2, Finish);
    let d = runtime::receive_match::<runtime::Down>(|d| d.monitor == m);
    assert_eq!(d.reason, ExitReason::Normal);
    assert!(sup.children().expect("children").is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn async_task_returns_the_result_and_is_linked_to_the_caller() {
    let sup = tasks();
    let t = sup.async_task(|| 6 * 7).expect("async");
    assert_eq!(t.join(), Ok(42));
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn a_crashing_async_task_reaches_a_trapping_caller_as_an_exit() {
    let sup = tasks();
    trap_exit(true);
    let t = sup
        .async_task(|| -> u32 { panic!("bad input") })
        .expect("async");
    let task_pid = t.pid();
    let e = receive_match_timeout(WAIT, |e: &Exit| e.from == task_pid).expect("the link's Exit");
    assert!(
        matches!(e.reason, ExitReason::Panic(ref m) if m.contains("bad input")),
        "{}",
        e.reason
    );
    assert!(matches!(
        t.join(),
        Err(TaskError::Exit(ExitReason::Panic(_)))
    ));
    assert!(
        sup.children().expect("children").is_empty(),
        "tasks are temporary"
    );
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn async_nolink_returns_the_result_and_never_an_exit() {
    let sup = tasks();
    trap_exit(true);
    let t = sup.async_nolink(|| "done").expect("async");
    let task_pid = t.pid();
    assert_eq!(t.join(), Ok("done"));
    let crashing = sup
        .async_nolink(|| -> u32 { panic!("crashed") })
        .expect("async");
    let crash_pid = crashing.pid();
    match crashing.join() {
        Err(TaskError::Exit(ExitReason::Panic(m))) => assert!(m.contains("crashed")),
        other => panic!("expected the crash as an Err, got {other:?}"),
    }
    // A link's Exit would have arrived before the monitor's Down that ended join.
    assert!(
        receive_match_timeout(Duration::ZERO, |e: &Exit| e.from == crash_pid
            || e.from == task_pid)
        .is_none(),
        "async_nolink must not link"
    );
    stop(sup.as_supervisor(), &[]);
}

#[test]
fn stopping_the_supervisor_stops_running_tasks() {
    let sup = tasks();
    let me = self_pid();
    let running: Vec<Pid> = (0..3)
        .map(|_| {
            sup.start_child(move || {
                send(me, "running");
                let Finish = receive();
            })
            .expect("start")
        })
        .collect();
    for _ in 0..3 {
        assert_eq!(receive::<&str>(), "running");
    }
    let nolink = sup
        .async_nolink(|| {
            let Finish = receive();
        })
        .expect("async");
    let mut all = running.clone();
    all.push(nolink.pid());
    stop(sup.as_supervisor(), &all);
    assert_eq!(nolink.join(), Err(TaskError::Exit(ExitReason::Shutdown)));
}

#[test]
fn a_named_task_supervisor_under_a_supervisor() {
    // Seed 003: children = [{Task.Supervisor, name: ExampleApp.TaskSupervisor}].
    quiet();
    let top = supervisor::Supervisor::start_link(
        vec![TaskSupervisor::child_spec(
            "tasks",
            DynamicOpts::new().name("task_sup_test"),
        )],
        supervisor::SupervisorOpts::new(),
    )
    .expect("start");
    let tasks = TaskSupervisor::named("task_sup_test");
    let t = tasks.async_nolink(|| 1 + 1).expect("async");
    assert_eq!(t.join(), Ok(2));
    stop(&top, &[]);
}

#[test]
fn a_crashing_async_task_takes_a_caller_that_does_not_trap_exits_with_it() {
    // Task.Supervisor.async/2 links the caller and the task: "if the task crashes, the caller
    // crashes too".
    let sup = tasks();
    let s = sup.clone();
    let (_caller, m) = runtime::spawn_monitor(move || {
        let t = s
            .async_task(|| -> u32 { panic!("bad input") })
            .expect("async");
        let _ = t.join();
        unreachable!("the link's exit signal ends the caller first");
    });
    let d = receive_match_timeout(WAIT, |d: &runtime::Down| d.monitor == m).expect("Down");
    assert!(
        matches!(d.reason, ExitReason::Panic(ref msg) if msg.contains("bad input")),
        "the caller died with the task's reason, not {}",
        d.reason
    );
    assert!(
        runtime::is_alive(sup.pid().expect("pid")),
        "the supervisor is not linked to it"
    );
    stop(sup.as_supervisor(), &[]);
}
