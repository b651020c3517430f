//! Ordering and races.
//!
//! Ordering ports the Reference Manual, Processes, "Delivery of Signals": signals from one
//! process to another arrive in the order sent, messages, exit and down signals alike, so a
//! process's last messages arrive before its Exit and its Down (otp-semantics.md 1.5).
//!
//! The races run two processes against each other thousands of times (link, unlink, monitor,
//! demonitor, kill at the same moment): no deadlock, no lost notification, and no
//! notification after unlink or demonitor returned (erlang:unlink/1, erlang:demonitor/1).

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{WAIT, assert_all_end, down_for, exit_queued, r};
use runtime::{
    Down, Exit, ExitReason, LinkError, Message, Pid, SpawnOpts, demonitor, exit, exit_self, link,
    monitor, process_info, receive, receive_match_timeout, receive_select, receive_timeout, recv,
    recv_timeout, self_pid, send, spawn, spawn_monitor, trap_exit, unlink, unlink_flush,
};

/// A process that waits until told to stop (a target for races).
fn idle() -> Pid {
    spawn(|| {
        let _: Stop = receive();
    })
}

struct Stop;
struct Dead;

/// The messages a sender sent arrive before its Exit and its Down, whether it ends by itself
/// or with a crash.
#[test]
fn messages_arrive_before_exit_and_down() {
    trap_exit(true);
    let me = self_pid();
    for round in 0..300u32 {
        let n = round % 40;
        let crash = round % 3 == 0;
        let s = SpawnOpts::new()
            .link()
            .monitor()
            .spawn(move || {
                for i in 0..n {
                    send(me, i);
                }
                if crash {
                    exit_self(r("after sending"));
                }
            })
            .expect("spawn");
        let reason = if crash {
            r("after sending")
        } else {
            ExitReason::Normal
        };
        for i in 0..n {
            let m = recv();
            assert_eq!(m.downcast_ref::<u32>(), Some(&i), "round {round}: {m:?}");
        }
        // Then the two notifications, in either order, and nothing else.
        for _ in 0..2 {
            let m = recv();
            if let Some(e) = m.downcast_ref::<Exit>() {
                assert_eq!((e.from, &e.reason), (s.pid, &reason));
            } else if let Some(d) = m.downcast_ref::<Down>() {
                assert_eq!((d.pid, &d.reason), (s.pid, &reason));
            } else {
                panic!("round {round}: unexpected {m:?}");
            }
        }
    }
    trap_exit(false);
    assert!(recv_timeout(Duration::ZERO).is_none());
}

/// A process killed from outside while it sends in a loop: every message it got out arrives
/// before its Exit and its Down, with no gap, and nothing arrives after them.
#[test]
fn killed_while_sending_in_a_loop() {
    trap_exit(true);
    let me = self_pid();
    let mut pids = Vec::new();
    for round in 0..100u64 {
        let s = SpawnOpts::new()
            .link()
            .monitor()
            .spawn(move || {
                let mut i = 0u64;
                loop {
                    send(me, i);
                    i += 1;
                }
            })
            .expect("spawn");
        // Let it get some messages out, then kill it.
        let k = round % 20;
        for i in 0..k {
            assert_eq!(receive::<u64>(), i);
        }
        exit(s.pid, ExitReason::Kill);
        let mut next = k;
        let mut notes = 0;
        while notes < 2 {
            let m = recv_timeout(WAIT).expect("the Exit and the Down arrive");
            if let Some(&i) = m.downcast_ref::<u64>() {
                assert_eq!(notes, 0, "round {round}: message {i} after a notification");
                assert_eq!(i, next, "round {round}: gap");
                next += 1;
            } else if let Some(e) = m.downcast_ref::<Exit>() {
                assert_eq!((e.from, &e.reason), (s.pid, &ExitReason::Killed));
                notes += 1;
            } else if let Some(d) = m.downcast_ref::<Down>() {
                assert_eq!((d.pid, &d.reason), (s.pid, &ExitReason::Killed));
                notes += 1;
            } else {
                panic!("round {round}: unexpected {m:?}");
            }
        }
        // exit/2 has returned: the sender is dead and its later sends are dropped.
        assert!(recv_timeout(Duration::ZERO).is_none(), "round {round}");
        pids.push(s.pid);
    }
    trap_exit(false);
    assert_all_end(&pids);
}

/// The same when the sender is killed through a link by a third process: the cascade runs on
/// another thread than the receiver's.
#[test]
fn killed_through_a_link_while_sending() {
    let me = self_pid();
    for round in 0..60u64 {
        let (sender, m) = spawn_monitor(move || {
            let mut i = 0u64;
            loop {
                send(me, i);
                i += 1;
            }
        });
        let (killer, km) = spawn_monitor(move || {
            link(sender).expect("link");
            send(me, "linked");
            let _: Stop = receive(); // never comes
        });
        assert_eq!(receive::<&str>(), "linked");
        for i in 0..round % 10 {
            assert_eq!(receive::<u64>(), i);
        }
        exit(killer, r("cascade"));
        assert_eq!(down_for(km).reason, r("cascade"));
        let mut next = round % 10;
        loop {
            let msg = receive_select(Some(WAIT), |msg| {
                msg.is::<u64>() || msg.downcast_ref::<Down>().is_some_and(|d| d.monitor == m)
            })
            .expect("the Down arrives");
            match msg.downcast::<u64>() {
                Ok(i) => {
                    assert_eq!(i, next, "round {round}");
                    next += 1;
                }
                Err(d) => {
                    let d = d.downcast::<Down>().expect("a Down");
                    assert_eq!(d.reason, r("cascade"));
                    break;
                }
            }
        }
        assert!(
            receive_timeout::<u64>(Duration::ZERO).is_none(),
            "round {round}"
        );
    }
}

/// Two processes link and unlink each other at the same moment, many times: no deadlock, and
/// the link ends up recorded on both sides or on neither; a death then acts accordingly.
#[test]
fn link_unlink_race_keeps_links_symmetric() {
    for round in 0..300 {
        let barrier = Arc::new(Barrier::new(2));
        let me = self_pid();
        let spawn_racer = |barrier: Arc<Barrier>, flip: bool| {
            spawn_monitor(move || {
                let other: Pid = receive();
                barrier.wait();
                for i in 0..20 {
                    if (i % 2 == 0) ^ flip {
                        link(other).expect("both alive");
                    } else {
                        unlink(other);
                    }
                }
                send(me, "done");
                let _: Stop = receive();
            })
        };
        let (a, am) = spawn_racer(barrier.clone(), false);
        let (b, bm) = spawn_racer(barrier, round % 2 == 0);
        send(a, b);
        send(b, a);
        assert_eq!(receive::<&str>(), "done");
        assert_eq!(receive::<&str>(), "done");
        let la = process_info(a).expect("alive").links;
        let lb = process_info(b).expect("alive").links;
        assert_eq!(
            la.contains(&b),
            lb.contains(&a),
            "round {round}: {la:?} {lb:?}"
        );
        let linked = la.contains(&b);
        exit(a, r("race"));
        assert_eq!(down_for(am).reason, r("race"));
        if linked {
            assert_eq!(down_for(bm).reason, r("race"));
        } else {
            send(b, Stop);
            assert_eq!(down_for(bm).reason, ExitReason::Normal);
        }
    }
}

/// Both sides link at the same moment: one link, no deadlock.
#[test]
fn simultaneous_link_from_both_sides() {
    for _ in 0..500 {
        let barrier = Arc::new(Barrier::new(2));
        let me = self_pid();
        let racer = |barrier: Arc<Barrier>| {
            spawn(move || {
                let other: Pid = receive();
                barrier.wait();
                link(other).expect("alive");
                send(me, process_info(self_pid()).expect("alive").links);
                let _: Stop = receive();
            })
        };
        let a = racer(barrier.clone());
        let b = racer(barrier);
        send(a, b);
        send(b, a);
        let l1: Vec<Pid> = receive();
        let l2: Vec<Pid> = receive();
        assert_eq!(l1.len(), 1);
        assert_eq!(l2.len(), 1);
        assert_eq!(process_info(a).expect("alive").links, vec![b]);
        // Killing one takes the other (neither traps).
        let m = monitor(b);
        exit(a, r("pair"));
        assert_eq!(down_for(m).reason, r("pair"));
    }
}

/// link racing with the target's kill. A trapping linker gets exactly one Exit: `Killed` if
/// the link came first, `NoProc` if the kill did. A non-trapping linker either gets
/// `Err(NoProc)` and lives, or is taken down with `Killed`.
#[test]
fn link_races_with_kill() {
    let me = self_pid();
    for round in 0..600 {
        let trap = round % 2 == 0;
        let target = idle();
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let opts = if trap {
            SpawnOpts::new().trap_exit()
        } else {
            SpawnOpts::new()
        };
        let s = opts
            .monitor()
            .spawn(move || {
                b2.wait();
                let res = link(target);
                send(me, res);
                if trap {
                    let e: Exit = receive();
                    assert!(receive_timeout::<Exit>(Duration::ZERO).is_none());
                    send(me, e);
                }
                let _: Stop = receive();
            })
            .expect("spawn");
        barrier.wait();
        exit(target, ExitReason::Kill);
        let linker_down = s.monitor.expect("monitor");
        if trap {
            assert_eq!(receive::<Result<(), LinkError>>(), Ok(()));
            let e: Exit = receive_timeout(WAIT).expect("exactly one Exit, never lost");
            assert_eq!(e.from, target);
            assert!(
                matches!(e.reason, ExitReason::Killed | ExitReason::NoProc),
                "round {round}: {e:?}"
            );
            send(s.pid, Stop);
            assert_eq!(down_for(linker_down).reason, ExitReason::Normal);
        } else {
            let res = receive_select(Some(WAIT), |m| {
                m.is::<Result<(), LinkError>>()
                    || m.downcast_ref::<Down>()
                        .is_some_and(|d| d.monitor == linker_down)
            })
            .expect("a result or a Down");
            match res.downcast::<Result<(), LinkError>>() {
                Ok(Err(e)) => {
                    assert_eq!(e, LinkError::NoProc(target));
                    send(s.pid, Stop);
                    assert_eq!(down_for(linker_down).reason, ExitReason::Normal);
                }
                Ok(Ok(())) => {
                    assert_eq!(down_for(linker_down).reason, ExitReason::Killed);
                }
                Err(m) => {
                    let d = m.downcast::<Down>().expect("a Down");
                    assert_eq!(d.reason, ExitReason::Killed, "round {round}");
                }
            }
        }
    }
}

/// monitor racing with the target's kill: exactly one Down, `Killed` or `NoProc`.
#[test]
fn monitor_races_with_kill() {
    let me = self_pid();
    for round in 0..600 {
        let target = idle();
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let (watcher, wm) = spawn_monitor(move || {
            b2.wait();
            let m = monitor(target);
            let d = receive_match_timeout::<Down>(WAIT, |d| d.monitor == m);
            let again = receive_timeout::<Down>(Duration::ZERO);
            send(me, (d, again.is_some()));
        });
        barrier.wait();
        exit(target, ExitReason::Kill);
        let (d, twice): (Option<Down>, bool) = receive();
        let d = d.expect("the Down is never lost");
        assert_eq!(d.pid, target);
        assert!(
            matches!(d.reason, ExitReason::Killed | ExitReason::NoProc),
            "round {round}: {d:?}"
        );
        assert!(!twice, "round {round}: fired twice");
        assert_eq!(down_for(wm).reason, ExitReason::Normal);
        let _ = watcher;
    }
}

/// demonitor racing with the target's death: if demonitor says the monitor was active, no Down
/// ever arrives; if it says it was not, the Down is already queued when it returns.
#[test]
fn demonitor_races_with_death() {
    let me = self_pid();
    for round in 0..500 {
        let target = idle();
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let (watcher, wm) = spawn_monitor(move || {
            let m = monitor(target);
            b2.wait();
            let active = demonitor(m);
            let queued_at_return =
                receive_match_timeout::<Down>(Duration::ZERO, |d| d.monitor == m).is_some();
            let _: Dead = receive();
            let later = receive_match_timeout::<Down>(Duration::ZERO, |d| d.monitor == m);
            send(me, (active, queued_at_return, later.is_some()));
        });
        barrier.wait();
        exit(target, r("race"));
        send(watcher, Dead);
        let (active, queued_at_return, later): (bool, bool, bool) = receive();
        assert!(!later, "round {round}: a Down after demonitor returned");
        assert_eq!(queued_at_return, !active, "round {round}");
        assert_eq!(down_for(wm).reason, ExitReason::Normal);
    }
}

/// unlink racing with the partner's death (the partner is ended by the test): after unlink
/// returns, no Exit is placed in the queue, and a non-trapping process is not taken down.
#[test]
fn unlink_races_with_death() {
    let me = self_pid();
    for round in 0..500 {
        let trap = round % 2 == 0;
        let flush = round % 4 < 2;
        let target = idle();
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let opts = if trap {
            SpawnOpts::new().trap_exit()
        } else {
            SpawnOpts::new()
        };
        let s = opts
            .monitor()
            .spawn(move || {
                link(target).expect("alive");
                b2.wait();
                if flush {
                    unlink_flush(target);
                } else {
                    unlink(target);
                }
                let at_return = exit_queued(target).is_some();
                send(me, "unlinked");
                let _: Dead = receive();
                let later = exit_queued(target).is_some();
                send(me, (at_return, later));
                let _: Stop = receive();
            })
            .expect("spawn");
        let sm = s.monitor.expect("monitor");
        barrier.wait();
        exit(target, r("race"));
        // The linker either unlinked first (it lives and says so) or the signal came first
        // (a non-trapping linker dies without having returned from unlink).
        let m = receive_select(Some(WAIT), |m| {
            m.is::<&str>() || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == sm)
        })
        .expect("an answer or a Down");
        if let Some(d) = m.downcast_ref::<Down>() {
            assert!(!trap, "round {round}: a trapping process died: {d:?}");
            assert_eq!(d.reason, r("race"));
            continue;
        }
        send(s.pid, Dead);
        let m = receive_select(Some(WAIT), |m| {
            m.is::<(bool, bool)>() || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == sm)
        })
        .expect("an answer or a Down");
        let (at_return, later) = match m.downcast::<(bool, bool)>() {
            Ok(v) => v,
            Err(m) => panic!("round {round}: died after unlink returned: {m:?}"),
        };
        assert!(!later, "round {round}: an Exit after unlink returned");
        if flush || !trap {
            assert!(!at_return, "round {round}");
        }
        send(s.pid, Stop);
        assert_eq!(down_for(sm).reason, ExitReason::Normal, "round {round}");
    }
}

/// Two linked processes kill each other at the same moment: no deadlock. At least one dies
/// killed. The other dies killed too, unless it traps exits and its partner was killed before
/// its own kill got out: then it lives on (with an Exit message).
#[test]
fn mutual_kill() {
    for round in 0..500 {
        let barrier = Arc::new(Barrier::new(2));
        let racer = |barrier: Arc<Barrier>, trap: bool| {
            let opts = if trap {
                SpawnOpts::new().trap_exit()
            } else {
                SpawnOpts::new()
            };
            opts.monitor()
                .spawn(move || {
                    let other: Pid = receive();
                    link(other).expect("alive");
                    barrier.wait();
                    exit(other, ExitReason::Kill);
                    let _: Stop = receive();
                })
                .expect("spawn")
        };
        let traps = [round % 2 == 0, round % 3 == 0];
        let a = racer(barrier.clone(), traps[0]);
        let b = racer(barrier, traps[1]);
        send(a.pid, b.pid);
        send(b.pid, a.pid);
        let first = receive_select(Some(WAIT), |m| m.is::<Down>()).expect("one dies");
        let first = first.downcast::<Down>().expect("a Down");
        assert_eq!(first.reason, ExitReason::Killed, "round {round}");
        for (s, trap) in [(a, traps[0]), (b, traps[1])] {
            if s.pid == first.pid {
                continue;
            }
            send(s.pid, Stop);
            let d = down_for(s.monitor.expect("monitor"));
            match d.reason {
                ExitReason::Killed => {}
                ExitReason::Normal => assert!(trap, "round {round}: survived without trapping"),
                other => panic!("round {round}: {other:?}"),
            }
        }
    }
}

/// A watcher killed while it sets up a monitor leaves no trace in the watched process.
#[test]
fn monitor_races_with_the_watchers_death() {
    // The target traps exits (the watcher links to it) and ignores the Exit messages.
    let target = SpawnOpts::new()
        .trap_exit()
        .spawn(|| while !recv().is::<Stop>() {})
        .expect("spawn")
        .pid;
    for round in 0..1000 {
        let barrier = Arc::new(Barrier::new(2));
        let b2 = barrier.clone();
        let (watcher, wm) = spawn_monitor(move || {
            b2.wait();
            monitor(target);
            link(target).expect("alive");
            let _: Stop = receive();
        });
        barrier.wait();
        exit(watcher, ExitReason::Kill);
        assert_eq!(down_for(wm).reason, ExitReason::Killed);
        let info = process_info(target).expect("the target lives");
        assert!(info.monitored_by.is_empty(), "round {round}: {info:?}");
        assert!(info.links.is_empty(), "round {round}: {info:?}");
    }
    send(target, Stop);
    assert_all_end(&[target]);
}

/// Link, monitor and kill all at once among three processes while the test kills them too,
/// many times: no deadlock and every process ends. (No barrier here: a process killed before
/// reaching it would leave the others blocked outside the runtime.)
#[test]
fn three_way_storm() {
    let me = self_pid();
    for round in 0..300u32 {
        let mut pids = Vec::new();
        let mut monitors = Vec::new();
        for k in 0..3u32 {
            let s = SpawnOpts::new()
                .monitor()
                .trap_exit()
                .spawn(move || {
                    let others: Vec<Pid> = receive();
                    let [x, y] = [others[0], others[1]];
                    match (round + k) % 4 {
                        0 => {
                            let _ = link(x);
                            exit(y, ExitReason::Kill);
                        }
                        1 => {
                            monitor(x);
                            let _ = link(y);
                            unlink(x);
                        }
                        2 => {
                            exit(x, r("storm"));
                            monitor(y);
                        }
                        _ => {
                            let _ = link(y);
                            exit_self(r("self"));
                        }
                    }
                    send(me, "done");
                    let _: Message = recv();
                })
                .expect("spawn");
            pids.push(s.pid);
            monitors.push(s.monitor.expect("monitor"));
        }
        for (i, &p) in pids.iter().enumerate() {
            let others: Vec<Pid> = pids.iter().copied().filter(|&q| q != pids[i]).collect();
            send(p, others);
        }
        for &p in &pids {
            exit(p, ExitReason::Kill);
        }
        for m in monitors {
            down_for(m);
        }
        while receive_timeout::<&str>(Duration::ZERO).is_some() {}
    }
}

/// Once unlink has returned, the partner's death cannot end the caller: the exit signal is
/// either delivered before (and the caller dies without returning from unlink) or dropped.
/// The partner has many monitors, so its death procedure is long and a signal delivered early
/// but acted on late would show; the caller spins (no barrier wake-up) to hit that window.
#[test]
fn unlink_returned_means_the_link_cannot_kill() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let me = self_pid();
    for round in 0..200 {
        let target = idle();
        let refs: Vec<runtime::Ref> = (0..100).map(|_| monitor(target)).collect();
        let go = Arc::new(AtomicBool::new(false));
        let go2 = go.clone();
        let (linker, lm) = spawn_monitor(move || {
            link(target).expect("alive");
            send(me, "linked");
            while !go2.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            for _ in 0..round % 50 {
                std::hint::spin_loop();
            }
            unlink(target);
            send(me, "unlinked");
            let _: Stop = receive();
        });
        assert_eq!(receive::<&str>(), "linked");
        go.store(true, Ordering::Release);
        exit(target, r("race"));
        for m in refs {
            down_for(m);
        }
        let m = receive_select(Some(WAIT), |m| {
            m.is::<&str>() || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == lm)
        })
        .expect("an answer or a Down");
        if m.is::<Down>() {
            continue; // the signal came first: died inside unlink
        }
        send(linker, Stop);
        let d = down_for(lm);
        assert_eq!(
            d.reason,
            ExitReason::Normal,
            "round {round}: died after unlink returned"
        );
    }
}
