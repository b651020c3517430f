//! GenServer: one test per row of the gen_server table in `reference/otp-semantics.md` (1.7 to
//! 1.9) and per sentence of the GenServer issue. The cases follow OTP's own `gen_server_SUITE`
//! (start, call, cast, stop, continue, timeouts, trap_exit) where it is the spec.
//!
//! Every test runs its body in a fresh process (`in_process`), so trap_exit settings and
//! mailboxes never leak from one test into another, and stops every server it starts.
//! Nothing waits on a sleep: servers that must be "slow" block in a receive until the test
//! lets them go, and the tests wait on monitors, replies and `Ev` reports.

use std::sync::Mutex;
use std::time::Duration;

use runtime::gen_server::{self, DEFAULT_CALL_TIMEOUT};
use runtime::{
    CallError, CrashCapture, Down, Exit, ExitReason, GenServer, Init, Message, Next, Pid, Reply,
    ReplyTo, Server, StartError, StartOpts, StopError, exit, exit_self, is_alive, link, monitor,
    process_info, receive, receive_match, receive_match_timeout, receive_timeout, recv_timeout,
    register, self_pid, send, send_after, spawn, spawn_monitor, trap_exit, unregister, whereis,
};

/// A wait that only a bug can exhaust: results are asserted, never the time they took.
const LONG: Duration = Duration::from_secs(30);

/// A timeout that is meant to pass (call and start timeouts, absence checks).
const SHORT: Duration = Duration::from_millis(50);

/// Crash reports go to one global handler, so the tests that capture them take turns.
static CRASH_LOCK: Mutex<()> = Mutex::new(());

fn crash_capture() -> (std::sync::MutexGuard<'static, ()>, CrashCapture) {
    let guard = CRASH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    (guard, CrashCapture::start())
}

/// Runs `f` in a new process and fails the test with the process's exit reason if it does
/// not end normally (an assertion failing in `f` is a panic, so its message is that reason).
fn in_process(f: impl FnOnce() + Send + 'static) {
    let (pid, r) = spawn_monitor(f);
    let d: Down = receive_match(|d: &Down| d.monitor == r);
    assert!(
        d.reason == ExitReason::Normal,
        "test process {pid} exited with {}",
        d.reason
    );
}

/// Waits until `pid` has exited and returns its exit reason (`NoProc` if it already had).
fn wait_exit(pid: Pid) -> ExitReason {
    down_of(monitor(pid))
}

/// The reason in the `Down` of monitor `r`. Monitor before doing what ends the process: a
/// monitor set up after its end gets `noproc`, not the reason.
fn down_of(r: runtime::Ref) -> ExitReason {
    receive_match_timeout(LONG, |d: &Down| d.monitor == r)
        .expect("process did not exit")
        .reason
}

/// The next report from a probe server.
fn ev() -> Ev {
    receive_timeout::<Ev>(LONG).expect("no report from the server")
}

/// A report that must already be in the mailbox (it was sent before what we just observed).
fn ev_now() -> Option<Ev> {
    receive_timeout::<Ev>(Duration::ZERO)
}

fn mailbox_len() -> usize {
    process_info(self_pid()).map_or(0, |i| i.message_queue_len)
}

fn custom(r: &str) -> ExitReason {
    ExitReason::custom(r)
}

/// What a probe server reports to its test.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Init(Pid),
    Terminate(Pid, ExitReason),
    Continue(u32),
    Timeout,
    /// A callback is blocked until the test sends `Go`.
    Blocked,
    /// A call was held for a deferred reply.
    Held,
    Exit(Exit),
    Note(String),
}

/// Lets a blocked callback go on.
struct Go;

/// How `init` behaves.
enum Plan {
    Ok,
    Stop(ExitReason),
    Ignore,
    Panic(&'static str),
    /// Never returns (until killed).
    Block,
    /// Sends itself a message, then asks for `handle_continue(n)`.
    ContinueWithQueued(u32),
    /// `Next::WaitTimeout(d)`; `handle_timeout` then stops the server when the flag is set.
    Timeout(Duration, bool),
    /// Reports whether `whereis(name)` is the server itself.
    CheckName(String),
    /// Ends itself with an exit signal (not a return or a panic) before returning.
    ExitSignal(ExitReason),
}

struct Probe {
    report: Pid,
    log: Vec<String>,
    held: Vec<ReplyTo<Ans>>,
    stop_on_timeout: bool,
}

#[derive(Debug)]
enum Req {
    Log,
    Echo(u64),
    /// Reports `Blocked`, waits for `Go`, then replies.
    Block,
    /// Keeps `from` for a deferred reply.
    Hold,
    /// Replies `v` to every held call from another process, waits until it has, replies Done.
    ReleaseVia(u64),
    ReplyStop(ExitReason),
    NoReplyStop(ExitReason),
    Panic(&'static str),
    CallSelf,
    CallSelfByName(String),
    /// Tries `stop` on itself.
    StopSelf,
    /// Queues a message to itself, replies, then continues with `n`.
    ReplyContinue(u32),
}

#[derive(Debug, PartialEq)]
enum Ans {
    Log(Vec<String>),
    Num(u64),
    Done,
    Called(Result<Box<Ans>, CallError>),
    Stopped(Result<(), StopError>),
}

enum Msg {
    Note(String),
    /// Queues a message to itself, then continues with `n`.
    Continue(u32),
    Timeout(Duration, bool),
    /// Reports `Blocked`, waits for `Go`, then asks for an idle timeout.
    BlockThenTimeout(Duration),
    /// Reports `Blocked`, waits for `Go`, then panics.
    BlockThenPanic(&'static str),
    Stop(ExitReason),
    Panic(&'static str),
    Monitor(Pid),
}

/// Blocks the calling callback until the test sends `Go`.
fn block(report: Pid) {
    send(report, Ev::Blocked);
    let Go = receive::<Go>();
}

impl GenServer for Probe {
    type Arg = (Pid, Plan);
    type Call = Req;
    type Reply = Ans;
    type Cast = Msg;
    type Continue = u32;

    fn init((report, plan): (Pid, Plan)) -> Init<Self> {
        send(report, Ev::Init(self_pid()));
        let mut s = Probe {
            report,
            log: vec!["init".into()],
            held: Vec::new(),
            stop_on_timeout: false,
        };
        match plan {
            Plan::Ok => Init::Ok(s),
            Plan::Stop(r) => Init::Stop(r),
            Plan::Ignore => Init::Ignore,
            Plan::Panic(m) => panic!("{m}"),
            Plan::Block => {
                let Go = receive::<Go>();
                Init::Ok(s)
            }
            Plan::ContinueWithQueued(n) => {
                send(self_pid(), String::from("queued"));
                Init::OkThen(s, Next::Continue(n))
            }
            Plan::Timeout(d, stop) => {
                s.stop_on_timeout = stop;
                Init::OkThen(s, Next::WaitTimeout(d))
            }
            Plan::ExitSignal(r) => {
                exit(self_pid(), r);
                unreachable!("the exit signal ends the process")
            }
            Plan::CheckName(name) => {
                let mine = whereis(&name) == Some(self_pid());
                send(report, Ev::Note(format!("registered before init: {mine}")));
                Init::Ok(s)
            }
        }
    }

    fn handle_call(&mut self, req: Req, from: ReplyTo<Ans>) -> Reply<Ans, u32> {
        match req {
            Req::Log => Reply::Reply(Ans::Log(self.log.clone())),
            Req::Echo(n) => Reply::Reply(Ans::Num(n)),
            Req::Block => {
                block(self.report);
                Reply::Reply(Ans::Done)
            }
            Req::Hold => {
                self.held.push(from);
                send(self.report, Ev::Held);
                Reply::NoReply(Next::Wait)
            }
            Req::ReleaseVia(v) => {
                let held = std::mem::take(&mut self.held);
                let (replier, r) = spawn_monitor(move || {
                    for f in held {
                        gen_server::reply(f, Ans::Num(v));
                    }
                });
                let d: Down = receive_match(|d: &Down| d.monitor == r);
                assert_eq!(d.pid, replier);
                Reply::Reply(Ans::Done)
            }
            Req::ReplyStop(r) => Reply::ReplyThen(Ans::Done, Next::Stop(r)),
            Req::NoReplyStop(r) => Reply::NoReply(Next::Stop(r)),
            Req::Panic(m) => panic!("{m}"),
            Req::CallSelf => {
                let me = Server::<Probe>::from_pid(self_pid());
                Reply::Reply(Ans::Called(me.call(Req::Echo(1)).map(Box::new)))
            }
            Req::CallSelfByName(name) => {
                let me = Server::<Probe>::named(name);
                Reply::Reply(Ans::Called(me.call(Req::Echo(1)).map(Box::new)))
            }
            Req::StopSelf => {
                let me = Server::<Probe>::from_pid(self_pid());
                Reply::Reply(Ans::Stopped(me.stop(ExitReason::Normal, None)))
            }
            Req::ReplyContinue(n) => {
                send(self_pid(), format!("report:queued before continue {n}"));
                Reply::ReplyThen(Ans::Done, Next::Continue(n))
            }
        }
    }

    fn handle_cast(&mut self, msg: Msg) -> Next<u32> {
        match msg {
            Msg::Note(s) => {
                self.log.push(format!("note:{s}"));
                Next::Wait
            }
            Msg::Continue(n) => {
                send(self_pid(), format!("report:queued before continue {n}"));
                Next::Continue(n)
            }
            Msg::Timeout(d, stop) => {
                self.stop_on_timeout = stop;
                Next::WaitTimeout(d)
            }
            Msg::BlockThenTimeout(d) => {
                block(self.report);
                Next::WaitTimeout(d)
            }
            Msg::BlockThenPanic(m) => {
                block(self.report);
                panic!("{m}")
            }
            Msg::Stop(r) => Next::Stop(r),
            Msg::Panic(m) => panic!("{m}"),
            Msg::Monitor(pid) => {
                monitor(pid);
                Next::Wait
            }
        }
    }

    fn handle_info(&mut self, msg: Message) -> Next<u32> {
        let msg = match msg.downcast::<Exit>() {
            Ok(e) => {
                self.log.push(format!("exit:{}", e.reason));
                send(self.report, Ev::Exit(e));
                return Next::Wait;
            }
            Err(m) => m,
        };
        let msg = match msg.downcast::<Down>() {
            Ok(d) => {
                self.log.push(format!("down:{}", d.reason));
                return Next::Wait;
            }
            Err(m) => m,
        };
        match msg.downcast::<String>() {
            Ok(s) => {
                if let Some(note) = s.strip_prefix("report:") {
                    send(self.report, Ev::Note(note.to_string()));
                }
                self.log.push(format!("info:{s}"))
            }
            Err(_) => self.log.push("info:?".into()),
        }
        Next::Wait
    }

    fn handle_continue(&mut self, n: u32) -> Next<u32> {
        self.log.push(format!("continue:{n}"));
        send(self.report, Ev::Continue(n));
        Next::Wait
    }

    fn handle_timeout(&mut self) -> Next<u32> {
        self.log.push("timeout".into());
        send(self.report, Ev::Timeout);
        if self.stop_on_timeout {
            Next::Stop(ExitReason::Normal)
        } else {
            Next::Wait
        }
    }

    fn terminate(&mut self, reason: &ExitReason) {
        send(self.report, Ev::Terminate(self_pid(), reason.clone()));
        if *reason == custom("terminate_panics") {
            panic!("terminate failed");
        }
    }
}

/// Starts a probe reporting to the calling process, with `init` following `plan`.
fn start_probe(plan: Plan, opts: StartOpts) -> Result<Server<Probe>, StartError> {
    gen_server::start::<Probe>((self_pid(), plan), opts)
}

/// Starts a probe that must start, and consumes its `Init` report.
fn probe(opts: StartOpts) -> (Server<Probe>, Pid) {
    let s = start_probe(Plan::Ok, opts).expect("probe did not start");
    let Ev::Init(pid) = ev() else {
        panic!("expected the Init report")
    };
    assert_eq!(s.pid(), Some(pid));
    (s, pid)
}

/// Stops a probe with `normal` and checks its terminate ran.
fn stop_probe(s: &Server<Probe>, pid: Pid) {
    assert_eq!(s.stop(ExitReason::Normal, Some(LONG)), Ok(()));
    assert_eq!(ev_now(), Some(Ev::Terminate(pid, ExitReason::Normal)));
    assert!(!is_alive(pid));
}

fn log_of(s: &Server<Probe>) -> Vec<String> {
    match s.call(Req::Log) {
        Ok(Ans::Log(l)) => l,
        other => panic!("Log call returned {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Start: synchronous, init results, names, timeout.

#[test]
fn start_returns_after_init_has_run() {
    in_process(|| {
        let s = start_probe(Plan::Ok, StartOpts::new()).expect("start");
        // init reported before acknowledging the start, so the report is already here.
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("init had not run when start returned")
        };
        assert_eq!(s.pid(), Some(pid));
        assert!(is_alive(pid));
        assert_eq!(log_of(&s), ["init"]);
        stop_probe(&s, pid);
    });
}

#[test]
fn start_link_links_the_server_and_start_does_not() {
    in_process(|| {
        let (linked, lpid) = probe(StartOpts::new().link());
        let (plain, ppid) = probe(StartOpts::new());
        let links = process_info(self_pid()).expect("alive").links;
        assert!(links.contains(&lpid));
        assert!(!links.contains(&ppid));
        stop_probe(&linked, lpid);
        stop_probe(&plain, ppid);
    });
}

#[test]
fn init_stop_becomes_the_start_error() {
    in_process(|| {
        let r = start_probe(Plan::Stop(custom("no_config")), StartOpts::new());
        assert_eq!(r, Err(StartError::Init(custom("no_config"))));
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("no Init report")
        };
        // The process exits with the reason (or already has).
        let reason = wait_exit(pid);
        assert!(reason == custom("no_config") || reason == ExitReason::NoProc);
    });
}

#[test]
fn start_link_init_stop_sends_the_exit_to_a_trapping_caller() {
    in_process(|| {
        trap_exit(true);
        let r = gen_server::start_link::<Probe>(
            (self_pid(), Plan::Stop(custom("bad_arg"))),
            StartOpts::new(),
        );
        assert_eq!(r, Err(StartError::Init(custom("bad_arg"))));
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("no Init report")
        };
        let e: Exit = receive_timeout(LONG).expect("no Exit from the failed server");
        assert_eq!(
            e,
            Exit {
                from: pid,
                reason: custom("bad_arg")
            }
        );
    });
}

#[test]
fn start_link_init_stop_ends_a_caller_that_does_not_trap() {
    // As in OTP: the linked server exits with the reason, and so does its non-trapping starter.
    let me = self_pid();
    let (caller, r) = spawn_monitor(move || {
        let res =
            gen_server::start_link::<Probe>((me, Plan::Stop(custom("bad_arg"))), StartOpts::new());
        send(me, format!("{res:?}"));
        let Go = receive::<Go>(); // the link's exit signal ends the wait
    });
    let d: Down = receive_match(|d: &Down| d.monitor == r);
    assert_eq!(d.reason, custom("bad_arg"));
    assert!(!is_alive(caller));
    assert!(matches!(
        receive_timeout::<Ev>(Duration::ZERO),
        Some(Ev::Init(_))
    ));
}

#[test]
fn init_panic_becomes_the_start_error_with_a_crash_report() {
    let (_g, cap) = crash_capture();
    in_process(|| {
        let r = start_probe(
            Plan::Panic("init exploded"),
            StartOpts::new().name("gs-init-panic"),
        );
        assert_eq!(
            r,
            Err(StartError::Init(ExitReason::Panic("init exploded".into())))
        );
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("no Init report")
        };
        assert_eq!(whereis("gs-init-panic"), None);
        let reason = wait_exit(pid);
        assert!(matches!(reason, ExitReason::Panic(_) | ExitReason::NoProc));
    });
    let reports: Vec<_> = cap
        .reports()
        .into_iter()
        .filter(|r| r.reason == ExitReason::Panic("init exploded".into()))
        .collect();
    assert_eq!(reports.len(), 1, "one crash report for the init panic");
}

#[test]
fn init_ignore_returns_ignore_and_the_process_exits_normal() {
    in_process(|| {
        let r = start_probe(Plan::Ignore, StartOpts::new().name("gs-ignore"));
        assert_eq!(r, Err(StartError::Ignore));
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("no Init report")
        };
        assert_eq!(whereis("gs-ignore"), None);
        let reason = wait_exit(pid);
        assert!(reason == ExitReason::Normal || reason == ExitReason::NoProc);
    });
}

#[test]
fn named_start_registers_before_init() {
    in_process(|| {
        let name = "gs-registered-before-init";
        let s =
            start_probe(Plan::CheckName(name.into()), StartOpts::new().name(name)).expect("start");
        let Ev::Init(pid) = ev() else { panic!() };
        assert_eq!(ev(), Ev::Note("registered before init: true".into()));
        assert_eq!(whereis(name), Some(pid));
        // A named handle reaches the same server.
        let by_name = Server::<Probe>::named(name);
        assert_eq!(by_name.pid(), Some(pid));
        assert_eq!(by_name.call(Req::Echo(5)), Ok(Ans::Num(5)));
        stop_probe(&s, pid);
        assert_eq!(whereis(name), None);
        assert_eq!(by_name.call(Req::Echo(5)), Err(CallError::NoProc));
    });
}

#[test]
fn a_taken_name_returns_already_started_with_the_owner() {
    in_process(|| {
        let name = "gs-taken";
        let (s, pid) = probe(StartOpts::new().name(name));
        let again = start_probe(Plan::Ok, StartOpts::new().name(name));
        assert_eq!(again, Err(StartError::AlreadyStarted(pid)));
        // init of the second server never ran.
        assert_eq!(ev_now(), None);
        stop_probe(&s, pid);

        // A name held by a plain process counts too.
        let me = self_pid();
        register("gs-taken-plain", me).expect("register");
        let r = start_probe(Plan::Ok, StartOpts::new().name("gs-taken-plain"));
        assert_eq!(r, Err(StartError::AlreadyStarted(me)));
        unregister("gs-taken-plain").expect("unregister");
    });
}

#[test]
fn a_failed_init_unregisters_before_start_returns() {
    // The retry right after a failed start must never see AlreadyStarted (gen.erl unregisters
    // before acking the starter). Loop it: a late unregister would show up as a flake here.
    in_process(|| {
        let name = "gs-retry";
        for i in 0..300 {
            let plan = match i % 3 {
                0 => Plan::Stop(ExitReason::Shutdown),
                1 => Plan::Ignore,
                _ => Plan::Stop(ExitReason::shutdown_with("retry")),
            };
            let r = start_probe(plan, StartOpts::new().name(name));
            assert!(
                matches!(r, Err(StartError::Init(_) | StartError::Ignore)),
                "attempt {i}: {r:?}"
            );
            assert_eq!(whereis(name), None, "attempt {i}: name still registered");
            assert!(matches!(ev_now(), Some(Ev::Init(_))), "attempt {i}");
        }
        let (s, pid) = probe(StartOpts::new().name(name));
        assert_eq!(whereis(name), Some(pid));
        stop_probe(&s, pid);
    });
}

#[test]
fn a_panicking_init_unregisters_before_start_returns() {
    let (_g, _cap) = crash_capture();
    in_process(|| {
        let name = "gs-retry-panic";
        for i in 0..20 {
            let r = start_probe(Plan::Panic("no"), StartOpts::new().name(name));
            assert_eq!(r, Err(StartError::Init(ExitReason::Panic("no".into()))));
            assert_eq!(whereis(name), None, "attempt {i}");
            assert!(matches!(ev_now(), Some(Ev::Init(_))));
        }
    });
}

#[test]
fn init_ended_by_an_exit_signal_gives_its_reason_not_noproc() {
    // No acknowledgement is ever sent: the starter learns the reason from its monitor, which
    // must exist before init runs, or a quick death reads as `noproc`.
    let (_g, _cap) = crash_capture();
    in_process(|| {
        for i in 0..200 {
            let r = start_probe(
                Plan::ExitSignal(custom("died_in_init")),
                StartOpts::new().name("gs-init-exit-signal"),
            );
            assert_eq!(
                r,
                Err(StartError::Init(custom("died_in_init"))),
                "attempt {i}"
            );
            assert!(matches!(ev_now(), Some(Ev::Init(_))));
            assert_eq!(whereis("gs-init-exit-signal"), None);
        }
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn start_timeout_kills_the_half_started_server() {
    in_process(|| {
        let name = "gs-start-timeout";
        let r = start_probe(Plan::Block, StartOpts::new().name(name).timeout(SHORT));
        assert_eq!(r, Err(StartError::Timeout));
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("no Init report")
        };
        assert!(!is_alive(pid), "the half-started server is still alive");
        assert_eq!(whereis(name), None);
        assert_eq!(mailbox_len(), 0);
        // The name can be taken again at once.
        let (s, pid2) = probe(StartOpts::new().name(name));
        stop_probe(&s, pid2);
    });
}

#[test]
fn start_link_timeout_unlinks_so_the_caller_survives() {
    in_process(|| {
        let r = gen_server::start_link::<Probe>(
            (self_pid(), Plan::Block),
            StartOpts::new().timeout(SHORT),
        );
        assert_eq!(r, Err(StartError::Timeout));
        let Some(Ev::Init(pid)) = ev_now() else {
            panic!("no Init report")
        };
        assert!(!is_alive(pid));
        // This process does not trap exits: had the link stayed, the kill would have ended it.
        let info = process_info(self_pid()).expect("alive");
        assert!(info.links.is_empty());
        assert!(info.monitors.is_empty());
        assert_eq!(info.message_queue_len, 0);
    });
}

#[test]
fn start_timeout_that_is_not_reached_starts_normally() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new().timeout(LONG));
        stop_probe(&s, pid);
    });
}

// ---------------------------------------------------------------------------------------------
// Calls: replies and errors.

#[test]
fn default_call_timeout_is_five_seconds() {
    assert_eq!(DEFAULT_CALL_TIMEOUT, Duration::from_secs(5));
}

#[test]
fn call_replies_and_casts_arrive_in_order() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        for i in 0..100 {
            s.cast(Msg::Note(i.to_string()));
        }
        assert_eq!(s.call(Req::Echo(7)), Ok(Ans::Num(7)));
        assert_eq!(s.call_timeout(Req::Echo(8), None), Ok(Ans::Num(8)));
        let log = log_of(&s);
        let want: Vec<String> = std::iter::once("init".to_string())
            .chain((0..100).map(|i| format!("note:{i}")))
            .collect();
        assert_eq!(log, want);
        stop_probe(&s, pid);
    });
}

#[test]
fn a_caller_monitors_the_server_only_while_its_call_lasts() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let me = self_pid();
        let s2 = s.clone();
        let caller = spawn(move || send(me, s2.call(Req::Block)));
        assert_eq!(ev(), Ev::Blocked);
        // Mid-call: the caller holds a monitor on the server, and nothing else changed.
        let info = process_info(caller).expect("alive");
        assert_eq!(info.monitors.len(), 1);
        assert_eq!(info.monitors[0].1, pid);
        assert_eq!(info.message_queue_len, 0);
        assert!(info.links.is_empty());
        assert_eq!(process_info(pid).expect("alive").monitored_by, vec![caller]);
        send(pid, Go);
        let got: Result<Ans, CallError> = receive_timeout(LONG).expect("no reply");
        assert_eq!(got, Ok(Ans::Done));
        // Once answered, the monitor is gone.
        assert_eq!(s.call(Req::Echo(1)), Ok(Ans::Num(1)));
        assert!(process_info(pid).expect("alive").monitored_by.is_empty());
        stop_probe(&s, pid);
    });
}

#[test]
fn call_to_a_dead_pid_is_noproc_at_once() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        stop_probe(&s, pid);
        // With a long timeout: a call that waited for it would return Timeout, not NoProc.
        assert_eq!(
            s.call_timeout(Req::Echo(1), Some(LONG)),
            Err(CallError::NoProc)
        );
        assert_eq!(s.call(Req::Echo(1)), Err(CallError::NoProc));
        // No monitor or message is left behind.
        let info = process_info(self_pid()).expect("alive");
        assert!(info.monitors.is_empty());
        assert_eq!(info.message_queue_len, 0);
    });
}

#[test]
fn call_to_an_unknown_name_is_noproc_at_once() {
    in_process(|| {
        let s = Server::<Probe>::named("gs-nobody-has-this-name");
        assert_eq!(s.pid(), None);
        assert_eq!(s.call_timeout(Req::Echo(1), None), Err(CallError::NoProc));
        assert_eq!(
            s.stop(ExitReason::Normal, Some(LONG)),
            Err(StopError::NoProc)
        );
        s.cast(Msg::Note("nobody".into())); // never fails
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn a_server_calling_itself_gets_calling_self() {
    in_process(|| {
        let name = "gs-calling-self";
        let (s, pid) = probe(StartOpts::new().name(name));
        assert_eq!(
            s.call(Req::CallSelf),
            Ok(Ans::Called(Err(CallError::CallingSelf)))
        );
        assert_eq!(
            s.call(Req::CallSelfByName(name.into())),
            Ok(Ans::Called(Err(CallError::CallingSelf)))
        );
        // stop on itself would wait for its own exit forever: calling_self too.
        assert_eq!(
            s.call(Req::StopSelf),
            Ok(Ans::Stopped(Err(StopError::CallingSelf)))
        );
        // The server is unharmed.
        assert_eq!(s.call(Req::Echo(3)), Ok(Ans::Num(3)));
        stop_probe(&s, pid);
    });
}

#[test]
fn a_call_that_times_out_never_sees_its_late_reply() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        assert_eq!(
            s.call_timeout(Req::Block, Some(SHORT)),
            Err(CallError::Timeout)
        );
        assert_eq!(ev(), Ev::Blocked);
        // Let the server reply now, late; then a second call gets its own reply. The server
        // handles messages in order, so the late reply has been sent by the time it answers.
        send(pid, Go);
        assert_eq!(s.call(Req::Echo(2)), Ok(Ans::Num(2)));
        assert_eq!(mailbox_len(), 0, "the late reply reached the mailbox");
        assert!(recv_timeout(Duration::ZERO).is_none());
        // The call's monitor is gone too.
        assert!(process_info(self_pid()).expect("alive").monitors.is_empty());
        stop_probe(&s, pid);
    });
}

#[test]
fn a_late_deferred_reply_is_dropped_too() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        assert_eq!(
            s.call_timeout(Req::Hold, Some(SHORT)),
            Err(CallError::Timeout)
        );
        assert_eq!(ev(), Ev::Held);
        // Another process replies to the expired call; ReleaseVia returns once it has.
        assert_eq!(s.call(Req::ReleaseVia(99)), Ok(Ans::Done));
        assert_eq!(mailbox_len(), 0);
        assert_eq!(s.call(Req::Echo(4)), Ok(Ans::Num(4)));
        assert!(recv_timeout(Duration::ZERO).is_none());
        stop_probe(&s, pid);
    });
}

#[test]
fn concurrent_callers_with_racing_timeouts_only_ever_see_their_own_replies() {
    // Calls that time out at the very moment the reply is sent (timeout zero) interleave with
    // ordinary calls from several processes: a reply is either taken by its own call or
    // dropped, never seen by a later call or left in a mailbox.
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let me = self_pid();
        let callers = 4u64;
        for c in 0..callers {
            let s = s.clone();
            spawn(move || {
                let (mut ok, mut timed_out) = (0u32, 0u32);
                for i in 0..400u64 {
                    let n = c * 1_000_000 + i;
                    let timeout = if i % 2 == 0 {
                        Some(Duration::ZERO)
                    } else {
                        Some(LONG)
                    };
                    match s.call_timeout(Req::Echo(n), timeout) {
                        Ok(Ans::Num(m)) => {
                            assert_eq!(m, n, "a reply of another call");
                            ok += 1;
                        }
                        Err(CallError::Timeout) => {
                            assert!(timeout == Some(Duration::ZERO));
                            timed_out += 1;
                        }
                        other => panic!("call returned {other:?}"),
                    }
                }
                assert_eq!(mailbox_len(), 0, "a late reply reached the mailbox");
                send(me, (ok, timed_out));
            });
        }
        for _ in 0..callers {
            let (ok, timed_out): (u32, u32) = receive_timeout(LONG).expect("a caller failed");
            assert_eq!(ok + timed_out, 400);
            assert!(ok >= 200, "every call with a long timeout gets its reply");
        }
        stop_probe(&s, pid);
    });
}

#[test]
fn a_call_behind_a_long_mailbox_works_and_leaves_it_in_order() {
    /// Unrelated messages in the caller's mailbox.
    struct Filler(u32);
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let me = self_pid();
        for i in 0..20_000 {
            send(me, Filler(i));
        }
        for n in 0..50 {
            assert_eq!(s.call(Req::Echo(n)), Ok(Ans::Num(n)));
        }
        assert_eq!(mailbox_len(), 20_000);
        for i in 0..20_000 {
            let Filler(j) = receive_timeout::<Filler>(Duration::ZERO).expect("filler lost");
            assert_eq!(i, j);
        }
        assert_eq!(mailbox_len(), 0);
        stop_probe(&s, pid);
    });
}

#[test]
fn deferred_reply_from_another_process() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let me = self_pid();
        let s2 = s.clone();
        let (caller, r) = spawn_monitor(move || {
            let got = s2.call(Req::Hold);
            send(me, got);
        });
        assert_eq!(ev(), Ev::Held);
        // The server goes on serving while the first call waits for its reply.
        assert_eq!(s.call(Req::Echo(1)), Ok(Ans::Num(1)));
        assert_eq!(s.call(Req::ReleaseVia(42)), Ok(Ans::Done));
        let got: Result<Ans, CallError> = receive_timeout(LONG).expect("the caller got nothing");
        assert_eq!(got, Ok(Ans::Num(42)));
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!((d.pid, d.reason), (caller, ExitReason::Normal));
        stop_probe(&s, pid);
    });
}

#[test]
fn reply_to_knows_the_caller_and_a_reply_to_a_dead_caller_is_dropped() {
    /// Holds one call; a call of `true` replies to the held one and then to itself, each
    /// with the pid its `ReplyTo` names.
    struct Keeper(Pid, Option<ReplyTo<Pid>>);
    impl GenServer for Keeper {
        type Arg = Pid;
        type Call = bool;
        type Reply = Pid;
        type Cast = ();
        type Continue = ();
        fn init(report: Pid) -> Init<Self> {
            Init::Ok(Keeper(report, None))
        }
        fn handle_call(&mut self, release: bool, from: ReplyTo<Pid>) -> Reply<Pid> {
            if release {
                if let Some(held) = self.1.take() {
                    held.reply(held.pid());
                    // A second reply through the same handle is dropped, never an error.
                    held.reply(held.pid());
                }
                Reply::Reply(from.pid())
            } else {
                self.1 = Some(from);
                send(self.0, Ev::Held);
                Reply::NoReply(Next::Wait)
            }
        }
    }
    in_process(|| {
        let me = self_pid();
        let s = gen_server::start::<Keeper>(me, StartOpts::new()).expect("start");
        let s2 = s.clone();
        let caller = spawn(move || {
            let got = s2.call(false);
            send(me, got);
        });
        assert_eq!(ev(), Ev::Held);
        assert_eq!(s.call(true), Ok(me));
        let got: Result<Pid, CallError> = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!(got, Ok(caller));

        // A held call whose caller dies: the reply goes nowhere and the server is fine.
        let s2 = s.clone();
        let doomed = spawn(move || {
            let _ = s2.call(false);
        });
        assert_eq!(ev(), Ev::Held);
        exit(doomed, ExitReason::Kill);
        assert_eq!(s.call(true), Ok(me));
        assert_eq!(mailbox_len(), 0);
        let pid = s.pid().expect("alive");
        assert_eq!(s.stop(ExitReason::Normal, None), Ok(()));
        assert!(!is_alive(pid));
    });
}

#[test]
fn reply_then_stop_runs_terminate_before_the_reply() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let r = monitor(pid);
        assert_eq!(s.call(Req::ReplyStop(ExitReason::Shutdown)), Ok(Ans::Done));
        // terminate sent its report before the reply was sent, so it is already here.
        assert_eq!(ev_now(), Some(Ev::Terminate(pid, ExitReason::Shutdown)));
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, ExitReason::Shutdown);
    });
}

#[test]
fn reply_then_stop_still_replies_when_terminate_panics() {
    // gs.erl sends the reply in the `after` of terminate: a crashing terminate does not keep
    // the caller waiting; the server exits with terminate's crash.
    let (_g, _cap) = crash_capture();
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let r = monitor(pid);
        assert_eq!(
            s.call(Req::ReplyStop(custom("terminate_panics"))),
            Ok(Ans::Done)
        );
        assert_eq!(
            ev_now(),
            Some(Ev::Terminate(pid, custom("terminate_panics")))
        );
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, ExitReason::Panic("terminate failed".into()));
    });
}

#[test]
fn noreply_stop_gives_the_caller_the_exit_reason() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        assert_eq!(
            s.call(Req::NoReplyStop(custom("quit"))),
            Err(CallError::Exit(custom("quit")))
        );
        assert_eq!(ev_now(), Some(Ev::Terminate(pid, custom("quit"))));
        assert!(!is_alive(pid));
    });
}

#[test]
fn a_server_killed_during_a_call_gives_the_caller_its_reason() {
    in_process(|| {
        for (reason, seen) in [
            (custom("boom"), custom("boom")),
            (ExitReason::Kill, ExitReason::Killed),
        ] {
            let (s, pid) = probe(StartOpts::new());
            let me = self_pid();
            let s2 = s.clone();
            spawn(move || send(me, s2.call_timeout(Req::Block, None)));
            assert_eq!(ev(), Ev::Blocked);
            exit(pid, reason);
            let got: Result<Ans, CallError> = receive_timeout(LONG).expect("caller hung");
            assert_eq!(got, Err(CallError::Exit(seen)));
            // Killed by a signal without trapping: terminate does not run.
            assert_eq!(ev_now(), None);
        }
    });
}

#[test]
fn a_panicking_call_ends_the_server_and_the_caller_gets_the_panic() {
    let (_g, cap) = crash_capture();
    let me = self_pid();
    let pid = {
        let (s, pid) = probe_from(me);
        assert_eq!(
            s.call(Req::Panic("kaboom")),
            Err(CallError::Exit(ExitReason::Panic("kaboom".into())))
        );
        // terminate ran with the panic, before the caller heard of the death.
        assert_eq!(
            ev_now(),
            Some(Ev::Terminate(pid, ExitReason::Panic("kaboom".into())))
        );
        assert!(!is_alive(pid));
        pid
    };
    let reports = cap.reports_for(pid);
    assert_eq!(reports.len(), 1, "one crash report for the panic");
    assert_eq!(reports[0].reason, ExitReason::Panic("kaboom".into()));
    assert!(reports[0].location.is_some());
}

/// A probe reporting to `report`, started from the calling process (tests that need the test
/// thread itself as the caller, e.g. to hold the crash capture around it).
fn probe_from(report: Pid) -> (Server<Probe>, Pid) {
    let s = gen_server::start::<Probe>((report, Plan::Ok), StartOpts::new()).expect("start");
    let pid = s.pid().expect("alive");
    let init = receive_match_timeout(LONG, |e: &Ev| *e == Ev::Init(pid));
    assert!(init.is_some(), "no Init report");
    (s, pid)
}

#[test]
fn queued_callers_get_the_exit_when_the_server_panics() {
    let (_g, cap) = crash_capture();
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        s.cast(Msg::BlockThenPanic("while busy"));
        assert_eq!(ev(), Ev::Blocked);
        let me = self_pid();
        for _ in 0..3 {
            let s2 = s.clone();
            spawn(move || send(me, s2.call_timeout(Req::Echo(1), None)));
        }
        // Wait until the three calls are queued in the server's mailbox.
        while process_info(pid).map_or(0, |i| i.message_queue_len) < 3 {
            std::thread::yield_now();
        }
        send(pid, Go);
        for _ in 0..3 {
            let got: Result<Ans, CallError> = receive_timeout(LONG).expect("a caller hung");
            assert_eq!(
                got,
                Err(CallError::Exit(ExitReason::Panic("while busy".into())))
            );
        }
        assert_eq!(
            ev(),
            Ev::Terminate(pid, ExitReason::Panic("while busy".into()))
        );
    });
    assert_eq!(
        cap.reports()
            .iter()
            .filter(|r| r.reason == ExitReason::Panic("while busy".into()))
            .count(),
        1
    );
}

#[test]
fn an_unhandled_call_stops_the_server_with_bad_call() {
    /// Implements only init: calls and casts take the trait's defaults.
    struct Bare;
    impl GenServer for Bare {
        type Arg = ();
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Continue = ();
        fn init((): ()) -> Init<Self> {
            Init::Ok(Bare)
        }
    }
    let (_g, _cap) = crash_capture();
    in_process(|| {
        let s = gen_server::start::<Bare>((), StartOpts::new()).expect("start");
        assert_eq!(s.call(()), Err(CallError::Exit(custom("bad_call"))));
        let s = gen_server::start::<Bare>((), StartOpts::new()).expect("start");
        let pid = s.pid().expect("alive");
        let r = monitor(pid);
        s.cast(());
        assert_eq!(down_of(r), custom("bad_cast"));
    });
}

// ---------------------------------------------------------------------------------------------
// Crash reports.

#[test]
fn crash_reports_for_abnormal_stops_only() {
    let (_g, cap) = crash_capture();
    let me = self_pid();
    let mut clean = Vec::new();
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::shutdown_with("done"),
    ] {
        // stop/3, a callback's Stop, and a call's NoReply Stop, each with a clean reason.
        let (s, pid) = probe_from(me);
        assert_eq!(s.stop(reason.clone(), Some(LONG)), Ok(()));
        clean.push(pid);
        let (s, pid) = probe_from(me);
        let r = monitor(pid);
        s.cast(Msg::Stop(reason.clone()));
        assert_eq!(down_of(r), reason);
        clean.push(pid);
        let (s, pid) = probe_from(me);
        assert_eq!(
            s.call(Req::NoReplyStop(reason.clone())),
            Err(CallError::Exit(reason.clone()))
        );
        clean.push(pid);
    }
    let (s, bad) = probe_from(me);
    let r = monitor(bad);
    s.cast(Msg::Stop(custom("broken")));
    assert_eq!(down_of(r), custom("broken"));
    let (s, panicked) = probe_from(me);
    let r = monitor(panicked);
    s.cast(Msg::Panic("cast panic"));
    assert_eq!(down_of(r), ExitReason::Panic("cast panic".into()));
    for pid in clean {
        assert!(
            cap.reports_for(pid).is_empty(),
            "crash report for a clean stop"
        );
    }
    assert_eq!(cap.reports_for(bad).len(), 1);
    assert_eq!(cap.reports_for(bad)[0].reason, custom("broken"));
    assert_eq!(cap.reports_for(panicked).len(), 1);
    // Every terminate ran; drop the reports.
    while receive_timeout::<Ev>(Duration::ZERO).is_some() {}
}

// ---------------------------------------------------------------------------------------------
// Continue and idle timeouts.

#[test]
fn continue_from_init_runs_before_any_message() {
    in_process(|| {
        let s = start_probe(Plan::ContinueWithQueued(1), StartOpts::new()).expect("start");
        let Ev::Init(pid) = ev() else { panic!() };
        s.cast(Msg::Note("after start".into()));
        assert_eq!(ev(), Ev::Continue(1));
        assert_eq!(
            log_of(&s),
            ["init", "continue:1", "info:queued", "note:after start"]
        );
        stop_probe(&s, pid);
    });
}

#[test]
fn continue_from_callbacks_runs_before_the_next_message() {
    // Each callback queues a message to its own server before asking to continue: the
    // continue must still run first.
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        s.cast(Msg::Continue(2));
        assert_eq!(ev(), Ev::Continue(2));
        assert_eq!(ev(), Ev::Note("queued before continue 2".into()));
        assert_eq!(
            log_of(&s),
            ["init", "continue:2", "info:report:queued before continue 2"]
        );
        assert_eq!(s.call(Req::ReplyContinue(3)), Ok(Ans::Done));
        assert_eq!(ev(), Ev::Continue(3));
        assert_eq!(ev(), Ev::Note("queued before continue 3".into()));
        assert_eq!(
            log_of(&s)[3..],
            ["continue:3", "info:report:queued before continue 3"]
        );
        stop_probe(&s, pid);
    });
}

#[test]
fn idle_timeout_runs_handle_timeout_when_no_message_comes() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        s.cast(Msg::Timeout(Duration::from_millis(10), false));
        assert_eq!(ev(), Ev::Timeout);
        assert_eq!(log_of(&s), ["init", "timeout"]);
        stop_probe(&s, pid);
    });
}

#[test]
fn a_message_cancels_the_idle_timeout() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        s.cast(Msg::BlockThenTimeout(SHORT));
        assert_eq!(ev(), Ev::Blocked);
        // This cast is queued before the server starts its idle wait, so the wait ends at once.
        s.cast(Msg::Note("in time".into()));
        send(pid, Go);
        assert_eq!(log_of(&s), ["init", "note:in time"]);
        // The cancelled timeout never fires later.
        assert_eq!(receive_timeout::<Ev>(SHORT * 4), None);
        assert_eq!(log_of(&s), ["init", "note:in time"]);
        stop_probe(&s, pid);
    });
}

#[test]
fn idle_timeout_from_init_can_expire_the_server() {
    // The to-do server's expiry: no request for T, and the server stops itself. Linked with
    // exits trapped, not monitored: a monitor set up after `start` returns could come after
    // the expiry (a busy machine) and see `noproc`; the link exists before `init` runs.
    in_process(|| {
        trap_exit(true);
        let s = start_probe(
            Plan::Timeout(Duration::from_millis(10), true),
            StartOpts::new().name("gs-expiring").link(),
        )
        .expect("start");
        let Ev::Init(pid) = ev() else { panic!() };
        let exit = receive_match_timeout(LONG, |e: &Exit| e.from == pid).expect("no exit");
        assert_eq!(exit.reason, ExitReason::Normal);
        assert_eq!(ev_now(), Some(Ev::Timeout));
        assert_eq!(ev_now(), Some(Ev::Terminate(pid, ExitReason::Normal)));
        assert_eq!(whereis("gs-expiring"), None);
        assert_eq!(s.call(Req::Log), Err(CallError::NoProc));
    });
}

// ---------------------------------------------------------------------------------------------
// Stop.

#[test]
fn stop_runs_terminate_and_returns_ok() {
    in_process(|| {
        let name = "gs-stop";
        let (s, pid) = probe(StartOpts::new().name(name));
        assert_eq!(s.stop(ExitReason::Shutdown, Some(LONG)), Ok(()));
        assert_eq!(ev_now(), Some(Ev::Terminate(pid, ExitReason::Shutdown)));
        assert!(!is_alive(pid));
        assert_eq!(whereis(name), None);
        assert_eq!(
            s.stop(ExitReason::Normal, Some(LONG)),
            Err(StopError::NoProc)
        );
        // Nothing left behind: no Down, no monitor.
        let info = process_info(self_pid()).expect("alive");
        assert_eq!(info.message_queue_len, 0);
        assert!(info.monitors.is_empty());
    });
}

#[test]
fn stop_behind_a_long_mailbox_leaves_it_untouched() {
    /// Unrelated messages in the stopper's mailbox.
    struct Filler(u32);
    in_process(|| {
        let me = self_pid();
        for i in 0..10_000 {
            send(me, Filler(i));
        }
        let (s, pid) = probe(StartOpts::new());
        assert_eq!(s.stop(ExitReason::Normal, Some(LONG)), Ok(()));
        assert_eq!(ev_now(), Some(Ev::Terminate(pid, ExitReason::Normal)));
        assert_eq!(mailbox_len(), 10_000);
        for i in 0..10_000 {
            let Filler(j) = receive_timeout::<Filler>(Duration::ZERO).expect("filler lost");
            assert_eq!(i, j);
        }
    });
}

#[test]
fn stop_on_a_dead_server_is_noproc() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        exit(pid, ExitReason::Kill);
        assert_eq!(s.stop(ExitReason::Normal, None), Err(StopError::NoProc));
        assert_eq!(mailbox_len(), 0);
    });
}

#[test]
fn stop_times_out_on_a_busy_server_and_leaves_nothing_behind() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        s.cast(Msg::BlockThenTimeout(LONG));
        assert_eq!(ev(), Ev::Blocked);
        assert_eq!(
            s.stop(ExitReason::Normal, Some(SHORT)),
            Err(StopError::Timeout)
        );
        assert_eq!(mailbox_len(), 0);
        assert!(process_info(self_pid()).expect("alive").monitors.is_empty());
        // The stop request is still queued: once unblocked, the server stops.
        let r = monitor(pid);
        send(pid, Go);
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, ExitReason::Normal);
        assert_eq!(ev_now(), Some(Ev::Terminate(pid, ExitReason::Normal)));
    });
}

// ---------------------------------------------------------------------------------------------
// trap_exit, the parent, and handle_info.

/// Starts a probe linked to a new parent process; returns the parent and the server.
fn probe_with_parent(opts: StartOpts) -> (Pid, Pid) {
    let me = self_pid();
    let parent = spawn(move || {
        let s = gen_server::start_link::<Probe>((me, Plan::Ok), opts).expect("start");
        send(me, s.pid().expect("alive"));
        let Go = receive::<Go>();
    });
    let Ev::Init(server) = ev() else { panic!() };
    let pid: Pid = receive_timeout(LONG).expect("nothing arrived");
    assert_eq!(pid, server);
    (parent, server)
}

#[test]
fn parent_shutdown_runs_terminate_when_trapping() {
    in_process(|| {
        let (parent, server) = probe_with_parent(StartOpts::new().trap_exit());
        assert!(process_info(server).expect("alive").trap_exit);
        let r = monitor(server);
        exit(parent, ExitReason::Shutdown);
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, ExitReason::Shutdown);
        assert_eq!(ev_now(), Some(Ev::Terminate(server, ExitReason::Shutdown)));
    });
}

#[test]
fn parent_exit_with_any_reason_ends_a_trapping_server_with_that_reason() {
    let (_g, _cap) = crash_capture();
    in_process(|| {
        let (parent, server) = probe_with_parent(StartOpts::new().trap_exit());
        let r = monitor(server);
        exit(parent, custom("parent_failed"));
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, custom("parent_failed"));
        assert_eq!(
            ev_now(),
            Some(Ev::Terminate(server, custom("parent_failed")))
        );
    });
}

#[test]
fn parent_shutdown_simply_ends_a_server_that_does_not_trap() {
    in_process(|| {
        let (parent, server) = probe_with_parent(StartOpts::new());
        // trap_exit is never set behind the user's back.
        assert!(!process_info(server).expect("alive").trap_exit);
        let r = monitor(server);
        exit(parent, ExitReason::Shutdown);
        let d: Down = receive_match(|d: &Down| d.monitor == r);
        assert_eq!(d.reason, ExitReason::Shutdown);
        // Anything terminate sent would have arrived before the Down.
        assert_eq!(ev_now(), None);
    });
}

#[test]
fn other_exits_go_to_handle_info() {
    in_process(|| {
        trap_exit(true);
        let (s, pid) = probe(StartOpts::new().link().trap_exit());
        // A linked process (not the parent) that dies.
        let friend = spawn(move || {
            link(pid).expect("link");
            exit_self(custom("bye"));
        });
        assert_eq!(
            ev(),
            Ev::Exit(Exit {
                from: friend,
                reason: custom("bye")
            })
        );
        // An exit signal sent by another process.
        let poker = spawn(move || exit(pid, custom("poke")));
        assert_eq!(
            ev(),
            Ev::Exit(Exit {
                from: poker,
                reason: custom("poke")
            })
        );
        assert!(is_alive(pid));
        assert_eq!(log_of(&s), ["init", "exit:bye", "exit:poke"]);
        stop_probe(&s, pid);
        // The server's own exit reached this (trapping) parent.
        let e: Exit = receive_timeout(LONG).expect("nothing arrived");
        assert_eq!((e.from, e.reason), (pid, ExitReason::Normal));
    });
}

#[test]
fn an_unlinked_server_treats_its_starters_exit_signal_as_information() {
    // gen.erl: a server started without a link is its own parent, so an Exit from the process
    // that started it is an ordinary message for handle_info.
    in_process(|| {
        let (s, pid) = probe(StartOpts::new().trap_exit());
        exit(pid, custom("from_starter"));
        assert_eq!(
            ev(),
            Ev::Exit(Exit {
                from: self_pid(),
                reason: custom("from_starter")
            })
        );
        assert!(is_alive(pid));
        stop_probe(&s, pid);
    });
}

#[test]
fn handle_info_gets_plain_timer_and_down_messages() {
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        send(pid, String::from("plain"));
        send(pid, 17u8);
        let watched = spawn(|| {
            let Go = receive::<Go>(); // never sent: the exit signal below ends the wait
        });
        s.cast(Msg::Monitor(watched));
        // The monitor is in place once the cast is handled (calls are handled in order).
        assert_eq!(s.call(Req::Echo(0)), Ok(Ans::Num(0)));
        let r = monitor(watched);
        // Ended from here, not by itself: the death procedure then runs on this thread, so the
        // server's Down is queued when `exit` returns, before the timer below is set. A process
        // that ends by itself notifies its monitors one at a time, and ours could come first.
        exit(watched, ExitReason::Shutdown);
        assert_eq!(down_of(r), ExitReason::Shutdown);
        send_after(pid, Duration::from_millis(1), String::from("report:timer"));
        assert_eq!(ev(), Ev::Note("timer".into()));
        assert_eq!(
            log_of(&s),
            [
                "init",
                "info:plain",
                "info:?",
                "down:shutdown",
                "info:report:timer"
            ]
        );
        stop_probe(&s, pid);
    });
}

#[test]
fn a_panicking_cast_ends_the_server_through_terminate() {
    let (_g, _cap) = crash_capture();
    in_process(|| {
        let (s, pid) = probe(StartOpts::new());
        let r = monitor(pid);
        s.cast(Msg::Panic("bad cast"));
        assert_eq!(down_of(r), ExitReason::Panic("bad cast".into()));
        assert_eq!(
            ev_now(),
            Some(Ev::Terminate(pid, ExitReason::Panic("bad cast".into())))
        );
        assert_eq!(s.call(Req::Echo(1)), Err(CallError::NoProc));
    });
}
