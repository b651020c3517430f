//! OTP supervisors on OS threads.
//!
//! A supervisor is a process that starts children, watches them through links (it traps
//! exits), and restarts them by its strategy when they exit, within a restart intensity: one
//! restart more than `max_restarts` within `max_seconds` and the supervisor stops its children
//! (in reverse start order) and exits with `shutdown`, leaving the decision to its own
//! supervisor.
//!
//! - [`Supervisor`]: static children from [`ChildSpec`]s, strategies [`Strategy::OneForOne`],
//!   [`Strategy::OneForAll`] and [`Strategy::RestForOne`], OTP's API results.
//! - [`DynamicSupervisor`]: children started on demand, `max_children`, extra arguments,
//!   parallel shutdown.
//! - [`TaskSupervisor`]: fire-and-forget tasks, and awaited tasks linked or not.
//! - [`render_tree`]: a text view of a live tree.
//!
//! ```
//! use runtime::{exit, ExitReason, whereis};
//! use supervisor::{ChildSpec, Supervisor, SupervisorOpts};
//!
//! // A named worker: after a crash its supervisor starts a new one under the same name.
//! let worker = || {
//!     runtime::SpawnOpts::new().link().name("doc_worker")
//!         .spawn(|| { let _: () = runtime::receive(); })
//!         .map(|s| s.pid)
//!         .map_err(|e| ExitReason::custom(e.to_string()))
//! };
//! let sup = Supervisor::start_link(vec![ChildSpec::worker("worker", worker)], SupervisorOpts::new()).unwrap();
//! let first = whereis("doc_worker").unwrap();
//! let m = runtime::monitor(first);
//! exit(first, ExitReason::Kill);
//! let _: runtime::Down = runtime::receive_match(|d: &runtime::Down| d.monitor == m);
//! // The restart happens in the supervisor's process; ask it for its children to see it.
//! let children = sup.which_children().unwrap();
//! assert!(matches!(children[0].pid, supervisor::ChildPid::Pid(p) if p != first));
//! sup.stop().unwrap();
//! ```

mod api;
mod error;
mod intensity;
mod server;
mod spec;
mod task_sup;
mod tree;

pub use api::{
    AutoShutdown, ChildInfo, ChildPid, ChildRef, Counts, DynamicOpts, DynamicSupervisor, Strategy,
    Supervisor, SupervisorDescription, SupervisorOpts,
};
pub use error::{ChildError, StartChildError, SupervisorError};
pub use spec::{
    Child, ChildSpec, ChildType, DEFAULT_WORKER_SHUTDOWN, IntoChildStart, Restart, Shutdown,
    short_type_name,
};
pub use task_sup::TaskSupervisor;
pub use tree::render_tree;
