//! Introspection (processes, process_info), spawn options, pids, and adopted threads.

mod common;

use std::collections::HashSet;
use std::sync::mpsc;

use common::{Probe, WAIT, assert_all_end, down_for, r};
use runtime::{
    ExitReason, Pid, RegisterError, SpawnError, SpawnOpts, Status, exit, link, monitor,
    process_info, processes, receive, register, self_pid, send, spawn_monitor, trap_exit, whereis,
};

#[test]
fn processes_lists_live_processes_only() {
    let p = Probe::new();
    let me = self_pid();
    let all = processes();
    assert!(all.contains(&p.pid) && all.contains(&me));
    assert!(all.windows(2).all(|w| w[0] < w[1]), "in order of creation");
    let pid = p.pid;
    p.stop();
    assert!(!processes().contains(&pid));
    common::assert_probes_ended();
}

#[test]
fn process_info_fields() {
    let n = "info::fields";
    let p = Probe::trapping();
    let other = Probe::new();
    let (pp, po) = (p.pid, other.pid);
    register(n, pp).expect("register");
    p.call(move || link(po)).expect("link");
    let m = p.call(move || monitor(po));
    let info = process_info(pp).expect("alive");
    assert_eq!(info.pid, pp);
    assert_eq!(info.registered_name.as_deref(), Some(n));
    assert_eq!(info.links, vec![po]);
    assert_eq!(info.monitors, vec![(m, po)]);
    assert_eq!(info.monitored_by, vec![self_pid()]);
    assert!(info.trap_exit);
    assert!(!info.adopted);
    let oinfo = process_info(po).expect("alive");
    assert_eq!(oinfo.links, vec![pp]);
    assert_eq!(oinfo.monitored_by, vec![self_pid(), pp]);
    assert!(!oinfo.trap_exit);
    // Counters: the probe sent one reply per call so far (2) and took the 2 calls.
    assert_eq!(info.messages_sent, 2);
    assert_eq!(info.messages_received, 2);
    // Waiting in receive, with nothing queued.
    assert_eq!(info.message_queue_len, 0);
    p.call(|| trap_exit(false));
    assert!(!process_info(pp).expect("alive").trap_exit);
    other.stop();
    p.stop();
    assert!(process_info(pp).is_none());
    common::assert_probes_ended();
}

#[test]
fn status_is_waiting_while_blocked_in_receive() {
    let (tx, rx) = mpsc::channel();
    let (pid, m) = spawn_monitor(move || {
        tx.send(()).expect("test waits");
        let _: u8 = receive();
    });
    rx.recv_timeout(WAIT).expect("started");
    // The process parks after a short spin: poll its status without sleeping.
    let deadline = std::time::Instant::now() + WAIT;
    while process_info(pid).expect("alive").status != Status::Waiting {
        assert!(std::time::Instant::now() < deadline, "never seen waiting");
        std::thread::yield_now();
    }
    assert_eq!(
        process_info(self_pid()).expect("me").status,
        Status::Running
    );
    send(pid, 1u8);
    assert_eq!(down_for(m).reason, ExitReason::Normal);
    common::assert_probes_ended();
}

#[test]
fn queue_length_of_another_process() {
    let (tx, rx) = mpsc::channel::<()>();
    let (pid, m) = spawn_monitor(move || {
        rx.recv().expect("go");
        for _ in 0..3 {
            let _: u8 = receive();
        }
    });
    for i in 0..3u8 {
        send(pid, i);
    }
    assert_eq!(process_info(pid).expect("alive").message_queue_len, 3);
    tx.send(()).expect("go");
    assert_eq!(down_for(m).reason, ExitReason::Normal);
    common::assert_probes_ended();
}

#[test]
fn spawn_options_link_monitor_trap_exit_name() {
    let me = self_pid();
    let s = SpawnOpts::new()
        .link()
        .monitor()
        .trap_exit()
        .name("info::opts")
        .spawn(move || {
            let _: u8 = receive();
        })
        .expect("spawn");
    let info = process_info(s.pid).expect("alive");
    assert_eq!(info.links, vec![me]);
    assert!(info.trap_exit);
    assert_eq!(info.registered_name.as_deref(), Some("info::opts"));
    assert_eq!(info.monitored_by, vec![me]);
    assert_eq!(whereis("info::opts"), Some(s.pid));
    send(s.pid, 0u8);
    let d = down_for(s.monitor.expect("monitor"));
    assert_eq!((d.pid, d.reason), (s.pid, ExitReason::Normal));
    assert!(process_info(me).expect("me").links.is_empty());
    common::assert_probes_ended();
}

/// A spawn whose name is taken fails with a typed error and leaves nothing behind: the closure
/// never runs, no link, no monitor, no Down, the name keeps its owner.
#[test]
fn spawn_with_a_taken_name_fails_and_leaves_nothing() {
    let n = "info::taken";
    let owner = Probe::new();
    register(n, owner.pid).expect("register");
    let me = self_pid();
    let before = process_info(me).expect("me");
    let (tx, rx) = mpsc::channel::<&str>();
    let result = SpawnOpts::new().name(n).link().monitor().spawn(move || {
        let _ = tx.send("ran");
    });
    match result {
        Err(SpawnError::Register(RegisterError::NameTaken { name, pid })) => {
            assert_eq!((name.as_str(), pid), (n, owner.pid));
        }
        other => panic!("expected NameTaken, got {other:?}"),
    }
    // The closure was dropped without running (the channel is closed, nothing was sent).
    assert_eq!(
        rx.recv_timeout(WAIT),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
    let after = process_info(me).expect("me");
    assert_eq!(after.links, before.links);
    assert_eq!(after.monitors, before.monitors);
    assert_eq!(whereis(n), Some(owner.pid));
    owner.stop();
    assert!(
        runtime::recv_timeout(std::time::Duration::ZERO).is_none(),
        "no Down, no Exit"
    );
    common::assert_probes_ended();
}

/// A large stack size lets a process recurse deeper than the default allows.
#[test]
fn spawn_with_a_stack_size() {
    fn depth(n: u32) -> u64 {
        let buf = std::hint::black_box([n as u8; 1024]);
        if n == 0 {
            u64::from(buf[0])
        } else {
            depth(n - 1) + u64::from(buf[1023])
        }
    }
    let me = self_pid();
    let s = SpawnOpts::new()
        .stack_size(16 * 1024 * 1024)
        .monitor()
        .spawn(move || send(me, depth(2_000)))
        .expect("spawn");
    assert!(receive::<u64>() > 0);
    assert_eq!(
        down_for(s.monitor.expect("monitor")).reason,
        ExitReason::Normal
    );
    common::assert_probes_ended();
}

#[test]
fn pids_print_like_erlang_and_are_never_reused() {
    let me = self_pid();
    assert_eq!(me.to_string(), format!("<0.{}.0>", me.id()));
    assert_eq!(format!("{me:?}"), me.to_string());
    let mut seen = HashSet::new();
    let mut last: Option<Pid> = None;
    let mut pids = Vec::new();
    for _ in 0..500 {
        let (pid, m) = spawn_monitor(|| {});
        assert!(seen.insert(pid), "{pid} reused");
        assert!(last.is_none_or(|l| l < pid), "pids grow");
        last = Some(pid);
        down_for(m);
        pids.push(pid);
    }
    assert_all_end(&pids);
    let reference = runtime::make_ref();
    assert_eq!(
        reference.to_string(),
        format!("#Ref<0.0.0.{}>", reference.id())
    );
    common::assert_probes_ended();
}

/// Any thread becomes a process on first use, and its process ends normally when the thread
/// ends (a monitor on it gets Down Normal).
#[test]
fn a_plain_thread_becomes_a_process_and_ends_normally() {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (end_tx, end_rx) = mpsc::channel::<()>();
    let me = self_pid();
    let t = std::thread::spawn(move || {
        let pid = self_pid();
        pid_tx.send(pid).expect("test waits");
        // It can receive and send like any process.
        let n: u32 = receive();
        send(me, n + 1);
        end_rx.recv().expect("end");
    });
    let pid = pid_rx
        .recv_timeout(WAIT)
        .expect("the thread reports its pid");
    assert!(process_info(pid).expect("alive").adopted);
    let m = monitor(pid);
    send(pid, 41u32);
    assert_eq!(receive::<u32>(), 42);
    end_tx.send(()).expect("thread waits");
    t.join().expect("the thread ends cleanly");
    let d = down_for(m);
    assert_eq!((d.pid, d.reason), (pid, ExitReason::Normal));
    assert!(!processes().contains(&pid));
    common::assert_probes_ended();
}

/// An adopted thread whose process is ended from outside: its next runtime call panics, and
/// after that the thread is a fresh process with an empty mailbox (nothing of the old
/// process's mailbox, not even what a selective receive had set aside, is delivered to it).
#[test]
fn an_adopted_thread_whose_process_is_killed() {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (res_tx, res_rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let first = self_pid();
        pid_tx.send(first).expect("test waits");
        // Skips over the &str, which stays in this process's mailbox.
        let _: u32 = receive();
        pid_tx.send(first).expect("test waits");
        go_rx.recv().expect("go");
        // The process was killed while the thread was busy elsewhere.
        let panicked = std::panic::catch_unwind(runtime::checkpoint).is_err();
        let second = self_pid();
        let leftover = runtime::recv_timeout(std::time::Duration::ZERO);
        let leftover = leftover.map(|m| format!("{m:?}"));
        res_tx
            .send((panicked, first, second, leftover))
            .expect("test waits");
    });
    let pid = pid_rx.recv_timeout(WAIT).expect("pid");
    let m = monitor(pid);
    send(pid, "left in the mailbox");
    send(pid, 1u32);
    pid_rx.recv_timeout(WAIT).expect("received the u32");
    exit(pid, r("stop"));
    assert_eq!(down_for(m).reason, r("stop"));
    go_tx.send(()).expect("thread waits");
    let (panicked, first, second, leftover) = res_rx.recv_timeout(WAIT).expect("result");
    t.join().expect("thread ends");
    assert!(panicked);
    assert_ne!(first, second, "a fresh process");
    assert_eq!(leftover, None);
    assert_all_end(&[first, second]);
    common::assert_probes_ended();
}
