//! Introspection: the processes alive now and a snapshot of each.

use std::sync::atomic::Ordering;

use crate::ids::{Pid, Ref};
use crate::process::{all_pids, lookup};

/// What a process is doing, as far as the runtime can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Running its own code.
    Running,
    /// Blocked in a receive (or waiting for a call's reply).
    Waiting,
}

/// A snapshot of one process (Erlang's `process_info/1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// Its registered name.
    pub registered_name: Option<String>,
    /// Running or waiting.
    pub status: Status,
    /// Messages in its mailbox.
    pub message_queue_len: usize,
    /// Processes it is linked to, sorted.
    pub links: Vec<Pid>,
    /// Monitors it holds: reference and monitored process.
    pub monitors: Vec<(Ref, Pid)>,
    /// Processes monitoring it.
    pub monitored_by: Vec<Pid>,
    /// Whether it traps exits.
    pub trap_exit: bool,
    /// Messages it has sent.
    pub messages_sent: u64,
    /// Messages it has taken from its mailbox.
    pub messages_received: u64,
    /// Whether it runs on a thread the runtime did not spawn (a main thread, a test).
    pub adopted: bool,
}

/// The pids of all live processes, in order of creation.
pub fn processes() -> Vec<Pid> {
    all_pids()
}

/// A snapshot of `pid`, or `None` if it is not alive.
pub fn process_info(pid: Pid) -> Option<ProcessInfo> {
    let p = lookup(pid)?;
    let st = p.state.lock();
    if !p.is_alive() {
        return None;
    }
    let mut links: Vec<Pid> = st.links.iter().copied().collect();
    links.sort_unstable();
    let mut monitors: Vec<(Ref, Pid)> = st.monitors.iter().map(|(r, h)| (*r, h.target)).collect();
    monitors.sort_unstable();
    let mut monitored_by: Vec<Pid> = st.monitored_by.values().copied().collect();
    monitored_by.sort_unstable();
    Some(ProcessInfo {
        pid,
        registered_name: st.name.as_ref().map(|n| n.to_string()),
        status: if p.waiting.load(Ordering::Relaxed) {
            Status::Waiting
        } else {
            Status::Running
        },
        message_queue_len: p.queue_len.load(Ordering::Relaxed),
        links,
        monitors,
        monitored_by,
        trap_exit: p.traps_exits(),
        messages_sent: p.sent.load(Ordering::Relaxed),
        messages_received: p.received.load(Ordering::Relaxed),
        adopted: p.adopted,
    })
}
