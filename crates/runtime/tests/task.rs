//! Task: `spawn` (Elixir's `Task.async`), `join`/`join_timeout` (`Task.await`), `yield_timeout`
//! (`Task.yield`), `shutdown` and `start`/`start_link`, following Elixir's `Task` docs.
//!
//! Every test runs in a fresh process (`in_process`), so a test that traps exits or is killed
//! by a crashing task cannot disturb another. Tasks that must still be running when the test
//! looks at them block in a receive until the test sends `Go`.

use std::sync::Mutex;
use std::time::Duration;

use runtime::task::DEFAULT_AWAIT_TIMEOUT;
use runtime::{
    CrashCapture, Down, Exit, ExitReason, Task, TaskError, exit_self, is_alive, monitor,
    process_info, receive, receive_match, receive_match_timeout, receive_timeout, self_pid, send,
    spawn_monitor, trap_exit,
};

/// A wait that only a bug can exhaust.
const LONG: Duration = Duration::from_secs(30);
/// A timeout that is meant to pass.
const SHORT: Duration = Duration::from_millis(30);

/// Crash reports go to one global handler; the tests that provoke crashes take turns holding
/// a capture, which also keeps the reports off the test output.
static CRASH_LOCK: Mutex<()> = Mutex::new(());

fn quiet_crashes() -> (std::sync::MutexGuard<'static, ()>, CrashCapture) {
    let guard = CRASH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    (guard, CrashCapture::start())
}

/// Lets a blocked task finish.
struct Go;

/// Runs `f` in a new process; fails the test with its exit reason unless it ends normally.
fn in_process(f: impl FnOnce() + Send + 'static) {
    let (pid, r) = spawn_monitor(f);
    let d: Down = receive_match(|d: &Down| d.monitor == r);
    assert!(
        d.reason == ExitReason::Normal,
        "test process {pid} exited with {}",
        d.reason
    );
}

fn mailbox_len() -> usize {
    process_info(self_pid()).map_or(0, |i| i.message_queue_len)
}

/// A task that tells the owner its pid, waits for `Go`, and returns `value`.
fn gated<T: Send + 'static>(value: T) -> Task<T> {
    let owner = self_pid();
    Task::spawn(move || {
        send(owner, self_pid());
        let Go = receive::<Go>();
        value
    })
}

#[test]
fn default_await_timeout_is_five_seconds() {
    assert_eq!(DEFAULT_AWAIT_TIMEOUT, Duration::from_secs(5));
}

#[test]
fn join_returns_the_value_and_leaves_nothing_behind() {
    in_process(|| {
        let t = Task::spawn(|| (1..=10u64).product::<u64>());
        let pid = t.pid();
        assert_eq!(t.join(), Ok(3_628_800));
        // The reply was taken and the monitor's Down flushed.
        assert_eq!(mailbox_len(), 0);
        assert!(process_info(self_pid()).expect("alive").monitors.is_empty());
        let r = monitor(pid);
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert!(d.reason == ExitReason::Normal || d.reason == ExitReason::NoProc);
    });
}

#[test]
fn spawn_links_and_monitors_the_task() {
    in_process(|| {
        let t = gated("linked");
        let pid: runtime::Pid = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(pid, t.pid());
        let me = process_info(self_pid()).expect("alive");
        assert!(me.links.contains(&pid));
        assert!(me.monitors.iter().any(|(_, p)| *p == pid));
        send(pid, Go);
        assert_eq!(t.join_timeout(None), Ok("linked"));
    });
}

#[test]
fn tasks_run_concurrently_and_are_awaited_in_any_order() {
    in_process(|| {
        let tasks: Vec<Task<u32>> = (0..8u32).map(|i| Task::spawn(move || i * i)).collect();
        let results: Vec<u32> = tasks
            .into_iter()
            .rev()
            .map(|t| t.join().expect("task result"))
            .collect();
        assert_eq!(results, [49, 36, 25, 16, 9, 4, 1, 0]);
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn join_timeout_stops_the_task_and_returns_timeout() {
    in_process(|| {
        let t = gated(1u8);
        let pid: runtime::Pid = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(t.join_timeout(Some(SHORT)), Err(TaskError::Timeout));
        assert!(!is_alive(pid), "the task survived its await timeout");
        // Unlinked before the kill (so this non-trapping caller lives), monitor flushed.
        let me = process_info(self_pid()).expect("alive");
        assert!(me.links.is_empty());
        assert!(me.monitors.is_empty());
        assert_eq!(me.message_queue_len, 0);
    });
}

#[test]
fn a_result_racing_the_await_timeout_does_not_linger() {
    // The task finishes at the moment the await gives up: either way, no reply stays queued.
    in_process(|| {
        for _ in 0..50 {
            let t = Task::spawn(|| 5u8);
            match t.join_timeout(Some(Duration::ZERO)) {
                Ok(v) => assert_eq!(v, 5),
                Err(e) => assert_eq!(e, TaskError::Timeout),
            }
            assert_eq!(mailbox_len(), 0);
        }
    });
}

#[test]
fn yield_returns_none_while_running_then_the_result() {
    in_process(|| {
        let mut t = gated(String::from("done"));
        let pid: runtime::Pid = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(t.yield_timeout(SHORT), None);
        assert!(is_alive(pid), "yield must leave the task running");
        send(pid, Go);
        assert_eq!(t.yield_timeout(LONG), Some(Ok(String::from("done"))));
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn a_crashing_task_is_an_exit_error_for_a_trapping_caller() {
    let (_g, cap) = quiet_crashes();
    in_process(|| {
        trap_exit(true);
        let t: Task<u32> = Task::spawn(|| panic!("task failed"));
        let pid = t.pid();
        assert_eq!(
            t.join(),
            Err(TaskError::Exit(ExitReason::Panic("task failed".into())))
        );
        // The link delivered the crash as a message too, as Elixir does for a trapping owner.
        let e: Exit = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(e.from, pid);
        assert_eq!(e.reason, ExitReason::Panic("task failed".into()));
    });
    assert_eq!(
        cap.reports()
            .iter()
            .filter(|r| r.reason == ExitReason::Panic("task failed".into()))
            .count(),
        1
    );
}

#[test]
fn a_task_exit_reason_reaches_the_trapping_caller() {
    in_process(|| {
        trap_exit(true);
        // A task that ends at once, possibly before `spawn` returns: the await must still see
        // its real reason, never `noproc` (the monitor is set before the task runs).
        for i in 0..200 {
            let t: Task<u32> = Task::spawn(|| exit_self(ExitReason::shutdown_with("no work")));
            assert_eq!(
                t.join(),
                Err(TaskError::Exit(ExitReason::shutdown_with("no work"))),
                "attempt {i}"
            );
            let e: Exit = receive_timeout(LONG).expect("nothing arrived");
            assert_eq!(e.reason, ExitReason::shutdown_with("no work"));
        }
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn a_crashing_task_ends_a_caller_that_does_not_trap() {
    let (_g, _cap) = quiet_crashes();
    let me = self_pid();
    let (caller, r) = spawn_monitor(move || {
        let t: Task<u32> = Task::spawn(|| panic!("task failed"));
        let got = t.join();
        // Never reached: the task's exit signal ends the caller first.
        send(me, format!("join returned {got:?}"));
    });
    let d: Down = receive_match(|d: &Down| d.monitor == r);
    assert_eq!(d.pid, caller);
    assert_eq!(d.reason, ExitReason::Panic("task failed".into()));
    assert_eq!(receive_timeout::<String>(Duration::ZERO), None);
}

#[test]
fn shutdown_kills_a_running_task() {
    in_process(|| {
        let t = gated(3u8);
        let pid: runtime::Pid = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(t.shutdown(), None);
        assert!(!is_alive(pid));
        let me = process_info(self_pid()).expect("alive");
        assert!(me.links.is_empty());
        assert!(me.monitors.is_empty());
        assert_eq!(me.message_queue_len, 0);
    });
}

#[test]
fn shutdown_of_a_finished_task_returns_its_result() {
    in_process(|| {
        let t = Task::spawn(|| 9u8);
        // Wait until the task has finished (its result is then in the mailbox).
        let r = monitor(t.pid());
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert!(d.reason == ExitReason::Normal || d.reason == ExitReason::NoProc);
        assert_eq!(t.shutdown(), Some(Ok(9)));
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn shutdown_of_a_crashed_task_returns_the_exit() {
    let (_g, _cap) = quiet_crashes();
    in_process(|| {
        trap_exit(true);
        let t: Task<u8> = Task::spawn(|| panic!("early"));
        let e: Exit = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(e.from, t.pid());
        assert_eq!(
            t.shutdown(),
            Some(Err(TaskError::Exit(ExitReason::Panic("early".into()))))
        );
    });
}

#[test]
fn start_is_fire_and_forget_and_not_linked() {
    let (_g, _cap) = quiet_crashes();
    in_process(|| {
        let me = self_pid();
        let pid = Task::start(move || send(me, "started task ran"));
        assert_eq!(receive_timeout::<&str>(LONG), Some("started task ran"));
        assert!(
            !process_info(self_pid())
                .expect("alive")
                .links
                .contains(&pid)
        );
        // A crash of a started task does not reach the (non-trapping) starter.
        let crasher = Task::start(|| panic!("alone"));
        let r = monitor(crasher);
        let d = receive_match_timeout(LONG, |d: &Down| d.monitor == r).expect("no Down");
        assert!(matches!(
            d.reason,
            ExitReason::Panic(_) | ExitReason::NoProc
        ));
    });
}

#[test]
fn start_link_links_the_task() {
    in_process(|| {
        trap_exit(true);
        let me = self_pid();
        let pid = Task::start_link(move || {
            let Go = receive::<Go>();
            send(me, "linked task ran");
        });
        assert!(
            process_info(self_pid())
                .expect("alive")
                .links
                .contains(&pid)
        );
        send(pid, Go);
        assert_eq!(receive_timeout::<&str>(LONG), Some("linked task ran"));
        let e: Exit = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!((e.from, e.reason), (pid, ExitReason::Normal));
    });
}
