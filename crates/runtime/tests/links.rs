//! Links: bidirectional, one per pair, self-link no-op, spawn_link atomic, link to a dead pid,
//! unlink and unlink_flush.
//!
//! Ports the Reference Manual, Processes, "Links", and the erlang:link/1 and erlang:unlink/1
//! documentation (otp-semantics.md 1.3).

mod common;

use common::{Note, Probe, assert_all_end, exit_from, exit_queued, r};
use runtime::{
    Exit, ExitReason, LinkError, Pid, SpawnOpts, exit, exit_self, link, process_info, self_pid,
    spawn_link, trap_exit, unlink, unlink_flush,
};

fn links_of(pid: Pid) -> Vec<Pid> {
    process_info(pid).expect("alive").links
}

/// Both sides record the link, whichever side made it.
#[test]
fn a_link_is_bidirectional() {
    let a = Probe::new();
    let b = Probe::trapping();
    let pb = b.pid;
    a.call(move || link(pb)).expect("link");
    assert_eq!(links_of(a.pid), vec![b.pid]);
    assert_eq!(links_of(b.pid), vec![a.pid]);
    // The signal travels from a to b (b made no call).
    a.run(|| exit_self(r("a died")));
    assert_eq!(a.wait_down(), r("a died"));
    assert_eq!(
        b.next_exit(),
        Exit {
            from: a.pid,
            reason: r("a died")
        }
    );
    assert_eq!(links_of(b.pid), Vec::<Pid>::new());
    b.stop();
    common::assert_probes_ended();
}

/// Linking twice is the same as once: one link, one exit signal.
#[test]
fn at_most_one_link_per_pair() {
    let a = Probe::new();
    let b = Probe::trapping();
    let (pa, pb) = (a.pid, b.pid);
    a.call(move || link(pb)).expect("link");
    a.call(move || link(pb)).expect("link again");
    b.call(move || link(pa)).expect("link from the other side");
    assert_eq!(links_of(a.pid), vec![pb]);
    assert_eq!(links_of(b.pid), vec![pa]);
    // One unlink removes it entirely.
    a.call(move || unlink(pb));
    assert!(links_of(pa).is_empty() && links_of(pb).is_empty());
    a.call(move || link(pb)).expect("relink");
    exit(pa, r("once"));
    assert_eq!(a.wait_down(), r("once"));
    assert_eq!(
        b.drain_notes(),
        vec![Note::Exit(Exit {
            from: pa,
            reason: r("once")
        })]
    );
    b.stop();
    common::assert_probes_ended();
}

#[test]
fn linking_to_self_does_nothing() {
    let me = self_pid();
    assert_eq!(link(me), Ok(()));
    assert!(links_of(me).is_empty());
    unlink(me);
    unlink_flush(me);
    common::assert_probes_ended();
}

/// spawn_link: the link exists before the child runs its first instruction, so even a child
/// that dies at once is reported as a link exit (never as noproc, never lost).
#[test]
fn spawn_link_is_atomic() {
    trap_exit(true);
    let mut pids = Vec::new();
    for i in 0..200 {
        let reason = r(&format!("early {i}"));
        let reason2 = reason.clone();
        let child = spawn_link(move || exit_self(reason2));
        assert_eq!(
            exit_from(child),
            Exit {
                from: child,
                reason
            }
        );
        pids.push(child);
    }
    trap_exit(false);
    assert!(links_of(self_pid()).is_empty());
    assert_all_end(&pids);
    common::assert_probes_ended();
}

/// spawn_link from a process that does not trap: the child's crash takes it down too.
#[test]
fn spawn_link_crash_takes_the_parent_down() {
    let parent = Probe::new();
    parent.run(|| {
        spawn_link(|| exit_self(r("child crashed")));
        let _: u32 = runtime::receive();
    });
    assert_eq!(parent.wait_down(), r("child crashed"));
    common::assert_probes_ended();
}

/// erlang:link/1 on a dead local pid while not trapping: a noproc error, no link.
#[test]
fn link_to_a_dead_pid_is_noproc_when_not_trapping() {
    let dead = Probe::new();
    let pid = dead.pid;
    dead.stop();
    let p = Probe::new();
    assert_eq!(p.call(move || link(pid)), Err(LinkError::NoProc(pid)));
    assert!(links_of(p.pid).is_empty());
    assert_eq!(p.drain_notes(), vec![]);
    p.stop();
    common::assert_probes_ended();
}

/// erlang:link/1 on a dead pid while trapping: true, then {'EXIT', Pid, noproc}.
#[test]
fn link_to_a_dead_pid_is_an_exit_message_when_trapping() {
    let dead = Probe::new();
    let pid = dead.pid;
    dead.stop();
    let p = Probe::trapping();
    assert_eq!(p.call(move || link(pid)), Ok(()));
    assert!(links_of(p.pid).is_empty());
    assert_eq!(
        p.drain_notes(),
        vec![Note::Exit(Exit {
            from: pid,
            reason: ExitReason::NoProc
        })]
    );
    p.stop();
    common::assert_probes_ended();
}

/// After unlink returns the link has no further effect, whichever side unlinks.
#[test]
fn unlink_then_no_effect() {
    for from_other_side in [false, true] {
        let a = Probe::new();
        let b = Probe::new();
        let (pa, pb) = (a.pid, b.pid);
        a.call(move || link(pb)).expect("link");
        if from_other_side {
            b.call(move || unlink(pa));
        } else {
            a.call(move || unlink(pb));
        }
        assert!(links_of(pa).is_empty() && links_of(pb).is_empty());
        exit(pa, r("gone"));
        assert_eq!(a.wait_down(), r("gone"));
        b.stop(); // b was not taken down
    }
    common::assert_probes_ended();
}

/// Unlinking a process that is not linked (or is dead) is harmless.
#[test]
fn unlink_without_a_link_is_harmless() {
    let a = Probe::new();
    let b = Probe::new();
    let pb = b.pid;
    a.call(move || unlink(pb));
    b.stop();
    a.call(move || unlink(pb));
    a.stop();
    common::assert_probes_ended();
}

/// unlink_flush removes an Exit already queued (supervisor's unlink_flush/2; the ERTS unlink/1
/// recommendation `unlink(Id), receive {'EXIT', Id, _} -> true after 0 -> true end`).
#[test]
fn unlink_flush_removes_a_queued_exit() {
    trap_exit(true);
    let child = Probe::new();
    let c = child.pid;
    link(c).expect("link");
    exit(c, r("queued"));
    assert_eq!(child.wait_down(), r("queued"));
    // The Exit is in the mailbox now; unlink alone leaves it there...
    unlink(c);
    let e = exit_queued(c).expect("unlink leaves a queued Exit");
    assert_eq!(e.reason, r("queued"));
    // ... and unlink_flush removes it, and only it.
    let other = Probe::new();
    let o = other.pid;
    link(o).expect("link");
    exit(o, r("flushed"));
    assert_eq!(other.wait_down(), r("flushed"));
    runtime::send(self_pid(), "kept");
    unlink_flush(o);
    assert!(exit_queued(o).is_none());
    assert_eq!(runtime::receive::<&str>(), "kept");
    trap_exit(false);
    common::assert_probes_ended();
}

/// A spawn option link behaves like spawn_link, and works with trap_exit in the child.
#[test]
fn spawn_opt_link_with_trap_exit() {
    let me = self_pid();
    let s = SpawnOpts::new()
        .link()
        .trap_exit()
        .monitor()
        .spawn(move || {
            let e: Exit = runtime::receive();
            runtime::send(me, e);
        })
        .expect("spawn");
    assert_eq!(links_of(me), vec![s.pid]);
    assert!(process_info(s.pid).is_some_and(|i| i.trap_exit));
    // The test thread does not trap; a normal exit signal along the link would not hurt it, but
    // send a non-lethal one from here: exit/2 with normal to the child is a message there.
    exit(s.pid, ExitReason::Normal);
    assert_eq!(
        runtime::receive::<Exit>(),
        Exit {
            from: me,
            reason: ExitReason::Normal
        }
    );
    // The child ends normally; the link's normal signal does not kill this thread.
    let d = common::down_for(s.monitor.expect("monitor"));
    assert_eq!(d.reason, ExitReason::Normal);
    assert!(links_of(me).is_empty());
    common::assert_probes_ended();
}
