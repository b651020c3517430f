//! Panics and crash reports: a panic ends only its own process with `Panic(msg)`; crash
//! reports are emitted for abnormal exits only (proc_lib's `crash_report/3` clauses:
//! never for normal, shutdown or {shutdown, _}), otp-semantics.md 1.1.

mod common;

use std::sync::{Mutex, MutexGuard, mpsc};

use common::{Probe, down_for, r};
use runtime::{
    CrashCapture, Exit, ExitReason, SpawnOpts, exit, exit_self, link, spawn_link, spawn_monitor,
    trap_exit,
};

/// The crash handler is global to this test binary: tests that capture take turns (a failed
/// test poisons the lock; the others go on).
static CAPTURE: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    CAPTURE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `body` in a process and returns its exit reason and the crash reports it caused.
fn crash_of(
    opts: SpawnOpts,
    body: impl FnOnce() + Send + 'static,
) -> (ExitReason, Vec<runtime::CrashReport>) {
    let _turn = turn();
    let capture = CrashCapture::start();
    let s = opts.monitor().spawn(body).expect("spawn");
    let d = down_for(s.monitor.expect("monitor"));
    (d.reason, capture.reports_for(s.pid))
}

#[test]
fn a_panic_becomes_the_exit_reason_with_one_report() {
    let (reason, reports) = crash_of(SpawnOpts::new(), || panic!("boom"));
    assert_eq!(reason, ExitReason::Panic("boom".into()));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].reason, reason);
    let location = reports[0]
        .location
        .as_deref()
        .expect("a panic has a location");
    assert!(location.contains("crash.rs"), "{location}");
    // A formatted panic message is kept whole.
    let (reason, _) = crash_of(SpawnOpts::new(), || panic!("bad value {}", 42));
    assert_eq!(reason, ExitReason::Panic("bad value 42".into()));
    common::assert_probes_ended();
}

#[test]
fn the_report_names_a_registered_process() {
    let (reason, reports) = crash_of(SpawnOpts::new().name("crash::named"), || {
        exit_self(r("named crash"))
    });
    assert_eq!(reason, r("named crash"));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].name.as_deref(), Some("crash::named"));
    assert!(reports[0].location.is_none());
    let text = reports[0].to_string();
    assert!(
        text.contains("crash::named") && text.contains("named crash"),
        "{text}"
    );
    common::assert_probes_ended();
}

#[test]
fn no_report_for_clean_exits() {
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::shutdown_with("bye"),
    ] {
        let reason2 = reason.clone();
        let (got, reports) = crash_of(SpawnOpts::new(), move || exit_self(reason2));
        assert_eq!(got, reason);
        assert!(reports.is_empty(), "{reason}: {reports:?}");
    }
    let (got, reports) = crash_of(SpawnOpts::new(), || {});
    assert_eq!(got, ExitReason::Normal);
    assert!(reports.is_empty());
    common::assert_probes_ended();
}

#[test]
fn reports_for_abnormal_exits_by_the_process_itself() {
    for reason in [ExitReason::Kill, ExitReason::NoProc, r("custom")] {
        let reason2 = reason.clone();
        let (got, reports) = crash_of(SpawnOpts::new(), move || exit_self(reason2));
        assert_eq!(got, reason);
        assert_eq!(reports.len(), 1, "{reason}");
    }
    common::assert_probes_ended();
}

/// A process ended from outside (killed, or by an exit signal) runs no more code, so it emits
/// no crash report, as in OTP where proc_lib never sees the signal.
#[test]
fn no_report_for_a_process_ended_from_outside() {
    let _turn = turn();
    let capture = CrashCapture::start();
    for reason in [ExitReason::Kill, r("from outside")] {
        let p = Probe::new();
        exit(p.pid, reason);
        p.wait_down();
        assert!(capture.reports_for(p.pid).is_empty());
    }
    common::assert_probes_ended();
}

/// A panicking process ends alone: an unlinked parent and a sibling live on.
#[test]
fn a_panic_only_ends_its_own_process() {
    let _turn = turn();
    let _capture = CrashCapture::start();
    let sibling = Probe::new();
    let parent = Probe::new();
    let (child, m) = parent.call(|| spawn_monitor(|| panic!("alone")));
    assert_eq!(
        parent.next_note(),
        common::Note::Down(runtime::Down {
            monitor: m,
            pid: child,
            reason: ExitReason::Panic("alone".into())
        })
    );
    parent.stop();
    sibling.stop();
    common::assert_probes_ended();
}

/// A linked process that traps exits gets the panic as an Exit with the message; one that
/// does not is taken down with the same reason.
#[test]
fn a_panic_propagates_through_links_as_a_panic_reason() {
    let _turn = turn();
    let capture = CrashCapture::start();
    trap_exit(true);
    let (tx, rx) = mpsc::channel();
    let child = spawn_link(move || {
        rx.recv().expect("go");
        panic!("linked panic");
    });
    let bystander = Probe::new();
    bystander.call(move || link(child)).expect("link");
    tx.send(()).expect("child waits");
    let e = common::exit_from(child);
    assert_eq!(
        e,
        Exit {
            from: child,
            reason: ExitReason::Panic("linked panic".into())
        }
    );
    assert_eq!(
        bystander.wait_down(),
        ExitReason::Panic("linked panic".into())
    );
    trap_exit(false);
    // One report: the child's. The bystander was ended by a signal.
    assert_eq!(capture.reports_for(child).len(), 1);
    assert!(capture.reports_for(bystander.pid).is_empty());
    common::assert_probes_ended();
}

/// A crash handler that panics does not keep the crashed process from ending: its monitors
/// fire and the next crash is reported as usual.
#[test]
fn a_panicking_crash_handler_does_not_stop_the_death() {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            runtime::reset_crash_handler();
        }
    }
    {
        let _turn = turn();
        let _reset = Reset; // dropped before the turn
        runtime::set_crash_handler(|_| panic!("the handler panics"));
        let (pid, m) = spawn_monitor(|| panic!("crash"));
        assert_eq!(down_for(m).reason, ExitReason::Panic("crash".into()));
        assert!(!runtime::is_alive(pid));
    }
    let (reason, reports) = crash_of(SpawnOpts::new(), || panic!("again"));
    assert_eq!(reason, ExitReason::Panic("again".into()));
    assert_eq!(reports.len(), 1);
    common::assert_probes_ended();
}
