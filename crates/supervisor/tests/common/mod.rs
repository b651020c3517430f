//! Helpers shared by the supervisor's test files.
//!
//! Test workers are plain linked processes that tell the test process (their *owner*) when they
//! start, obey [`Cmd`]s, and, if they trap exits, report the exit signal that stops them before
//! they go. Every event arrives in the owner's mailbox as an [`Ev`], so a test can check start
//! and stop order without sleeping: a supervisor waits for each child's `Down` before it moves
//! on, so events from one supervisor's children arrive in the order the supervisor acted.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Once;
use std::time::Duration;

use runtime::{
    Down, Exit, ExitReason, Pid, SpawnOpts, exit, exit_self, monitor, receive_match_timeout, recv,
    send,
};
use supervisor::{ChildInfo, ChildPid, ChildSpec, Supervisor};

/// How long a test waits for something that must happen. Only reached when a test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// What a test worker tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ev {
    /// The worker `id` started as `pid`.
    Started(String, Pid),
    /// The worker `id` (trapping exits) got an exit signal with this reason and is stopping.
    Stopping(String, ExitReason),
}

/// What a test worker obeys.
#[derive(Debug, Clone)]
pub(crate) enum Cmd {
    /// Exit with this reason.
    Exit(ExitReason),
    /// Ignore exit signals from now on: stay alive until killed (for shutdown timeouts).
    Stubborn,
}

/// Crash reports of the crashes the tests provoke would only clutter the output.
pub(crate) fn quiet() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| runtime::set_crash_handler(|_| {}));
}

fn worker_body(id: String, owner: Pid) {
    let mut stubborn = false;
    loop {
        let m = recv();
        let m = match m.downcast::<Cmd>() {
            Ok(Cmd::Exit(r)) => exit_self(r),
            Ok(Cmd::Stubborn) => {
                stubborn = true;
                continue;
            }
            Err(m) => m,
        };
        if let Ok(e) = m.downcast::<Exit>() {
            send(owner, Ev::Stopping(id.clone(), e.reason.clone()));
            if !stubborn {
                exit_self(e.reason);
            }
        }
    }
}

/// Starts a test worker linked to the caller (the supervisor). The `Started` event is sent
/// from the caller, as OTP's synchronous starts would order it: events of one supervisor's
/// starts arrive in the order it started the children.
pub(crate) fn start_worker(id: &str, owner: Pid, trap: bool) -> Result<Pid, ExitReason> {
    let name = id.to_owned();
    let mut opts = SpawnOpts::new().link();
    if trap {
        opts = opts.trap_exit();
    }
    let pid = opts
        .spawn(move || worker_body(name, owner))
        .map(|s| s.pid)
        .map_err(|e| ExitReason::custom(e.to_string()))?;
    send(owner, Ev::Started(id.to_owned(), pid));
    Ok(pid)
}

/// A permanent worker that reports to `owner` and dies at once on `shutdown`.
pub(crate) fn worker(id: &str, owner: Pid) -> ChildSpec {
    let name = id.to_owned();
    ChildSpec::worker(id, move || start_worker(&name, owner, false))
}

/// A permanent worker that traps exits and reports the signal that stops it.
pub(crate) fn trapping_worker(id: &str, owner: Pid) -> ChildSpec {
    let name = id.to_owned();
    ChildSpec::worker(id, move || start_worker(&name, owner, true))
}

/// Waits for the `Started` event of `id` and returns the worker's pid.
pub(crate) fn started(id: &str) -> Pid {
    match receive_match_timeout(WAIT, |e: &Ev| matches!(e, Ev::Started(i, _) if i == id)) {
        Some(Ev::Started(_, pid)) => pid,
        _ => panic!("worker {id} did not start"),
    }
}

/// Waits for the `Started` events of `ids`, in this order, and returns the pids.
pub(crate) fn started_in_order(ids: &[&str]) -> Vec<Pid> {
    ids.iter()
        .map(
            |want| match receive_match_timeout(WAIT, |e: &Ev| matches!(e, Ev::Started(..))) {
                Some(Ev::Started(id, pid)) => {
                    assert_eq!(&id, want, "start order");
                    pid
                }
                other => panic!("expected {want} to start, got {other:?}"),
            },
        )
        .collect()
}

/// All events already in the mailbox, oldest first.
pub(crate) fn events_now() -> Vec<Ev> {
    let mut v = Vec::new();
    while let Some(e) = receive_match_timeout(Duration::ZERO, |_: &Ev| true) {
        v.push(e);
    }
    v
}

/// The next `Stopping` event (waits for it).
pub(crate) fn next_stopping() -> (String, ExitReason) {
    match receive_match_timeout(WAIT, |e: &Ev| matches!(e, Ev::Stopping(..))) {
        Some(Ev::Stopping(id, r)) => (id, r),
        other => panic!("expected a Stopping event, got {other:?}"),
    }
}

/// Waits until `pid` has ended and returns its exit reason (`NoProc` if it was already gone).
pub(crate) fn wait_down(pid: Pid) -> ExitReason {
    let r = monitor(pid);
    receive_match_timeout(WAIT, |d: &Down| d.monitor == r)
        .unwrap_or_else(|| panic!("{pid} did not end"))
        .reason
}

/// Makes the test worker `pid` exit with `reason` and waits until it has ended. Its exit
/// signal reaches its supervisor before the `Down` reaches the test, so the next request to
/// the supervisor is handled after the supervisor has reacted to the exit.
pub(crate) fn crash(pid: Pid, reason: ExitReason) {
    let r = monitor(pid);
    send(pid, Cmd::Exit(reason.clone()));
    let d = receive_match_timeout(WAIT, |d: &Down| d.monitor == r)
        .unwrap_or_else(|| panic!("{pid} did not exit"));
    assert_eq!(d.reason, reason);
}

/// Kills `pid` (untrappable) and waits until it has ended.
pub(crate) fn kill(pid: Pid) {
    let r = monitor(pid);
    exit(pid, ExitReason::Kill);
    let _ = receive_match_timeout(WAIT, |d: &Down| d.monitor == r)
        .unwrap_or_else(|| panic!("{pid} did not end"));
}

/// The pid of child `id`, as `which_children` shows it.
pub(crate) fn child(sup: &Supervisor, id: &str) -> ChildPid {
    sup.which_children()
        .expect("which_children")
        .into_iter()
        .find(|c| c.id.as_deref() == Some(id))
        .map(|c| c.pid)
        .unwrap_or_else(|| panic!("no child {id}"))
}

/// The running pid of child `id`.
pub(crate) fn child_pid(sup: &Supervisor, id: &str) -> Pid {
    match child(sup, id) {
        ChildPid::Pid(p) => p,
        other => panic!("child {id} is not running: {other}"),
    }
}

/// `(id, pid)` of every child, in start order.
pub(crate) fn children(sup: &Supervisor) -> Vec<(String, ChildPid)> {
    sup.which_children()
        .expect("which_children")
        .into_iter()
        .map(|c: ChildInfo| (c.id.unwrap_or_default(), c.pid))
        .collect()
}

/// The ids of the children, in start order.
pub(crate) fn ids(sup: &Supervisor) -> Vec<String> {
    children(sup).into_iter().map(|(id, _)| id).collect()
}

/// Fails unless every process in `pids` has ended.
pub(crate) fn assert_all_dead(pids: &[Pid]) {
    for &p in pids {
        assert_eq!(
            wait_down(p),
            ExitReason::NoProc,
            "{p} was still running after its supervisor stopped"
        );
    }
}

/// Stops `sup` and checks that it and the given children are gone.
pub(crate) fn stop(sup: &Supervisor, children: &[Pid]) {
    let pid = sup.pid().expect("supervisor running");
    sup.stop().expect("stop the supervisor");
    assert!(!runtime::is_alive(pid));
    assert_all_dead(children);
}

/// Waits until every process in `pids` has ended, whatever the reason.
pub(crate) fn wait_all_end(pids: &[Pid]) {
    for &p in pids {
        let _ = wait_down(p);
    }
}

/// The shutdown time of a child that ignores `shutdown`: long enough that the child, woken by
/// the signal, reports it before it is killed even on a loaded machine.
pub(crate) const STUBBORN_TIMEOUT: Duration = Duration::from_millis(700);
