//! Agent: `start`/`start_link` with an initial-state closure, `get`, `update`,
//! `get_and_update`, `cast`, `stop`, named agents, following Elixir's `Agent` docs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use runtime::{
    Agent, CallError, CrashCapture, Down, ExitReason, StartError, StartOpts, StopError, is_alive,
    monitor, process_info, receive_match, receive_match_timeout, self_pid, spawn, spawn_monitor,
    whereis,
};

/// A wait that only a bug can exhaust.
const LONG: Duration = Duration::from_secs(30);

static CRASH_LOCK: Mutex<()> = Mutex::new(());

fn quiet_crashes() -> (std::sync::MutexGuard<'static, ()>, CrashCapture) {
    let guard = CRASH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    (guard, CrashCapture::start())
}

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

/// The reason in the `Down` of monitor `r`. Monitor before doing what ends the process: a
/// monitor set up after its end gets `noproc`, not the reason.
fn down_of(r: runtime::Ref) -> ExitReason {
    receive_match_timeout(LONG, |d: &Down| d.monitor == r)
        .expect("process did not exit")
        .reason
}

#[test]
fn get_update_and_get_and_update() {
    in_process(|| {
        let a = Agent::start(HashMap::<String, i32>::new, StartOpts::new()).expect("start");
        assert_eq!(a.get(|m| m.get("milk").copied()), Ok(None));
        assert_eq!(
            a.update(|m| {
                m.insert("milk".into(), 3);
            }),
            Ok(())
        );
        assert_eq!(a.get(|m| m.get("milk").copied()), Ok(Some(3)));
        assert_eq!(a.get_and_update(|m| m.remove("milk")), Ok(Some(3)));
        assert_eq!(a.get(HashMap::len), Ok(0));
        let pid = a.pid().expect("alive");
        assert_eq!(a.stop(), Ok(()));
        assert!(!is_alive(pid));
    });
}

#[test]
fn init_runs_in_the_agent_before_start_returns() {
    in_process(|| {
        let a = Agent::start(self_pid, StartOpts::new()).expect("start");
        let pid = a.pid().expect("alive");
        assert_eq!(a.get(|p| *p), Ok(pid));
        assert_ne!(pid, self_pid());
        a.stop().expect("stop");
    });
}

#[test]
fn casts_are_applied_in_order_before_a_later_get() {
    in_process(|| {
        let a = Agent::start(Vec::<u32>::new, StartOpts::new()).expect("start");
        for i in 0..100 {
            a.cast(move |v| v.push(i));
        }
        assert_eq!(a.get(|v| v.clone()), Ok((0..100).collect::<Vec<_>>()));
        a.stop().expect("stop");
    });
}

#[test]
fn get_and_update_is_atomic_under_concurrent_clients() {
    in_process(|| {
        let a = Agent::start(|| 0u64, StartOpts::new()).expect("start");
        let me = self_pid();
        for _ in 0..4 {
            let a = a.clone();
            spawn(move || {
                for _ in 0..250 {
                    a.get_and_update(|n| {
                        *n += 1;
                        *n
                    })
                    .expect("update");
                }
                runtime::send(me, "done");
            });
        }
        for _ in 0..4 {
            assert_eq!(runtime::receive_timeout::<&str>(LONG), Some("done"));
        }
        assert_eq!(a.get(|n| *n), Ok(1000));
        a.stop().expect("stop");
    });
}

#[test]
fn named_agents() {
    in_process(|| {
        let name = "agent-named-bucket";
        let a = Agent::start(|| 1u32, StartOpts::new().name(name)).expect("start");
        let pid = a.pid().expect("alive");
        assert_eq!(whereis(name), Some(pid));
        let by_name = Agent::<u32>::named(name);
        assert_eq!(by_name.pid(), Ok(pid));
        by_name.update(|n| *n += 1).expect("update");
        assert_eq!(a.get(|n| *n), Ok(2));
        assert_eq!(
            Agent::start(|| 0u32, StartOpts::new().name(name)).err(),
            Some(StartError::AlreadyStarted(pid))
        );
        assert_eq!(by_name.stop(), Ok(()));
        assert_eq!(whereis(name), None);
        assert_eq!(by_name.get(|n| *n), Err(CallError::NoProc));
        assert_eq!(by_name.pid(), Err(CallError::NoProc));
    });
}

#[test]
fn stop_with_a_reason_and_a_timeout() {
    in_process(|| {
        let a = Agent::start(|| 0u8, StartOpts::new()).expect("start");
        let pid = a.pid().expect("alive");
        let r = monitor(pid);
        assert_eq!(a.stop_with(ExitReason::Shutdown, Some(LONG)), Ok(()));
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, ExitReason::Shutdown);
        assert_eq!(
            a.stop_with(ExitReason::Shutdown, Some(LONG)),
            Err(StopError::NoProc)
        );
    });
}

#[test]
fn a_stopped_agent_is_noproc() {
    in_process(|| {
        let a = Agent::start(|| 0u8, StartOpts::new()).expect("start");
        let pid = a.pid().expect("alive");
        assert_eq!(a.stop(), Ok(()));
        assert_eq!(a.get(|n| *n), Err(CallError::NoProc));
        assert_eq!(a.update(|n| *n += 1), Err(CallError::NoProc));
        a.cast(|n| *n += 1); // never fails
        assert_eq!(a.stop(), Err(StopError::NoProc));
        assert!(Agent::<u8>::try_from(pid).is_err());
    });
}

#[test]
fn try_from_pid_reaches_a_running_agent() {
    in_process(|| {
        let a = Agent::start(|| 5u8, StartOpts::new()).expect("start");
        let b = Agent::<u8>::try_from(a.pid().expect("alive")).expect("a live agent");
        assert_eq!(b.get(|n| *n), Ok(5));
        b.stop().expect("stop");
    });
}

#[test]
fn start_link_links_the_agent() {
    in_process(|| {
        let a = Agent::start_link(|| (), StartOpts::new()).expect("start");
        let pid = a.pid().expect("alive");
        assert!(
            process_info(self_pid())
                .expect("alive")
                .links
                .contains(&pid)
        );
        a.stop().expect("stop");
    });
}

#[test]
fn a_panicking_function_ends_the_agent_and_the_caller_gets_the_exit() {
    let (_g, _cap) = quiet_crashes();
    in_process(|| {
        let a = Agent::start(|| 0u8, StartOpts::new()).expect("start");
        let pid = a.pid().expect("alive");
        assert_eq!(
            a.get(|_| -> u8 { panic!("bad read") }),
            Err(CallError::Exit(ExitReason::Panic("bad read".into())))
        );
        assert!(!is_alive(pid));
        // A panicking init is the start error.
        let r = Agent::<u8>::start(|| panic!("bad init"), StartOpts::new());
        assert_eq!(
            r.err(),
            Some(StartError::Init(ExitReason::Panic("bad init".into())))
        );
        // A panicking cast ends the agent too.
        let a = Agent::start(|| 0u8, StartOpts::new()).expect("start");
        // Monitored before the cast: the agent may be gone before a later monitor is set up.
        let r = monitor(a.pid().expect("alive"));
        a.cast(|_| panic!("bad cast"));
        assert_eq!(down_of(r), ExitReason::Panic("bad cast".into()));
    });
}
