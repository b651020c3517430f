//! Registered names and exit hooks.
//!
//! Ports erlang:register/2, unregister/1, whereis/1 (otp-semantics.md 1.7) and the Reference
//! Manual, Processes, "Directly Visible Erlang Resources" (1.3): a dying process releases its
//! name before its links and monitors fire.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Probe, down_for, r};
use runtime::{
    Down, Exit, ExitReason, NoProc, NotRegistered, RegisterError, SendError, SpawnOpts,
    add_exit_hook, exit, monitor, process_info, receive, recv, register, registered,
    remove_exit_hook, self_pid, send, send_named, spawn_monitor, trap_exit, unregister, whereis,
};

/// Names are global to the test binary: each test uses its own.
fn name(test: &str) -> String {
    format!("names::{test}")
}

#[test]
fn register_whereis_send_named_unregister() {
    let n = name("basic");
    let p = Probe::new();
    assert_eq!(whereis(&n), None);
    register(&n, p.pid).expect("register");
    assert_eq!(whereis(&n), Some(p.pid));
    assert!(registered().contains(&n));
    assert_eq!(
        process_info(p.pid).expect("alive").registered_name,
        Some(n.clone())
    );
    // send_named reaches the process.
    let me = self_pid();
    send_named(&n, move || ()).expect("send by name"); // a message the probe ignores
    p.run(move || send(me, "via pid"));
    assert_eq!(receive::<&str>(), "via pid");
    unregister(&n).expect("unregister");
    assert_eq!(whereis(&n), None);
    assert!(!registered().contains(&n));
    assert_eq!(process_info(p.pid).expect("alive").registered_name, None);
    // After unregistering, send_named fails and hands the message back.
    match send_named(&n, 42u32) {
        Err(e @ SendError::NotRegistered { .. }) => assert_eq!(e.into_message(), 42),
        other => panic!("sent to an unregistered name: {other:?}"),
    }
    assert_eq!(unregister(&n), Err(NotRegistered(n.clone())));
    p.stop();
    common::assert_probes_ended();
}

#[test]
fn send_named_delivers_in_order() {
    let n = name("send_named");
    let me = self_pid();
    let (pid, m) = spawn_monitor(move || {
        for _ in 0..3 {
            let v: u32 = receive();
            send(me, v);
        }
    });
    register(&n, pid).expect("register");
    for v in 0..3u32 {
        send_named(&n, v).expect("send");
    }
    for v in 0..3u32 {
        assert_eq!(receive::<u32>(), v);
    }
    assert_eq!(down_for(m).reason, ExitReason::Normal);
    assert_eq!(whereis(&n), None, "released at exit");
    common::assert_probes_ended();
}

#[test]
fn register_errors_are_typed() {
    let n = name("errors");
    let a = Probe::new();
    let b = Probe::new();
    assert_eq!(register("", a.pid), Err(RegisterError::EmptyName));
    register(&n, a.pid).expect("register");
    // The name is taken.
    assert_eq!(
        register(&n, b.pid),
        Err(RegisterError::NameTaken {
            name: n.clone(),
            pid: a.pid
        })
    );
    // The process already has a name (one name per process).
    let second = name("errors-second");
    assert_eq!(
        register(&second, a.pid),
        Err(RegisterError::AlreadyNamed {
            pid: a.pid,
            name: n.clone()
        })
    );
    assert_eq!(whereis(&second), None);
    // Registering the same pid under the same name again is also an error (badarg in OTP).
    assert!(register(&n, a.pid).is_err());
    // A dead pid.
    let dead = b.pid;
    b.stop();
    assert_eq!(register(&second, dead), Err(RegisterError::NoProc(dead)));
    assert_eq!(whereis(&second), None);
    assert_eq!(whereis(&n), Some(a.pid));
    a.stop();
    assert_eq!(whereis(&n), None);
    common::assert_probes_ended();
}

/// The name is free as soon as exit/2 returns, and the process can be given a new name.
#[test]
fn a_killed_process_releases_its_name_at_once() {
    let n = name("killed");
    let p = Probe::new();
    register(&n, p.pid).expect("register");
    exit(p.pid, ExitReason::Kill);
    assert_eq!(whereis(&n), None);
    let q = Probe::new();
    register(&n, q.pid).expect("the name is free");
    q.stop();
    assert_eq!(p.wait_down(), ExitReason::Killed);
    common::assert_probes_ended();
}

/// A watcher that gets the Down (or the Exit) of a named process can take the name at once:
/// the name is released before links and monitors fire. Repeated, since the watcher runs on
/// another thread than the death procedure.
#[test]
fn name_is_released_before_links_and_monitors_fire() {
    let n = name("restart");
    let me = self_pid();
    for i in 0..300 {
        let n2 = n.clone();
        // The old process dies by itself (on its own thread) half the time, killed from the
        // test the other half.
        let old = Probe::new();
        register(&n, old.pid).expect("register");
        let by_link = i % 2 == 0;
        let old_pid = old.pid;
        let watcher = Probe::spawn(if by_link {
            SpawnOpts::new().trap_exit()
        } else {
            SpawnOpts::new()
        });
        watcher.call(move || {
            if by_link {
                runtime::link(old_pid).expect("link");
            } else {
                monitor(old_pid);
            }
        });
        watcher.run(move || {
            if by_link {
                let _: Exit = receive();
            } else {
                let _: Down = receive();
            }
            send(me, register(&n2, self_pid()));
        });
        if i % 4 < 2 {
            old.run(|| runtime::exit_self(r("old")));
        } else {
            exit(old.pid, r("old"));
        }
        assert_eq!(receive::<Result<(), RegisterError>>(), Ok(()), "round {i}");
        assert_eq!(whereis(&n), Some(watcher.pid));
        assert_eq!(old.wait_down(), r("old"));
        watcher.stop();
        assert_eq!(whereis(&n), None);
    }
    common::assert_probes_ended();
}

/// Exit hooks run exactly once, after the name is released and before links and monitors are
/// notified; a removed hook never runs.
#[test]
fn exit_hooks_run_once_before_notifications() {
    let n = name("hooks");
    let me = self_pid();
    let runs = Arc::new(AtomicUsize::new(0));
    let p = Probe::new();
    register(&n, p.pid).expect("register");
    let runs2 = runs.clone();
    let n2 = n.clone();
    let id = add_exit_hook(p.pid, move |pid, reason| {
        runs2.fetch_add(1, Ordering::SeqCst);
        send(me, ("hook", pid, reason.clone(), whereis(&n2)));
    })
    .expect("hook");
    let removed =
        add_exit_hook(p.pid, move |_, _| send(me, "removed hook ran")).expect("second hook");
    assert!(remove_exit_hook(p.pid, removed));
    assert!(!remove_exit_hook(p.pid, removed), "already removed");
    trap_exit(true);
    runtime::link(p.pid).expect("link");
    // The probe ends itself, so the hook runs on the probe's thread.
    p.run(|| runtime::exit_self(r("bye")));
    // Hook message first, then the link's Exit and the monitor's Down.
    let first = recv()
        .downcast::<(&str, runtime::Pid, ExitReason, Option<runtime::Pid>)>()
        .expect("the hook's message comes first");
    assert_eq!(first, ("hook", p.pid, r("bye"), None));
    let second = recv();
    let third = recv();
    assert!(second.is::<Exit>() || second.is::<Down>(), "{second:?}");
    assert!(third.is::<Exit>() || third.is::<Down>(), "{third:?}");
    trap_exit(false);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // Killing it again does not run anything again; the removed hook never ran.
    exit(p.pid, ExitReason::Kill);
    assert!(runtime::recv_timeout(std::time::Duration::ZERO).is_none());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(!remove_exit_hook(p.pid, id));
    common::assert_probes_ended();
}

#[test]
fn exit_hook_on_a_dead_process_is_an_error() {
    let p = Probe::new();
    let pid = p.pid;
    p.stop();
    assert_eq!(add_exit_hook(pid, |_, _| {}).map(|_| ()), Err(NoProc(pid)));
    common::assert_probes_ended();
}

/// A hook also runs when the process is killed from outside, on the killer's thread, before
/// exit/2 returns.
#[test]
fn exit_hook_runs_when_killed() {
    let runs = Arc::new(AtomicUsize::new(0));
    let p = Probe::new();
    let runs2 = runs.clone();
    add_exit_hook(p.pid, move |_, reason| {
        assert_eq!(*reason, ExitReason::Killed);
        runs2.fetch_add(1, Ordering::SeqCst);
    })
    .expect("hook");
    exit(p.pid, ExitReason::Kill);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(p.down_now(), Some(ExitReason::Killed));
    common::assert_probes_ended();
}

/// An exit hook that cannot be added (its process is dead) is dropped with no runtime lock
/// held: its captured values' destructors may use the runtime (here they spawn processes,
/// enough that one lands in every shard of the process table). Run on a helper thread so that
/// a deadlock fails the test instead of hanging it.
#[test]
fn a_rejected_exit_hook_is_dropped_with_no_lock_held() {
    struct SpawnsOnDrop(Option<std::sync::mpsc::Sender<()>>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            for _ in 0..130 {
                let (_, m) = spawn_monitor(|| {});
                down_for(m);
            }
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }
    let p = Probe::new();
    let dead = p.pid;
    p.stop();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let guard = SpawnsOnDrop(Some(tx));
        let added = add_exit_hook(dead, move |_, _| drop(guard));
        assert!(added.is_err());
    });
    assert!(
        rx.recv_timeout(common::WAIT).is_ok(),
        "the hook's destructor deadlocked"
    );
    common::assert_probes_ended();
}
