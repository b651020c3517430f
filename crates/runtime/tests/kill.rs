//! Killing processes that run on threads (DESIGN.md 3.1, "Kill on threads"): the kill takes
//! effect on the system when `exit` returns, and the thread stops at its next runtime call.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};

use common::{Probe, WAIT, assert_all_end, down_for, exit_queued, r};
use runtime::{
    Down, Exit, ExitReason, SpawnOpts, checkpoint, exit, is_alive, link, monitor, process_info,
    receive, register, self_pid, send, spawn_monitor, whereis,
};

/// Sends on a std channel when dropped: proof that the closure's frame unwound.
struct Unwound(mpsc::Sender<&'static str>);

impl Drop for Unwound {
    fn drop(&mut self) {
        let _ = self.0.send("unwound");
    }
}

/// Everything about a killed process holds as soon as `exit` returns: it is not alive, its
/// name is free, its monitors and links have fired.
fn check_dead_on_return(kill: impl FnOnce(runtime::Pid), name: &str, reason: ExitReason) {
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    let s = SpawnOpts::new()
        .name(name)
        .monitor()
        .spawn(move || {
            let _guard = Unwound(tx);
            ready_tx.send(()).expect("test waits");
            let _: u64 = receive(); // never sent
            unreachable!("a killed process does not get past receive");
        })
        .expect("spawn");
    let linked = Probe::trapping();
    let pid = s.pid;
    linked.call(move || link(pid)).expect("link");
    ready_rx.recv_timeout(WAIT).expect("the process started");
    kill(pid);
    assert!(!is_alive(pid));
    assert_eq!(whereis(name), None);
    assert!(process_info(pid).is_none());
    assert!(!runtime::processes().contains(&pid));
    let d = common::down_queued(s.monitor.expect("monitor")).expect("Down queued on return");
    assert_eq!(d.reason, reason);
    // The linked process had its Exit queued before the kill returned; a round trip shows it.
    assert_eq!(
        linked.drain_notes(),
        vec![common::Note::Exit(Exit { from: pid, reason })]
    );
    // The thread unwinds promptly: the guard in the closure is dropped.
    assert_eq!(rx.recv_timeout(WAIT), Ok("unwound"));
    linked.stop();
}

#[test]
fn killed_in_receive_is_dead_at_once_and_unwinds() {
    check_dead_on_return(
        |pid| exit(pid, ExitReason::Kill),
        "kill::in_receive",
        ExitReason::Killed,
    );
    common::assert_probes_ended();
}

#[test]
fn ended_by_a_signal_in_receive_is_dead_at_once_and_unwinds() {
    check_dead_on_return(
        |pid| exit(pid, ExitReason::Shutdown),
        "kill::shutdown",
        ExitReason::Shutdown,
    );
    check_dead_on_return(|pid| exit(pid, r("custom")), "kill::custom", r("custom"));
    common::assert_probes_ended();
}

/// A process killed through a link (its partner died) is also stopped promptly.
#[test]
fn killed_through_a_link_in_receive_unwinds() {
    let partner = Probe::new();
    let p = partner.pid;
    check_dead_on_return(
        move |pid| {
            // Link the victim to the partner from the partner's side, then kill the partner:
            // the cascade ends the victim before exit/2 returns.
            partner.call(move || link(pid)).expect("link");
            exit(p, r("cascade"));
            assert_eq!(partner.wait_down(), r("cascade"));
        },
        "kill::cascade",
        r("cascade"),
    );
    common::assert_probes_ended();
}

/// A process that never calls receive stops at its next checkpoint.
#[test]
fn killed_while_looping_on_checkpoint_stops() {
    let (tx, rx) = mpsc::channel();
    let started = Arc::new(Barrier::new(2));
    let started2 = started.clone();
    let (pid, m) = spawn_monitor(move || {
        let _guard = Unwound(tx);
        started2.wait();
        let mut n: u64 = 0;
        loop {
            n = n.wrapping_add(1);
            std::hint::black_box(n);
            checkpoint();
        }
    });
    started.wait();
    exit(pid, ExitReason::Kill);
    assert!(!is_alive(pid));
    assert_eq!(down_for(m).reason, ExitReason::Killed);
    assert_eq!(rx.recv_timeout(WAIT), Ok("unwound"));
    common::assert_probes_ended();
}

/// A killed process whose next runtime call is a send stops there, and its message is dropped.
#[test]
fn killed_process_stops_at_its_next_send() {
    let me = self_pid();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (tx, rx) = mpsc::channel();
    let (pid, m) = spawn_monitor(move || {
        let _guard = Unwound(tx);
        go_rx.recv().expect("go");
        send(me, "sent after death");
        unreachable!("send from a dead process unwinds");
    });
    exit(pid, ExitReason::Kill);
    go_tx
        .send(())
        .expect("the closure is still waiting on the channel");
    assert_eq!(rx.recv_timeout(WAIT), Ok("unwound"));
    assert_eq!(down_for(m).reason, ExitReason::Killed);
    assert!(receive_now::<&str>().is_none());
    common::assert_probes_ended();
}

fn receive_now<T: Send + 'static>() -> Option<T> {
    runtime::receive_timeout(std::time::Duration::ZERO)
}

/// A destructor that uses the runtime while a killed process unwinds must not abort the
/// program (a panic during unwinding aborts): the send from the dead process is dropped.
#[test]
fn a_destructor_that_sends_while_a_killed_process_unwinds() {
    struct SendsOnDrop(runtime::Pid);
    impl Drop for SendsOnDrop {
        fn drop(&mut self) {
            send(self.0, "from a destructor");
            checkpoint();
        }
    }
    let me = self_pid();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    let (pid, m) = spawn_monitor(move || {
        let _unwound = Unwound(tx); // dropped after the guard below
        let _guard = SendsOnDrop(me);
        ready_tx.send(()).expect("test waits");
        let _: u64 = receive();
    });
    ready_rx.recv_timeout(WAIT).expect("started");
    exit(pid, ExitReason::Kill);
    assert_eq!(down_for(m).reason, ExitReason::Killed);
    assert_eq!(rx.recv_timeout(WAIT), Ok("unwound"));
    assert!(
        receive_now::<&str>().is_none(),
        "a dead process's send is dropped"
    );
    // The unwinding finished without aborting: a new process on a pooled thread runs fine.
    let (p2, m2) = spawn_monitor(|| {});
    assert_eq!(down_for(m2).reason, ExitReason::Normal);
    assert_all_end(&[pid, p2]);
    // A destructor of a process that ends normally still sends (it is alive then).
    let (_, m3) = spawn_monitor(move || {
        let _guard = SendsOnDrop(me);
    });
    assert_eq!(receive::<&str>(), "from a destructor");
    assert_eq!(down_for(m3).reason, ExitReason::Normal);
    common::assert_probes_ended();
}

/// A process killing itself with exit/2 and kill: killed, and it stops at once.
#[test]
fn a_process_killing_itself() {
    let (tx, rx) = mpsc::channel();
    let (pid, m) = spawn_monitor(move || {
        let _guard = Unwound(tx);
        exit(self_pid(), ExitReason::Kill);
        unreachable!("killed itself");
    });
    assert_eq!(down_for(m).reason, ExitReason::Killed);
    assert_eq!(rx.recv_timeout(WAIT), Ok("unwound"));
    assert!(!is_alive(pid));
    common::assert_probes_ended();
}

/// Two kills of the same process: the first wins, the second does nothing.
#[test]
fn killing_twice_is_harmless() {
    let p = Probe::trapping();
    let watcher = monitor(p.pid);
    exit(p.pid, r("first"));
    exit(p.pid, ExitReason::Kill);
    exit(p.pid, ExitReason::Kill);
    assert_eq!(p.wait_down(), ExitReason::Killed);
    let d: Down = down_for(watcher);
    assert_eq!(d.reason, ExitReason::Killed);
    assert!(common::down_queued(watcher).is_none());
    assert!(exit_queued(p.pid).is_none());
    common::assert_probes_ended();
}

/// Killing a process blocked in receive, many times: no kill is ever missed, every thread
/// unwinds, and the registered name can be taken back right away.
#[test]
fn kill_in_receive_many_times() {
    let name = "kill::many";
    let (tx, rx) = mpsc::channel();
    let mut pids = Vec::new();
    for i in 0..300 {
        let tx = tx.clone();
        let s = SpawnOpts::new()
            .name(name)
            .monitor()
            .spawn(move || {
                let _guard = Unwound(tx);
                let _: u64 = receive();
            })
            .expect("the name is free again");
        if i % 2 == 0 {
            register(name, self_pid()).expect_err("taken by the child");
        }
        exit(s.pid, ExitReason::Kill);
        assert_eq!(whereis(name), None);
        assert_eq!(
            down_for(s.monitor.expect("monitor")).reason,
            ExitReason::Killed
        );
        pids.push(s.pid);
    }
    for _ in 0..300 {
        assert_eq!(rx.recv_timeout(WAIT), Ok("unwound"));
    }
    assert_all_end(&pids);
    common::assert_probes_ended();
}

/// exit/2 racing with the process's own end: whichever wins, when exit returns the process is
/// dead, its name is free and its monitors have fired.
#[test]
fn exit_racing_with_the_process_own_end() {
    let name = "kill::race_end";
    for round in 0..1000 {
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let s = SpawnOpts::new()
            .name(name)
            .monitor()
            .spawn(move || {
                b2.wait();
            })
            .expect("the name is free");
        barrier.wait();
        exit(s.pid, ExitReason::Kill);
        assert!(!is_alive(s.pid));
        assert_eq!(whereis(name), None, "round {round}");
        let d = common::down_queued(s.monitor.expect("monitor"));
        let d = d.unwrap_or_else(|| panic!("round {round}: no Down when exit returned"));
        assert!(
            matches!(d.reason, ExitReason::Killed | ExitReason::Normal),
            "round {round}: {d:?}"
        );
    }
    common::assert_probes_ended();
}

/// A message whose destructor panics, left in a killed process's mailbox, does not stop the
/// death procedure: the killer carries on, the name is freed, the monitors fire.
#[test]
fn a_panicking_destructor_in_a_killed_mailbox() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("destructor panics");
        }
    }
    let name = "kill::panicking_destructor";
    let (tx, rx) = mpsc::channel::<()>();
    let s = SpawnOpts::new()
        .name(name)
        .monitor()
        .spawn(move || {
            let _ = rx.recv(); // never receives from its mailbox
        })
        .expect("spawn");
    send(s.pid, PanicsOnDrop);
    exit(s.pid, ExitReason::Kill);
    assert_eq!(whereis(name), None);
    let d = common::down_queued(s.monitor.expect("monitor")).expect("Down");
    assert_eq!(d.reason, ExitReason::Killed);
    drop(tx);
    common::assert_probes_ended();
}
