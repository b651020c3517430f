//! Mailboxes: FIFO per sender, selective receive by type and predicate (with and without
//! timeout) that keeps the other messages in order, recv, receive_select, sends to dead pids.
//!
//! Ports the Reference Manual, Processes, "Delivery of Signals" and Efficiency Guide,
//! "Receiving messages" (otp-semantics.md 1.5, 1.6).

mod common;

use std::time::Duration;

use common::{Probe, down_for};
use runtime::{
    ExitReason, Message, process_info, receive, receive_match, receive_match_timeout,
    receive_select, receive_timeout, recv, recv_timeout, self_pid, send, spawn_monitor,
};

#[derive(Debug, PartialEq)]
struct A(u32);
#[derive(Debug, PartialEq)]
struct B(u32);
#[derive(Debug, PartialEq)]
struct C(u32);

/// Drains the mailbox (it must hold only A, B and C) into a list of tags in order.
fn rest() -> Vec<String> {
    let mut v = Vec::new();
    while let Some(m) = recv_timeout(Duration::ZERO) {
        v.push(describe(m));
    }
    v
}

fn describe(m: Message) -> String {
    if let Some(A(n)) = m.downcast_ref() {
        format!("A{n}")
    } else if let Some(B(n)) = m.downcast_ref() {
        format!("B{n}")
    } else if let Some(C(n)) = m.downcast_ref() {
        format!("C{n}")
    } else {
        panic!("unexpected {m:?}")
    }
}

fn fill() {
    let me = self_pid();
    send(me, A(1));
    send(me, B(1));
    send(me, A(2));
    send(me, C(1));
    send(me, B(2));
}

#[test]
fn recv_takes_messages_in_order() {
    fill();
    assert_eq!(describe(recv()), "A1");
    assert_eq!(describe(recv()), "B1");
    assert_eq!(rest(), ["A2", "C1", "B2"]);
    assert!(recv_timeout(Duration::ZERO).is_none());
    common::assert_probes_ended();
}

#[test]
fn receive_by_type_keeps_the_rest_in_order() {
    fill();
    assert_eq!(receive::<B>(), B(1));
    assert_eq!(receive_timeout::<C>(Duration::from_secs(1)), Some(C(1)));
    assert_eq!(rest(), ["A1", "A2", "B2"]);
    common::assert_probes_ended();
}

#[test]
fn receive_by_predicate_keeps_the_rest_in_order() {
    fill();
    assert_eq!(receive_match::<A>(|a| a.0 == 2), A(2));
    assert_eq!(
        receive_match_timeout::<B>(Duration::from_secs(1), |b| b.0 == 2),
        Some(B(2))
    );
    assert_eq!(rest(), ["A1", "B1", "C1"]);
    common::assert_probes_ended();
}

/// A receive that times out takes nothing and leaves the mailbox as it was.
#[test]
fn receive_timeout_without_a_match_leaves_the_mailbox() {
    fill();
    assert_eq!(receive_timeout::<u64>(Duration::from_millis(5)), None);
    assert_eq!(
        receive_match_timeout::<A>(Duration::from_millis(5), |a| a.0 == 9),
        None
    );
    assert!(receive_select(Some(Duration::ZERO), |m| m.is::<u64>()).is_none());
    assert_eq!(rest(), ["A1", "B1", "A2", "C1", "B2"]);
    common::assert_probes_ended();
}

#[test]
fn receive_select_over_several_types() {
    fill();
    let m = receive_select(None, |m| m.is::<C>() || m.is::<B>()).expect("no timeout");
    assert_eq!(describe(m), "B1");
    let m = receive_select(Some(Duration::from_secs(1)), |m| {
        m.is::<C>() || m.downcast_ref::<A>().is_some_and(|a| a.0 == 2)
    })
    .expect("there is one");
    assert_eq!(describe(m), "A2");
    let m = receive_select(None, |m| m.is::<C>()).expect("no timeout");
    assert_eq!(m.downcast::<C>().expect("a C"), C(1));
    assert_eq!(rest(), ["A1", "B2"]);
    common::assert_probes_ended();
}

/// A selective receive waits for a matching message that arrives later, and keeps the
/// non-matching messages that arrived while it waited, in order.
#[test]
fn selective_receive_waits_and_keeps_later_arrivals() {
    let me = self_pid();
    let (_, m) = spawn_monitor(move || {
        for i in 0..50 {
            send(me, A(i));
        }
        send(me, C(0));
        for i in 50..100 {
            send(me, A(i));
        }
    });
    assert_eq!(receive::<C>(), C(0));
    assert_eq!(down_for(m).reason, ExitReason::Normal);
    for i in 0..100 {
        assert_eq!(receive::<A>(), A(i));
    }
    common::assert_probes_ended();
}

/// Messages from one sender arrive in the order sent, whatever the receiver does.
#[test]
fn fifo_between_one_sender_and_one_receiver() {
    let me = self_pid();
    const N: u32 = 3_000;
    let (_, m) = spawn_monitor(move || {
        for i in 0..N {
            send(me, i);
            if i % 3 == 0 {
                send(me, B(i));
            }
        }
    });
    // Take the u32s first with a selective receive, then the Bs: both streams are in order.
    for i in 0..N {
        assert_eq!(receive::<u32>(), i);
    }
    for i in (0..N).filter(|i| i % 3 == 0) {
        assert_eq!(receive::<B>(), B(i));
    }
    assert_eq!(down_for(m).reason, ExitReason::Normal);
    common::assert_probes_ended();
}

/// Sending to a dead process is silently dropped; the message is destroyed.
#[test]
fn send_to_a_dead_pid_is_dropped() {
    let p = Probe::new();
    let pid = p.pid;
    p.stop();
    let tracked = std::sync::Arc::new(());
    send(pid, tracked.clone());
    assert_eq!(
        std::sync::Arc::strong_count(&tracked),
        1,
        "the message was dropped"
    );
    common::assert_probes_ended();
}

/// When a process dies, the messages left in its mailbox are destroyed at once.
#[test]
fn a_dead_process_mailbox_is_dropped() {
    // The process never receives: the messages stay in its mailbox.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (pid, m) = spawn_monitor(move || {
        let _ = rx.recv();
    });
    let tracked = std::sync::Arc::new(());
    send(pid, tracked.clone());
    send(pid, tracked.clone());
    assert_eq!(std::sync::Arc::strong_count(&tracked), 3);
    runtime::exit(pid, ExitReason::Kill);
    assert_eq!(std::sync::Arc::strong_count(&tracked), 1, "dropped by exit");
    drop(tx);
    assert_eq!(down_for(m).reason, ExitReason::Killed);
    common::assert_probes_ended();
}

/// The message counters and queue length of process_info follow sends and receives.
#[test]
fn queue_length_and_counters() {
    let me = self_pid();
    let before = process_info(me).expect("alive");
    send(me, A(1));
    send(me, B(1));
    send(me, A(2));
    let info = process_info(me).expect("alive");
    assert_eq!(info.message_queue_len, 3);
    assert_eq!(info.messages_sent, before.messages_sent + 3);
    assert_eq!(receive::<B>(), B(1)); // selective: the As move to the save queue
    let info = process_info(me).expect("alive");
    assert_eq!(info.message_queue_len, 2);
    assert_eq!(info.messages_received, before.messages_received + 1);
    let _ = rest();
    assert_eq!(process_info(me).expect("alive").message_queue_len, 0);
    common::assert_probes_ended();
}

/// A message of any Send type: closures, boxes, strings.
#[test]
fn any_send_type_is_a_message() {
    let me = self_pid();
    send(me, String::from("owned"));
    send(me, Box::new(7u8));
    send(me, vec![1, 2, 3]);
    send(me, Ok::<u8, String>(1));
    assert_eq!(receive::<Vec<i32>>(), vec![1, 2, 3]);
    assert_eq!(receive::<String>(), "owned");
    assert_eq!(*receive::<Box<u8>>(), 7);
    assert_eq!(receive::<Result<u8, String>>(), Ok(1));
    let m = Message::new(3u16);
    assert!(m.is::<u16>() && !m.is::<u32>());
    assert_eq!(m.downcast::<u32>().map_err(|m| m.is::<u16>()), Err(true));
    common::assert_probes_ended();
}

/// A message destroyed because its receiver is dead may run any code in its destructor, even
/// spawn processes: no runtime lock is held then (the lock-order rule of process.rs). Both for
/// a plain send and for a timer. Run on helper threads so that a deadlock fails the test
/// instead of hanging it.
#[test]
fn a_dropped_message_destructor_may_use_the_runtime() {
    struct SpawnsOnDrop(Option<std::sync::mpsc::Sender<()>>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            // Enough spawns that one lands in every shard of the process table.
            for _ in 0..130 {
                let (_, m) = spawn_monitor(|| {});
                down_for(m);
            }
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }
    let p = Probe::new();
    let dead = p.pid;
    p.stop();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || send(dead, SpawnsOnDrop(Some(tx2))));
    assert!(
        rx.recv_timeout(common::WAIT).is_ok(),
        "send: destructor deadlocked"
    );
    runtime::send_after(dead, Duration::ZERO, SpawnsOnDrop(Some(tx)));
    assert!(
        rx.recv_timeout(common::WAIT).is_ok(),
        "timer: destructor deadlocked"
    );
    common::assert_probes_ended();
}
