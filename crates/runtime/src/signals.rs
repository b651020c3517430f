//! Links, monitors, exit signals, trap_exit, and hooks tied to a process's life.

use std::sync::atomic::Ordering;

use crate::error::{LinkError, NoProc};
use crate::ids::{Pid, Ref, make_ref};
use crate::message::Message;
use crate::process::{
    ExitHook, ExitHookId, ExitUnwind, HeldMonitor, Proc, current, current_alive, deliver_down,
    exit_process, lookup, send_exit_signal, unwind_dead, with_proc,
};
use crate::reason::{Down, Exit, ExitReason};

/// The calling process's pid. Any thread becomes a process the first time it asks.
pub fn self_pid() -> Pid {
    current().pid
}

/// `true` if `pid` names a live process.
pub fn is_alive(pid: Pid) -> bool {
    crate::process::is_alive(pid)
}

/// Sets whether the calling process traps exits, and returns the previous setting.
///
/// A process that traps exits receives most exit signals as [`Exit`] messages instead of dying
/// (an untrappable `exit(pid, Kill)` still ends it).
pub fn trap_exit(on: bool) -> bool {
    current_alive().trap_exit.swap(on, Ordering::AcqRel)
}

/// Stops the calling thread here if its process has been ended from outside (killed, or ended
/// by an exit signal). Long computations that never send or receive call it from time to time,
/// since Rust cannot stop a thread from outside.
pub fn checkpoint() {
    let _ = current_alive();
}

/// Links the calling process and `pid`: when either ends, the other gets an exit signal.
///
/// Linking twice is the same as once, and linking to oneself does nothing. If `pid` is not
/// alive, a process that does not trap exits gets `Err(LinkError::NoProc)`; one that traps
/// exits gets `Ok(())` and then an `Exit { from: pid, reason: NoProc }` message, as in OTP.
pub fn link(pid: Pid) -> Result<(), LinkError> {
    let me = current_alive();
    if pid == me.pid {
        return Ok(());
    }
    if let Some(other) = lookup(pid) {
        let (first, second) = if me.pid < other.pid {
            (&me, &other)
        } else {
            (&other, &me)
        };
        let mut a = first.state.lock();
        let mut b = second.state.lock();
        if first.is_alive() && second.is_alive() {
            a.links.insert(second.pid);
            b.links.insert(first.pid);
            return Ok(());
        }
        drop(b);
        drop(a);
        if !me.is_alive() {
            unwind_dead(&me);
        }
    }
    if me.traps_exits() {
        me.push_system(Message::new(Exit {
            from: pid,
            reason: ExitReason::NoProc,
        }));
        Ok(())
    } else {
        Err(LinkError::NoProc(pid))
    }
}

/// Removes the link between the calling process and `pid`, if there is one. After `unlink`
/// returns, the link has no further effect (an `Exit` already queued stays queued; use
/// [`unlink_flush`] to remove it too).
pub fn unlink(pid: Pid) {
    let me = current_alive();
    unlink_proc(&me, pid);
}

pub(crate) fn unlink_proc(me: &Proc, pid: Pid) {
    if pid == me.pid {
        return;
    }
    match lookup(pid) {
        Some(other) => {
            let (first, second) = if me.pid < other.pid {
                (me, &*other)
            } else {
                (&*other, me)
            };
            let mut a = first.state.lock();
            let mut b = second.state.lock();
            a.links.remove(&second.pid);
            b.links.remove(&first.pid);
        }
        None => {
            me.state.lock().links.remove(&pid);
        }
    }
}

/// Unlinks and removes any `Exit` from `pid` already in the mailbox (what supervisors do
/// before shutting a child down).
pub fn unlink_flush(pid: Pid) {
    let me = current_alive();
    unlink_proc(&me, pid);
    crate::mailbox::flush_matching(&me, |m| {
        m.downcast_ref::<Exit>().is_some_and(|e| e.from == pid)
    });
}

/// Monitors `pid`: when it ends, the calling process gets one [`Down`] message with the
/// returned reference. Every call makes an independent monitor. Monitoring a process that is
/// not alive delivers a `Down` with reason `NoProc` at once.
pub fn monitor(pid: Pid) -> Ref {
    let me = current_alive();
    monitor_from(&me, pid, false)
}

/// Sets up a monitor held by `me`. With `to_slot`, its Down goes to the reply slot (calls).
pub(crate) fn monitor_from(me: &Proc, pid: Pid, to_slot: bool) -> Ref {
    let r = make_ref();
    monitor_with_ref(me, pid, r, to_slot);
    r
}

/// Sets up a monitor with a reference made beforehand (a call opens its reply slot under the
/// monitor's reference before the monitor exists, so an immediate `NoProc` Down is not lost).
pub(crate) fn monitor_with_ref(me: &Proc, pid: Pid, r: Ref, to_slot: bool) {
    // The holder's record goes in first: delivery checks it, so a Down can never be lost
    // between the two insertions.
    me.state.lock().monitors.insert(
        r,
        HeldMonitor {
            target: pid,
            to_slot,
        },
    );
    let set = with_proc(pid, |t| {
        let mut st = t.state.lock();
        if t.is_alive() {
            st.monitored_by.insert(r, me.pid);
            // If `me` died meanwhile, its death procedure may already have gone through the
            // monitors it holds, before this record existed: take the record back, or the
            // target would list a dead watcher for ever. (The death marks `me` dead before it
            // takes this lock, so either it removes the record or this check sees it.)
            if !me.is_alive() {
                st.monitored_by.remove(&r);
            }
            true
        } else {
            false
        }
    })
    .unwrap_or(false);
    if !set {
        deliver_down(me.pid, r, pid, &ExitReason::NoProc);
    }
}

/// Removes a monitor. After it returns no `Down` for `monitor` will be placed in the mailbox,
/// though one may already be there ([`demonitor_flush`] removes that too). Returns `true` if
/// the monitor was still active.
pub fn demonitor(monitor: Ref) -> bool {
    let me = current_alive();
    demonitor_from(&me, monitor)
}

pub(crate) fn demonitor_from(me: &Proc, monitor: Ref) -> bool {
    let held = me.state.lock().monitors.remove(&monitor);
    match held {
        Some(h) => {
            with_proc(h.target, |t| t.state.lock().monitored_by.remove(&monitor));
            true
        }
        None => false,
    }
}

/// Removes a monitor and any `Down` for it already in the mailbox. Returns `true` if the
/// monitor was still active (so no `Down` had been delivered).
pub fn demonitor_flush(monitor: Ref) -> bool {
    let me = current_alive();
    let was_active = demonitor_from(&me, monitor);
    if !was_active {
        crate::mailbox::flush_matching(&me, |m| {
            m.downcast_ref::<Down>()
                .is_some_and(|d| d.monitor == monitor)
        });
    }
    was_active
}

/// Sends an exit signal to `pid`, as Erlang's `exit/2`.
///
/// | reason | `pid` not trapping | `pid` trapping |
/// |---|---|---|
/// | `Kill` | dies, `Killed` | dies, `Killed` |
/// | `Normal`, `pid` is another process | ignored | `Exit` message |
/// | `Normal`, `pid` is the caller | dies, `Normal` | `Exit` message |
/// | anything else | dies with it | `Exit` message |
///
/// The signal takes effect at once: a process it ends is dead to everyone when `exit`
/// returns, its name is free and its links and monitors have fired. Its thread stops at its
/// next runtime call. If the caller ends itself this way, it unwinds here.
pub fn exit(pid: Pid, reason: ExitReason) {
    let me = current_alive();
    send_exit_signal(me.pid, pid, reason);
    if !me.is_alive() && !std::thread::panicking() {
        unwind_dead(&me);
    }
}

/// Ends the calling process with `reason`, as Erlang's `exit/1`. The thread unwinds to the
/// top of the process, running destructors on the way. On a thread that was not spawned by
/// the runtime (the main thread, a test), this is a panic naming the reason, after the
/// process has ended.
pub fn exit_self(reason: ExitReason) -> ! {
    let me = current();
    if me.adopted {
        exit_process(&me, reason);
        unwind_dead(&me);
    }
    std::panic::resume_unwind(Box::new(ExitUnwind(reason)))
}

/// Ties a hook to `pid`'s life: it runs exactly once when the process exits, after its name is
/// released and before its links and monitors are notified (OTP releases a dying process's
/// names and tables first). It runs on whichever thread ends the process, with no runtime
/// lock held; it must be short, must not block, and may send messages.
///
/// Other crates use this for resources a process owns, such as ETS tables.
pub fn add_exit_hook(
    pid: Pid,
    hook: impl FnOnce(Pid, &ExitReason) + Send + 'static,
) -> Result<ExitHookId, NoProc> {
    let mut hook: Option<ExitHook> = Some(Box::new(hook));
    let id = ExitHookId(make_ref().0);
    with_proc(pid, |p| {
        let mut st = p.state.lock();
        if p.is_alive()
            && let Some(h) = hook.take()
        {
            st.hooks.push((id, h));
        }
    });
    match hook {
        None => Ok(id),
        // Not added: the hook (user values) is dropped here, with no runtime lock held.
        Some(_) => Err(NoProc(pid)),
    }
}

/// Removes an exit hook. Returns `true` if it was removed and so will never run.
pub fn remove_exit_hook(pid: Pid, id: ExitHookId) -> bool {
    let removed = with_proc(pid, |p| {
        let mut st = p.state.lock();
        let i = st.hooks.iter().position(|(h, _)| *h == id)?;
        Some(st.hooks.swap_remove(i))
    })
    .flatten();
    // The hook's captured values are dropped here, with no lock held.
    removed.is_some()
}
