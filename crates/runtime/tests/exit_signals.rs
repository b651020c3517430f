//! The exit-signal matrix, one test per row and trap mode.
//!
//! Ports the table of the Erlang Reference Manual, Processes, "Receiving Exit Signals" (and
//! erlang:exit/2's notes), as restated in DESIGN.md 3.1 and otp-semantics.md 1.2.

mod common;

use common::{Note, Probe, r};
use runtime::{Exit, ExitReason, Pid, exit, exit_self, link, self_pid, unlink};

fn probe(trap: bool) -> Probe {
    if trap {
        Probe::trapping()
    } else {
        Probe::new()
    }
}

/// The probe dies with `reason`.
fn check_dies(p: &Probe, reason: ExitReason) {
    assert_eq!(p.wait_down(), reason, "fate of {}", p.pid);
}

/// The probe is alive, has received exactly `notes`, and then stops normally (so it was not
/// killed later either).
fn check_survives(p: Probe, notes: &[Note]) {
    assert_eq!(p.drain_notes(), notes, "notes of {}", p.pid);
    p.stop();
}

fn exit_note(from: Pid, reason: ExitReason) -> Note {
    Note::Exit(Exit { from, reason })
}

/// `exit(p, reason)` sent by the test (no link flag).
fn signal_from_test(trap: bool, reason: ExitReason) -> Probe {
    let p = probe(trap);
    exit(p.pid, reason);
    p
}

/// `p` is linked to a partner that ends itself with `exit_self(reason)` (`exit/1`): the
/// signal reaching `p` has the link flag.
fn signal_through_link(trap: bool, reason: ExitReason) -> (Probe, Pid) {
    let p = probe(trap);
    let partner = Probe::new();
    let k = partner.pid;
    p.call(move || link(k)).expect("link");
    partner.run({
        let reason = reason.clone();
        move || exit_self(reason)
    });
    assert_eq!(partner.wait_down(), reason);
    (p, k)
}

// Row: link flag set, link already removed -> dropped (both trap modes).

fn check_unlinked_signal_dropped(trap: bool, unlink_from_partner: bool) {
    let p = probe(trap);
    let partner = Probe::new();
    let k = partner.pid;
    let me = p.pid;
    p.call(move || link(k)).expect("link");
    if unlink_from_partner {
        partner.call(move || unlink(me));
    } else {
        p.call(move || unlink(k));
    }
    partner.run(|| exit_self(r("after unlink")));
    assert_eq!(partner.wait_down(), r("after unlink"));
    check_survives(p, &[]);
}

#[test]
fn unlinked_signal_is_dropped_not_trapping() {
    check_unlinked_signal_dropped(false, false);
    check_unlinked_signal_dropped(false, true);
    common::assert_probes_ended();
}

#[test]
fn unlinked_signal_is_dropped_trapping() {
    check_unlinked_signal_dropped(true, false);
    check_unlinked_signal_dropped(true, true);
    common::assert_probes_ended();
}

// Row: reason normal, sender is another process.

#[test]
fn normal_from_another_process_is_ignored_when_not_trapping() {
    let p = signal_from_test(false, ExitReason::Normal);
    check_survives(p, &[]);
    let (p, _) = signal_through_link(false, ExitReason::Normal);
    check_survives(p, &[]);
    common::assert_probes_ended();
}

#[test]
fn normal_from_another_process_is_a_message_when_trapping() {
    let p = signal_from_test(true, ExitReason::Normal);
    check_survives(p, &[exit_note(self_pid(), ExitReason::Normal)]);
    let (p, k) = signal_through_link(true, ExitReason::Normal);
    check_survives(p, &[exit_note(k, ExitReason::Normal)]);
    common::assert_probes_ended();
}

// Row: reason normal sent to itself with exit/2 (the documented quirk of erlang:exit/2).

#[test]
fn normal_sent_to_itself_kills_when_not_trapping() {
    let p = probe(false);
    p.run(|| {
        exit(self_pid(), ExitReason::Normal);
        unreachable!("a process that ended itself runs no more code");
    });
    check_dies(&p, ExitReason::Normal);
    common::assert_probes_ended();
}

#[test]
fn normal_sent_to_itself_is_a_message_from_itself_when_trapping() {
    let p = probe(true);
    let pid = p.pid;
    p.call(|| exit(self_pid(), ExitReason::Normal));
    check_survives(p, &[exit_note(pid, ExitReason::Normal)]);
    common::assert_probes_ended();
}

// Row: kill sent with exit/2 -> killed, untrappable.

#[test]
fn kill_with_exit_2_kills_a_process_not_trapping() {
    let p = signal_from_test(false, ExitReason::Kill);
    check_dies(&p, ExitReason::Killed);
    common::assert_probes_ended();
}

#[test]
fn kill_with_exit_2_kills_a_process_trapping() {
    let p = signal_from_test(true, ExitReason::Kill);
    check_dies(&p, ExitReason::Killed);
    // Also when a trapping process sends it to itself.
    let p = probe(true);
    p.run(|| exit(self_pid(), ExitReason::Kill));
    check_dies(&p, ExitReason::Killed);
    common::assert_probes_ended();
}

// Row: kill arriving through a link (the partner called exit(kill), i.e. exit_self(Kill)).

#[test]
fn kill_through_a_link_kills_with_kill_when_not_trapping() {
    let (p, _) = signal_through_link(false, ExitReason::Kill);
    // Not converted to killed (ERTS exit/1 note; observed on OTP 25).
    check_dies(&p, ExitReason::Kill);
    common::assert_probes_ended();
}

#[test]
fn kill_through_a_link_is_a_message_when_trapping() {
    let (p, k) = signal_through_link(true, ExitReason::Kill);
    check_survives(p, &[exit_note(k, ExitReason::Kill)]);
    common::assert_probes_ended();
}

// Row: any other reason R (including killed and shutdown), through exit/2 or a link.

fn other_reasons() -> Vec<ExitReason> {
    vec![
        ExitReason::Shutdown,
        ExitReason::shutdown_with("done"),
        ExitReason::Killed,
        ExitReason::NoProc,
        ExitReason::Panic("boom".into()),
        r("custom"),
    ]
}

#[test]
fn other_reason_kills_when_not_trapping() {
    for reason in other_reasons() {
        let p = signal_from_test(false, reason.clone());
        check_dies(&p, reason.clone());
        let (p, _) = signal_through_link(false, reason.clone());
        check_dies(&p, reason);
    }
    common::assert_probes_ended();
}

#[test]
fn other_reason_is_a_message_when_trapping() {
    let me = self_pid();
    for reason in other_reasons() {
        let p = signal_from_test(true, reason.clone());
        check_survives(p, &[exit_note(me, reason.clone())]);
        let (p, k) = signal_through_link(true, reason.clone());
        check_survives(p, &[exit_note(k, reason)]);
    }
    common::assert_probes_ended();
}

#[test]
fn other_reason_sent_to_itself_kills_or_is_a_message() {
    let p = probe(false);
    p.run(|| exit(self_pid(), r("self")));
    check_dies(&p, r("self"));
    let p = probe(true);
    let pid = p.pid;
    p.call(|| exit(self_pid(), r("self")));
    check_survives(p, &[exit_note(pid, r("self"))]);
    common::assert_probes_ended();
}

// "A process killed via exit(P, kill) propagates killed to its links; a non-trapping linked
// process then dies with killed" (otp-semantics 1.2, observed on OTP 25).

#[test]
fn killed_propagates_as_killed_through_links() {
    let victim = Probe::new();
    let plain = Probe::new();
    let trapping = Probe::trapping();
    let v = victim.pid;
    plain.call(move || link(v)).expect("link");
    trapping.call(move || link(v)).expect("link");
    exit(v, ExitReason::Kill);
    check_dies(&victim, ExitReason::Killed);
    check_dies(&plain, ExitReason::Killed);
    check_survives(trapping, &[exit_note(v, ExitReason::Killed)]);
    common::assert_probes_ended();
}

#[test]
fn a_chain_of_links_propagates_the_same_reason() {
    // a - b - c - d, with c trapping: a's death takes b, c gets a message, d is untouched.
    let a = Probe::new();
    let b = Probe::new();
    let c = Probe::trapping();
    let d = Probe::new();
    let (pa, pb, pc) = (a.pid, b.pid, c.pid);
    b.call(move || link(pa)).expect("link");
    c.call(move || link(pb)).expect("link");
    d.call(move || link(pc)).expect("link");
    a.run(|| exit_self(r("chain")));
    check_dies(&a, r("chain"));
    check_dies(&b, r("chain"));
    check_survives(c, &[exit_note(pb, r("chain"))]);
    check_survives(d, &[]);
    common::assert_probes_ended();
}

#[test]
fn exit_to_a_dead_process_does_nothing() {
    let p = Probe::new();
    let pid = p.pid;
    p.stop();
    exit(pid, ExitReason::Kill);
    exit(pid, r("late"));
    assert!(!runtime::is_alive(pid));
    common::assert_probes_ended();
}
