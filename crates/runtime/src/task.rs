//! `Task`: run one computation in its own process and collect its result (Elixir's `Task`).
//!
//! ```
//! use runtime::task::Task;
//!
//! let t = Task::spawn(|| (1..=10u64).product::<u64>());
//! assert_eq!(t.join().unwrap(), 3_628_800);
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use thiserror::Error;

use crate::ids::{Pid, Ref, make_ref};
use crate::message::Message;
use crate::process::current_alive;
use crate::reason::{Down, ExitReason};
use crate::signals::{demonitor_flush, exit, monitor_with_ref, unlink_flush};
use crate::spawn::{SpawnOpts, Spawned, spawn};

/// The default timeout of [`Task::join`]: 5 seconds, as Elixir's `Task.await/1`.
pub const DEFAULT_AWAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a task gave no result.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// No result in time; the task was stopped.
    #[error("task timed out")]
    Timeout,
    /// The task exited before replying, with this reason.
    #[error("task exited: {0}")]
    Exit(ExitReason),
}

/// The message a task sends its owner, tagged so that it can only be taken for this task.
struct TaskReply<T> {
    tag: Ref,
    value: T,
}

/// A running computation whose result the owner (the process that spawned it) awaits.
///
/// The task is linked to its owner, as with Elixir's `Task.async`: if it crashes, the owner
/// gets the exit signal (and dies with it unless it traps exits).
#[must_use = "a task's result should be awaited"]
pub struct Task<T> {
    pid: Pid,
    monitor: Ref,
    /// The tag of the task's reply.
    tag: Ref,
    _value: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({}, {})", self.pid, self.monitor)
    }
}

impl<T: Send + 'static> Task<T> {
    /// Starts `f` in a new process linked to the caller and monitored by it (`Task.async`).
    ///
    /// # Panics
    /// If the OS will not create a thread, as [`spawn`](crate::spawn).
    pub fn spawn(f: impl FnOnce() -> T + Send + 'static) -> Task<T> {
        let owner = crate::self_pid();
        let tag = make_ref();
        // The monitor is set up by the spawn, before the task runs (Elixir's spawn_opt with
        // [:link, :monitor]): a monitor set up afterwards would report a task that has already
        // ended as `noproc` instead of its exit reason.
        let spawned = SpawnOpts::new().link().monitor().spawn(move || {
            let value = f();
            crate::send(owner, TaskReply { tag, value });
        });
        match spawned {
            Ok(Spawned {
                pid,
                monitor: Some(monitor),
            }) => Task {
                pid,
                monitor,
                tag,
                _value: PhantomData,
            },
            Ok(Spawned { monitor: None, .. }) => unreachable!("a monitor was asked for"),
            Err(e) => panic!("{e}"),
        }
    }

    /// The task's process.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits up to 5 seconds for the result (`Task.await/1`).
    pub fn join(self) -> Result<T, TaskError> {
        self.join_timeout(Some(DEFAULT_AWAIT_TIMEOUT))
    }

    /// Waits up to `timeout` (`None`: as long as it takes) for the result. On a timeout the
    /// task is stopped and `TaskError::Timeout` returned.
    pub fn join_timeout(self, timeout: Option<Duration>) -> Result<T, TaskError> {
        match self.wait(timeout) {
            Some(r) => r,
            None => {
                self.kill();
                Err(TaskError::Timeout)
            }
        }
    }

    /// Waits up to `timeout` for the result, leaving the task running if it has not finished
    /// (`Task.yield/2`): `None` then, and the task can be awaited again.
    pub fn yield_timeout(&mut self, timeout: Duration) -> Option<Result<T, TaskError>> {
        self.wait(Some(timeout))
    }

    /// Stops the task (`Task.shutdown/2` with `:brutal_kill`), returning its result if it had
    /// already finished.
    pub fn shutdown(self) -> Option<Result<T, TaskError>> {
        unlink_flush(self.pid);
        exit(self.pid, ExitReason::Kill);
        match self.wait(None) {
            Some(Err(TaskError::Exit(ExitReason::Killed))) | None => None,
            other => other,
        }
    }

    fn kill(&self) {
        unlink_flush(self.pid);
        exit(self.pid, ExitReason::Kill);
        demonitor_flush(self.monitor);
        let tag = self.tag;
        // A result sent just before the kill must not linger in the mailbox.
        while crate::receive_match_timeout(Duration::ZERO, |r: &TaskReply<T>| r.tag == tag)
            .is_some()
        {}
    }

    fn wait(&self, timeout: Option<Duration>) -> Option<Result<T, TaskError>> {
        let (mref, tag) = (self.monitor, self.tag);
        let m = crate::receive_select(timeout, |m: &Message| {
            m.downcast_ref::<TaskReply<T>>()
                .is_some_and(|r| r.tag == tag)
                || m.downcast_ref::<Down>().is_some_and(|d| d.monitor == mref)
        })?;
        match m.downcast::<TaskReply<T>>() {
            Ok(r) => {
                demonitor_flush(mref);
                Some(Ok(r.value))
            }
            Err(m) => match m.downcast::<Down>() {
                Ok(d) => Some(Err(TaskError::Exit(d.reason))),
                Err(_) => None,
            },
        }
    }
}

/// The fire-and-forget starts live on `Task<()>` so that `Task::start(f)` needs no type
/// annotation: they return a pid, never a task to await.
impl Task<()> {
    /// Starts `f` in a process of its own, not linked and not awaited (`Task.start/1`).
    ///
    /// # Panics
    /// If the OS will not create a thread, as [`spawn`](crate::spawn).
    pub fn start(f: impl FnOnce() + Send + 'static) -> Pid {
        spawn(f)
    }

    /// Starts `f` in a process linked to the caller, not awaited (`Task.start_link/1`).
    ///
    /// # Panics
    /// If the OS will not create a thread, as [`spawn`](crate::spawn).
    pub fn start_link(f: impl FnOnce() + Send + 'static) -> Pid {
        crate::spawn_link(f)
    }
}

/// Tells a task started through [`Task::spawn_via`] that its owner is ready.
struct TaskGo(Ref);

impl<T: Send + 'static> Task<T> {
    /// Makes a task whose process is started by `start` (a task supervisor uses this to start
    /// it as its own child): `start` gets the task's body and must spawn it, returning the pid.
    /// The caller becomes the task's owner: it monitors the task, links to it if `link`, and
    /// gets its result through [`join`](Task::join). The body waits until the owner has set up
    /// the monitor (and link), so neither can miss the task's end.
    pub fn spawn_via<E>(
        link: bool,
        f: impl FnOnce() -> T + Send + 'static,
        start: impl FnOnce(Box<dyn FnOnce() + Send>) -> Result<Pid, E>,
    ) -> Result<Task<T>, E> {
        let me = current_alive();
        let owner = me.pid;
        let monitor = make_ref();
        let body: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _go: TaskGo = crate::receive_match(|g: &TaskGo| g.0 == monitor);
            let value = f();
            crate::send(
                owner,
                TaskReply {
                    tag: monitor,
                    value,
                },
            );
        });
        let pid = start(body)?;
        if link {
            // The task is blocked until it is told to go, so only a kill can make this fail;
            // the monitor below then reports that.
            let _ = crate::link(pid);
        }
        monitor_with_ref(&me, pid, monitor, false);
        crate::send(pid, TaskGo(monitor));
        Ok(Task {
            pid,
            monitor,
            tag: monitor,
            _value: PhantomData,
        })
    }
}
