//! Spawning processes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::crash::{CrashReport, install_panic_hook, panic_message, report, take_panic_location};
use crate::error::SpawnError;
use crate::ids::{Pid, Ref, make_ref};
use crate::process::{
    DeadUnwind, ExitUnwind, HeldMonitor, Proc, current_alive, deliver_down, exit_process,
    new_process, set_current, set_pooled,
};
use crate::reason::ExitReason;

/// Options for [`spawn_opt`]: link, monitor, trap_exit, a name, a stack size.
///
/// ```
/// use runtime::{SpawnOpts, receive, Down};
/// let spawned = SpawnOpts::new().monitor().name("worker-doc").spawn(|| {}).unwrap();
/// let down: Down = receive();
/// assert_eq!(Some(down.monitor), spawned.monitor);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct SpawnOpts {
    link: bool,
    monitor: bool,
    trap_exit: bool,
    name: Option<String>,
    stack_size: Option<usize>,
}

/// What [`spawn_opt`] created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spawned {
    /// The new process.
    pub pid: Pid,
    /// The monitor, if one was asked for.
    pub monitor: Option<Ref>,
}

impl SpawnOpts {
    /// No options: like [`spawn`].
    pub fn new() -> Self {
        Self::default()
    }
    /// Link the new process to the caller, atomically with its creation.
    pub fn link(mut self) -> Self {
        self.link = true;
        self
    }
    /// Monitor the new process from the caller.
    pub fn monitor(mut self) -> Self {
        self.monitor = true;
        self
    }
    /// The new process traps exits from its first instruction.
    pub fn trap_exit(mut self) -> Self {
        self.trap_exit = true;
        self
    }
    /// Register the new process under `name` before it runs; the spawn fails if the name is taken.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// The stack size of the new process's thread, in bytes (default
    /// [`DEFAULT_STACK_SIZE`](crate::DEFAULT_STACK_SIZE), changed by
    /// [`set_default_stack_size`](crate::set_default_stack_size)).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes.max(64 * 1024));
        self
    }
    /// Spawns `f` with these options.
    pub fn spawn<F: FnOnce() + Send + 'static>(self, f: F) -> Result<Spawned, SpawnError> {
        spawn_opt(f, self)
    }
}

/// Spawns a process running `f` with `opts`. Fails only if the OS will not give a thread, or
/// the name asked for cannot be registered; nothing is left behind on failure.
pub fn spawn_opt<F: FnOnce() + Send + 'static>(
    f: F,
    opts: SpawnOpts,
) -> Result<Spawned, SpawnError> {
    install_panic_hook();
    let parent = current_alive();
    let stack = opts
        .stack_size
        .unwrap_or_else(crate::threads::default_stack_size);
    let worker =
        crate::threads::acquire(stack).map_err(|e| SpawnError::SystemLimit(e.to_string()))?;
    let child = new_process(false);
    if opts.trap_exit {
        child
            .trap_exit
            .store(true, std::sync::atomic::Ordering::Release);
    }
    if let Some(name) = &opts.name
        && let Err(e) = crate::registry::register_pid(name, child.pid)
    {
        exit_process(&child, ExitReason::Normal); // it never ran and has no relations
        worker.start(Box::new(|| {}));
        return Err(e.into());
    }
    if !opts.link && !parent.is_alive() {
        // The spawner was ended while spawning: it runs no more code, so the child it was
        // making never starts (with a link, the block below does the same, with the reason).
        exit_process(&child, ExitReason::Normal);
        worker.start(Box::new(|| {}));
        crate::process::unwind_dead(&parent);
    }
    if opts.link {
        // Pids grow, so the parent's lock comes first in pid order.
        let mut a = parent.state.lock();
        let mut b = child.state.lock();
        if !parent.is_alive() {
            // The parent was ended while spawning: the child would miss its exit signal.
            let reason = a.exit_reason.clone().unwrap_or(ExitReason::Killed);
            drop(b);
            drop(a);
            exit_process(&child, reason);
            worker.start(Box::new(|| {}));
            crate::process::unwind_dead(&parent);
        }
        a.links.insert(child.pid);
        if child.is_alive() {
            b.links.insert(parent.pid);
        } else {
            // Someone who found the child in the table (a sweep of `processes()`) killed it
            // before this link existed: the link fires now, as it would have right after an
            // atomic spawn_link.
            let reason = b.exit_reason.clone().unwrap_or(ExitReason::Killed);
            drop(b);
            drop(a);
            crate::process::late_link_exit(child.pid, parent.pid, &reason);
            if !parent.is_alive() {
                worker.start(Box::new(|| {}));
                crate::process::unwind_dead(&parent);
            }
        }
    }
    let monitor = opts.monitor.then(|| monitor_child(&parent, &child));
    let pid = child.pid;
    worker.start(Box::new(move || run_process(child, f)));
    Ok(Spawned { pid, monitor })
}

/// The monitor of spawn_monitor: `monitor`, except that it is decided under the child's lock,
/// so a child killed before the monitor exists (by someone who found it in the table) gets a
/// Down with its real reason rather than `NoProc`, as if the monitor had existed from its
/// creation.
fn monitor_child(parent: &Proc, child: &Proc) -> Ref {
    let r = make_ref();
    let held = HeldMonitor {
        target: child.pid,
        to_slot: false,
    };
    parent.state.lock().monitors.insert(r, held);
    let mut st = child.state.lock();
    if child.is_alive() {
        st.monitored_by.insert(r, parent.pid);
        // As in `monitor_with_ref`: a parent killed meanwhile takes its record back.
        if !parent.is_alive() {
            st.monitored_by.remove(&r);
        }
    } else {
        let reason = st.exit_reason.clone().unwrap_or(ExitReason::Killed);
        drop(st);
        deliver_down(parent.pid, r, child.pid, &reason);
    }
    r
}

/// Spawns a process running `f`.
///
/// # Panics
/// If the operating system will not create another thread (Erlang raises `system_limit`
/// there too); use [`spawn_opt`] to get an error instead.
pub fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Pid {
    match spawn_opt(f, SpawnOpts::new()) {
        Ok(s) => s.pid,
        Err(e) => panic!("{e}"),
    }
}

/// Spawns a process running `f`, linked to the caller (atomically).
///
/// # Panics
/// As [`spawn`].
pub fn spawn_link<F: FnOnce() + Send + 'static>(f: F) -> Pid {
    match spawn_opt(f, SpawnOpts::new().link()) {
        Ok(s) => s.pid,
        Err(e) => panic!("{e}"),
    }
}

/// Spawns a process running `f` and monitors it.
///
/// # Panics
/// As [`spawn`].
pub fn spawn_monitor<F: FnOnce() + Send + 'static>(f: F) -> (Pid, Ref) {
    match spawn_opt(f, SpawnOpts::new().monitor()) {
        Ok(Spawned {
            pid,
            monitor: Some(r),
        }) => (pid, r),
        Ok(Spawned { monitor: None, .. }) => unreachable!("monitor was asked for"),
        Err(e) => panic!("{e}"),
    }
}

/// The body of every spawned process's thread: run the closure, turn how it ended into an
/// exit reason, report a crash, and run the death procedure.
fn run_process<F: FnOnce()>(p: Arc<Proc>, f: F) {
    set_pooled(true);
    set_current(Some(p.clone()));
    let result = catch_unwind(AssertUnwindSafe(f));
    let outcome = match result {
        Ok(()) => Some((ExitReason::Normal, None)),
        Err(payload) if payload.is::<DeadUnwind>() => None,
        Err(payload) => match payload.downcast::<ExitUnwind>() {
            Ok(e) => Some((e.0, None)),
            Err(payload) => {
                let msg = panic_message(&*payload);
                Some((ExitReason::Panic(msg.into()), take_panic_location()))
            }
        },
    };
    if let Some((reason, location)) = outcome
        && p.is_alive()
    {
        if !reason.is_clean() {
            let name = p.state.lock().name.as_ref().map(|n| n.to_string());
            report(&CrashReport {
                pid: p.pid,
                name,
                reason: reason.clone(),
                location,
            });
        }
        exit_process(&p, reason);
    }
    crate::mailbox::clear_saved();
    set_current(None);
    set_pooled(false);
}
