//! Timers: send_after, cancel_timer, read_timer (erlang:send_after/3, cancel_timer/1,
//! read_timer/1).

mod common;

use std::time::{Duration, Instant};

use common::{Probe, WAIT};
use runtime::{cancel_timer, read_timer, receive, receive_timeout, self_pid, send_after};

#[derive(Debug, PartialEq)]
struct Tick(u32);

#[test]
fn send_after_delivers() {
    let t = send_after(self_pid(), Duration::from_millis(1), Tick(1));
    assert_eq!(receive_timeout::<Tick>(WAIT), Some(Tick(1)));
    // Fired: nothing left to read or cancel.
    assert_eq!(read_timer(t), None);
    assert_eq!(cancel_timer(t), None);
    common::assert_probes_ended();
}

/// Timers fire in deadline order, whatever the order they were set in.
#[test]
fn timers_fire_in_deadline_order() {
    let me = self_pid();
    let start = Instant::now();
    send_after(me, Duration::from_millis(300), Tick(3));
    send_after(me, Duration::from_millis(1), Tick(1));
    send_after(me, Duration::from_millis(150), Tick(2));
    // The deadlines are 150 ms apart; only a test thread stalled longer than that between the
    // calls could make them cross (then only the arrival of all three is checked).
    let stalled = start.elapsed() >= Duration::from_millis(150);
    let got: Vec<u32> = (0..3).map(|_| receive::<Tick>().0).collect();
    if !stalled {
        assert_eq!(got, [1, 2, 3]);
    }
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [1, 2, 3]);
    common::assert_probes_ended();
}

/// A cancelled timer reports the time that was left, and its message never arrives: a later
/// timer to the same process fires after the cancelled one's deadline and arrives alone.
#[test]
fn cancel_timer_returns_the_time_left_and_the_message_never_arrives() {
    let me = self_pid();
    let delay = Duration::from_millis(200);
    let t = send_after(me, delay, Tick(1));
    match read_timer(t) {
        Some(left) => assert!(left <= delay),
        None => {
            // Only if this thread stalled for the whole delay: then the message came.
            assert_eq!(receive::<Tick>(), Tick(1));
            return;
        }
    }
    match cancel_timer(t) {
        Some(left) => assert!(left <= delay),
        None => {
            assert_eq!(receive::<Tick>(), Tick(1));
            return;
        }
    }
    assert_eq!(read_timer(t), None);
    assert_eq!(cancel_timer(t), None, "cancelling twice");
    send_after(me, delay + Duration::from_millis(10), Tick(2));
    assert_eq!(receive::<Tick>(), Tick(2));
    assert_eq!(receive_timeout::<Tick>(Duration::ZERO), None);
    common::assert_probes_ended();
}

/// A timer whose destination has died is dropped silently, and does not disturb the others.
#[test]
fn a_timer_to_a_dead_process_is_dropped() {
    let p = Probe::new();
    let pid = p.pid;
    p.stop();
    send_after(pid, Duration::ZERO, Tick(0));
    send_after(self_pid(), Duration::from_millis(1), Tick(7));
    assert_eq!(receive::<Tick>(), Tick(7));
    common::assert_probes_ended();
}

/// Many timers at once all arrive, exactly once each.
#[test]
fn many_timers() {
    let me = self_pid();
    let mut cancelled = Vec::new();
    for i in 0..200u32 {
        let t = send_after(me, Duration::from_millis(u64::from(i % 7)), Tick(i));
        if i % 5 == 0 {
            cancelled.push((i, t));
        }
    }
    let mut expected: Vec<u32> = (0..200).collect();
    for (i, t) in cancelled {
        if cancel_timer(t).is_some() {
            expected.retain(|&x| x != i);
        }
    }
    let mut got: Vec<u32> = (0..expected.len())
        .map(|_| receive_timeout::<Tick>(WAIT).expect("timer").0)
        .collect();
    got.sort_unstable();
    assert_eq!(got, expected);
    // The marker fires after every deadline above: nothing else comes.
    send_after(me, Duration::from_millis(10), "marker");
    assert_eq!(receive::<&str>(), "marker");
    assert_eq!(receive_timeout::<Tick>(Duration::ZERO), None);
    common::assert_probes_ended();
}
