//! Erlang/OTP processes on OS threads.
//!
//! A *process* is an OS thread running a closure, with one mailbox and a [`Pid`] that is never
//! reused. Processes share nothing but messages; they [`link`] to fail together, [`monitor`]
//! each other to be told of a death, [`trap_exit`] to turn exit signals into [`Exit`] messages,
//! and register names. The semantics are OTP's, row for row (see `docs/runtime-semantics.md`
//! in the repository for the tables and for where threads differ from the BEAM).
//!
//! Any thread that calls this API becomes a process on first use, so `main` and tests can
//! send, receive, link and monitor directly.
//!
//! ```
//! use runtime::{spawn_link, trap_exit, receive, send, self_pid, Exit, ExitReason};
//!
//! // A crash does not spread to a process that traps exits: it becomes a message.
//! trap_exit(true);
//! let parent = self_pid();
//! let child = spawn_link(move || {
//!     send(parent, "about to fail");
//!     panic!("boom");
//! });
//! assert_eq!(receive::<&str>(), "about to fail"); // messages arrive before the Exit
//! let exit: Exit = receive();
//! assert_eq!(exit.from, child);
//! assert!(matches!(exit.reason, ExitReason::Panic(ref m) if &**m == "boom"));
//! # trap_exit(false);
//! ```
//!
//! # Killing a thread
//!
//! Rust cannot stop a thread from outside. A kill (any exit signal that ends a process) takes
//! effect on the system at once: the process is dead to everyone, its name and exit hooks are
//! released, its links and monitors fire, its mailbox is closed. Its thread stops at its next
//! runtime call (send, receive, link, monitor, spawn, [`checkpoint`]) by unwinding, and then
//! returns to the thread pool. Long computations call [`checkpoint`].

pub mod agent;
mod crash;
mod error;
pub mod gen_server;
mod ids;
mod info;
mod mailbox;
mod message;
mod process;
mod reason;
mod registry;
mod signals;
mod spawn;
pub mod task;
mod threads;
mod timer;

pub use agent::Agent;
pub use crash::{CrashCapture, CrashReport, reset_crash_handler, set_crash_handler};
pub use error::{LinkError, NoProc, NotRegistered, RegisterError, SendError, SpawnError};
pub use gen_server::{
    CallError, GenServer, Init, Next, Reply, ReplyTo, Server, StartError, StartOpts, StopError,
};
pub use ids::{Pid, Ref, make_ref};
pub use info::{ProcessInfo, Status, process_info, processes};
pub use mailbox::{
    expect_long_wait, receive, receive_match, receive_match_timeout, receive_select,
    receive_timeout, recv, recv_timeout, send, send_named,
};
pub use message::Message;
pub use process::ExitHookId;
pub use reason::{Down, Exit, ExitReason};
pub use registry::{register, registered, unregister, whereis};
pub use signals::{
    add_exit_hook, checkpoint, demonitor, demonitor_flush, exit, exit_self, is_alive, link,
    monitor, remove_exit_hook, self_pid, trap_exit, unlink, unlink_flush,
};
pub use spawn::{SpawnOpts, Spawned, spawn, spawn_link, spawn_monitor, spawn_opt};
pub use task::{Task, TaskError};
pub use threads::{DEFAULT_STACK_SIZE, set_default_stack_size};
pub use timer::{cancel_timer, read_timer, send_after};
