//! Helpers shared by the runtime's test files.
//!
//! A [`Probe`] is a process the test steers by sending it closures to run. It forwards every
//! `Exit` and `Down` it receives to the process that spawned it, so a test can look at what a
//! process was told without writing a receive loop each time. Probes handle their mailbox in
//! order, so after a [`Probe::call`] round trip every notification the probe had received
//! before the call has already been forwarded: absence checks after a round trip are exact.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use runtime::{
    Down, Exit, ExitReason, Pid, Ref, SpawnOpts, demonitor_flush, monitor, receive_match_timeout,
    receive_select, recv, self_pid, send,
};

/// How long a test waits for something that must happen. Only reached when a test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// What a probe forwards to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    Exit(Exit),
    Down(Down),
}

/// A notification forwarded by probe `by`.
#[derive(Debug)]
pub(crate) struct Reported {
    pub(crate) by: Pid,
    pub(crate) note: Note,
}

type Job = Box<dyn FnOnce() + Send>;
struct Run(Job);
struct Stop;
struct Reply<R>(Ref, R);

/// A process driven by closures; see the module docs.
pub(crate) struct Probe {
    pub(crate) pid: Pid,
    /// The owner's monitor on the probe.
    pub(crate) monitor: Ref,
}

impl Probe {
    /// A probe that does not trap exits.
    pub(crate) fn new() -> Probe {
        Probe::spawn(SpawnOpts::new())
    }

    /// A probe that traps exits.
    pub(crate) fn trapping() -> Probe {
        Probe::spawn(SpawnOpts::new().trap_exit())
    }

    /// A probe spawned with `opts` (a monitor from the caller is always added).
    pub(crate) fn spawn(opts: SpawnOpts) -> Probe {
        let owner = self_pid();
        let s = opts
            .monitor()
            .spawn(move || probe_loop(owner))
            .expect("spawn a probe");
        PROBES.with(|p| p.borrow_mut().push(s.pid));
        Probe {
            pid: s.pid,
            monitor: s.monitor.expect("monitor asked for"),
        }
    }

    /// Makes the probe run `f`, without waiting.
    pub(crate) fn run(&self, f: impl FnOnce() + Send + 'static) {
        send(self.pid, Run(Box::new(f)));
    }

    /// Makes the probe run `f` and returns its result. Panics if the probe dies first.
    pub(crate) fn call<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let me = self_pid();
        let tag = runtime::make_ref();
        self.run(move || send(me, Reply(tag, f())));
        let pid = self.pid;
        let monitor = self.monitor;
        let m = receive_select(Some(WAIT), |m| {
            m.downcast_ref::<Reply<R>>().is_some_and(|r| r.0 == tag)
                || m.downcast_ref::<Down>()
                    .is_some_and(|d| d.monitor == monitor)
        })
        .unwrap_or_else(|| panic!("probe {pid} did not answer"));
        match m.downcast::<Reply<R>>() {
            Ok(r) => r.1,
            Err(m) => panic!("probe {pid} died during a call: {m:?}"),
        }
    }

    /// A round trip: after it, everything the probe had received is forwarded.
    pub(crate) fn sync(&self) {
        self.call(|| ());
    }

    /// The next notification the probe forwarded (waits for it).
    pub(crate) fn next_note(&self) -> Note {
        let by = self.pid;
        receive_match_timeout::<Reported>(WAIT, |r| r.by == by)
            .unwrap_or_else(|| panic!("probe {by} forwarded nothing"))
            .note
    }

    /// The next `Exit` the probe received.
    pub(crate) fn next_exit(&self) -> Exit {
        match self.next_note() {
            Note::Exit(e) => e,
            other => panic!("expected an Exit, got {other:?}"),
        }
    }

    /// Everything the probe has received and not yet forwarded, after a round trip.
    pub(crate) fn drain_notes(&self) -> Vec<Note> {
        self.sync();
        let by = self.pid;
        let mut v = Vec::new();
        while let Some(r) = receive_match_timeout::<Reported>(Duration::ZERO, |r| r.by == by) {
            v.push(r.note);
        }
        v
    }

    /// The reason the probe died with (waits for the owner's monitor).
    pub(crate) fn wait_down(&self) -> ExitReason {
        let monitor = self.monitor;
        let d = receive_match_timeout::<Down>(WAIT, |d| d.monitor == monitor)
            .unwrap_or_else(|| panic!("probe {} did not die", self.pid));
        d.reason
    }

    /// The probe's Down if it is already in the mailbox.
    pub(crate) fn down_now(&self) -> Option<ExitReason> {
        let monitor = self.monitor;
        receive_match_timeout::<Down>(Duration::ZERO, |d| d.monitor == monitor).map(|d| d.reason)
    }

    /// Stops the probe normally and waits for it to end.
    pub(crate) fn stop(self) {
        send(self.pid, Stop);
        assert_eq!(self.wait_down(), ExitReason::Normal);
    }

    /// Kills the probe if it is still alive and forgets it (cleanup).
    pub(crate) fn dispose(self) {
        runtime::exit(self.pid, ExitReason::Kill);
        demonitor_flush(self.monitor);
    }
}

fn probe_loop(owner: Pid) {
    let me = self_pid();
    loop {
        let m = recv();
        let m = match m.downcast::<Exit>() {
            Ok(e) => {
                send(
                    owner,
                    Reported {
                        by: me,
                        note: Note::Exit(e),
                    },
                );
                continue;
            }
            Err(m) => m,
        };
        let m = match m.downcast::<Down>() {
            Ok(d) => {
                send(
                    owner,
                    Reported {
                        by: me,
                        note: Note::Down(d),
                    },
                );
                continue;
            }
            Err(m) => m,
        };
        let m = match m.downcast::<Run>() {
            Ok(Run(f)) => {
                f();
                continue;
            }
            Err(m) => m,
        };
        if m.is::<Stop>() {
            return;
        }
    }
}

thread_local! {
    /// The probes spawned by the current test (each test runs on its own thread).
    static PROBES: std::cell::RefCell<Vec<Pid>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The end of a test: every probe it spawned has ended (tests leave no process running).
pub(crate) fn assert_probes_ended() {
    let pids = PROBES.with(|p| std::mem::take(&mut *p.borrow_mut()));
    assert_all_end(&pids);
}

/// Waits until every process in `pids` has ended (a monitor on a dead pid fires at once with
/// `NoProc`). Fails if one is still running after [`WAIT`]: tests leave no process behind.
pub(crate) fn assert_all_end(pids: &[Pid]) {
    for &pid in pids {
        let r = monitor(pid);
        let d = receive_match_timeout::<Down>(WAIT, |d| d.monitor == r);
        assert!(d.is_some(), "process {pid} is still running");
        assert!(!runtime::is_alive(pid));
    }
}

/// The Down for monitor `r`, waiting for it.
pub(crate) fn down_for(r: Ref) -> Down {
    receive_match_timeout::<Down>(WAIT, |d| d.monitor == r)
        .unwrap_or_else(|| panic!("no Down for {r}"))
}

/// Whether a Down for monitor `r` is already in the mailbox (takes it).
pub(crate) fn down_queued(r: Ref) -> Option<Down> {
    receive_match_timeout::<Down>(Duration::ZERO, |d| d.monitor == r)
}

/// Whether an Exit from `pid` is already in the mailbox (takes it).
pub(crate) fn exit_queued(pid: Pid) -> Option<Exit> {
    receive_match_timeout::<Exit>(Duration::ZERO, |e| e.from == pid)
}

/// The Exit from `pid`, waiting for it.
pub(crate) fn exit_from(pid: Pid) -> Exit {
    receive_match_timeout::<Exit>(WAIT, |e| e.from == pid)
        .unwrap_or_else(|| panic!("no Exit from {pid}"))
}

/// A custom reason.
pub(crate) fn r(s: &str) -> ExitReason {
    ExitReason::custom(s)
}
