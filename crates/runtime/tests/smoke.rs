use runtime::*;
use std::time::Duration;

#[test]
fn kill_blocked_in_receive_and_down() {
    let (pid, r) = spawn_monitor(|| {
        let _: u32 = receive();
    });
    exit(pid, ExitReason::Kill);
    let d: Down = receive();
    assert_eq!(d.monitor, r);
    assert_eq!(d.reason, ExitReason::Killed);
    assert!(!is_alive(pid));
}

#[test]
fn ping_pong() {
    let me = self_pid();
    let p = spawn(move || {
        loop {
            let n: u64 = receive();
            send(me, n + 1);
            if n > 1000 {
                break;
            }
        }
    });
    for i in 0..1002u64 {
        send(p, i);
        assert_eq!(receive::<u64>(), i + 1);
    }
    assert!(receive_timeout::<u64>(Duration::from_millis(10)).is_none());
}
