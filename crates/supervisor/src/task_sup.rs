//! `TaskSupervisor`: a dynamic supervisor of tasks (Elixir's `Task.Supervisor`).

use std::sync::Mutex;

use runtime::{CallError, ExitReason, Pid, StopError, Task, spawn_link};

use crate::api::{ChildInfo, DynamicOpts, DynamicSupervisor, Supervisor};
use crate::error::{StartChildError, SupervisorError};
use crate::spec::{ChildSpec, DEFAULT_WORKER_SHUTDOWN, Restart, Shutdown};

/// A supervisor of tasks: fire-and-forget children, and tasks whose result the caller awaits,
/// linked to the caller or not.
///
/// ```
/// use supervisor::{DynamicOpts, TaskSupervisor};
/// let tasks = TaskSupervisor::start_link(DynamicOpts::new()).unwrap();
/// let t = tasks.async_nolink(|| 6 * 7).unwrap();
/// assert_eq!(t.join().unwrap(), 42);
/// tasks.stop().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct TaskSupervisor {
    sup: DynamicSupervisor,
}

/// A start function that can run a one-shot body once (temporary children are started once).
fn once_spec(body: Box<dyn FnOnce() + Send>) -> ChildSpec {
    let cell = Mutex::new(Some(body));
    ChildSpec::worker("task", move || {
        let body = cell.lock().ok().and_then(|mut b| b.take());
        match body {
            Some(body) => Ok(Some(spawn_link(body))),
            None => Err(ExitReason::custom("a one-shot task cannot be restarted")),
        }
    })
    .restart(Restart::Temporary)
    .shutdown(Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN))
}

impl TaskSupervisor {
    /// Starts a task supervisor linked to the caller.
    pub fn start_link(opts: DynamicOpts) -> Result<Self, SupervisorError> {
        Ok(TaskSupervisor {
            sup: DynamicSupervisor::start_link(opts)?,
        })
    }

    /// A handle to the task supervisor registered as `name`.
    pub fn named(name: &str) -> Self {
        TaskSupervisor {
            sup: DynamicSupervisor::named(name),
        }
    }

    /// A child spec that starts a task supervisor under another supervisor.
    pub fn child_spec(id: impl Into<String>, opts: DynamicOpts) -> ChildSpec {
        DynamicSupervisor::<()>::child_spec(id, opts)
    }

    /// Starts `f` as a temporary child, not linked to the caller and not awaited
    /// (`Task.Supervisor.start_child/2`).
    pub fn start_child(&self, f: impl FnOnce() + Send + 'static) -> Result<Pid, StartChildError> {
        self.started(self.sup.start_child(once_spec(Box::new(f))))
    }

    /// Starts `f` as a child with another restart type (`restart: :transient` or
    /// `:permanent`): `f` then runs again when the task is restarted, so it must be `Fn`.
    pub fn start_child_with(
        &self,
        restart: Restart,
        f: impl Fn() + Send + Sync + Clone + 'static,
    ) -> Result<Pid, StartChildError> {
        let spec = ChildSpec::worker("task", move || {
            let f = f.clone();
            spawn_link(f)
        })
        .restart(restart);
        self.started(self.sup.start_child(spec))
    }

    /// Starts `f` under the supervisor, linked to the caller, and returns its awaitable task
    /// (`Task.Supervisor.async/2`): a crash of the task reaches the caller through the link.
    pub fn async_task<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Task<T>, StartChildError> {
        Task::spawn_via(true, f, |body| {
            self.started(self.sup.start_child(once_spec(body)))
        })
    }

    /// Starts `f` under the supervisor, not linked to the caller (`async_nolink`): the caller
    /// gets the result or, if the task crashes, its exit reason from `join`, and never an exit
    /// signal.
    pub fn async_nolink<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Task<T>, StartChildError> {
        Task::spawn_via(false, f, |body| {
            self.started(self.sup.start_child(once_spec(body)))
        })
    }

    /// The running tasks.
    pub fn children(&self) -> Result<Vec<Pid>, CallError> {
        Ok(self
            .sup
            .which_children()?
            .into_iter()
            .filter_map(|c: ChildInfo| match c.pid {
                crate::api::ChildPid::Pid(p) => Some(p),
                _ => None,
            })
            .collect())
    }

    /// Stops a task.
    pub fn terminate_child(&self, pid: Pid) -> Result<(), crate::error::ChildError> {
        self.sup.terminate_child(pid)
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Option<Pid> {
        self.sup.pid()
    }

    /// The general supervisor handle.
    pub fn as_supervisor(&self) -> &Supervisor {
        self.sup.as_supervisor()
    }

    /// Stops the supervisor and its tasks.
    pub fn stop(&self) -> Result<(), StopError> {
        self.sup.stop()
    }

    fn started(&self, r: Result<Option<Pid>, StartChildError>) -> Result<Pid, StartChildError> {
        match r? {
            Some(pid) => Ok(pid),
            None => Err(StartChildError::Failed(ExitReason::custom(
                "the task start returned ignore",
            ))),
        }
    }
}
