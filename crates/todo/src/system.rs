//! The supervision tree of seed 002.
//!
//! ```text
//! todo_system (rest_for_one)
//! ├── ProcessRegistry                      the error kernel: if it dies, everything after it restarts
//! └── todo_system_supervisor (one_for_one)
//!     ├── Database (one_for_one over the workers)
//!     ├── todo_server_supervisor (dynamic, temporary TodoServers)
//!     ├── Cache
//!     └── Web (when a port is configured)
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use runtime::{Pid, StopError};
use supervisor::{Strategy, Supervisor, SupervisorError, SupervisorOpts};

use crate::cache::Cache;
use crate::database::{Database, DbConfig};
use crate::registry::ProcessRegistry;

/// The registered name of the top supervisor.
pub const SYSTEM_NAME: &str = "todo_system";
/// The registered name of the system supervisor.
pub const SYSTEM_SUPERVISOR_NAME: &str = "todo_system_supervisor";

/// How the system runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where lists are stored (`./persist` by default, as in the book).
    pub data_dir: PathBuf,
    /// The HTTP port (5454 by default); `None` runs without the web server; `Some(0)` lets the
    /// operating system choose a free port (see [`TodoSystem::http_port`]), which the web
    /// server keeps across its restarts.
    pub port: Option<u16>,
    /// How long a to-do server lives without requests.
    pub idle_timeout: Duration,
    /// Database workers.
    pub db_workers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./persist"),
            port: Some(5454),
            idle_timeout: Duration::from_secs(60),
            db_workers: 3,
        }
    }
}

/// The running system.
#[derive(Clone, Debug)]
pub struct TodoSystem {
    sup: Supervisor,
    port: Option<Arc<AtomicU16>>,
}

impl TodoSystem {
    /// Starts the whole tree, linked to the caller. Fails with a clear message if, for
    /// instance, the data directory cannot be written or the port is taken.
    pub fn start_link(config: Config) -> Result<TodoSystem, SupervisorError> {
        let c = config.clone();
        let mut system_children = vec![
            Database::child_spec(DbConfig {
                dir: c.data_dir.clone(),
                workers: c.db_workers,
            }),
            Cache::server_supervisor_spec(),
            Cache::child_spec(c.idle_timeout),
        ];
        let bound = c.port.map(|_| Arc::new(AtomicU16::new(0)));
        if let (Some(port), Some(bound)) = (c.port, &bound) {
            system_children.push(crate::web::child_spec_sharing(port, bound.clone()));
        }
        let system = Supervisor::child_spec(
            "system_supervisor",
            system_children,
            SupervisorOpts::new()
                .strategy(Strategy::OneForOne)
                .name(SYSTEM_SUPERVISOR_NAME),
        );
        let sup = Supervisor::start_link(
            vec![ProcessRegistry::child_spec(), system],
            SupervisorOpts::new()
                .strategy(Strategy::RestForOne)
                .name(SYSTEM_NAME),
        )?;
        Ok(TodoSystem { sup, port: bound })
    }

    /// The port the web server listens on (the one the system chose if configured with port
    /// 0); `None` without the web server.
    pub fn http_port(&self) -> Option<u16> {
        self.port
            .as_ref()
            .map(|p| p.load(Ordering::Acquire))
            .filter(|p| *p != 0)
    }

    /// The top supervisor.
    pub fn supervisor(&self) -> &Supervisor {
        &self.sup
    }

    /// The top supervisor's pid.
    pub fn pid(&self) -> Option<Pid> {
        self.sup.pid()
    }

    /// Stops the tree in order (web, cache, servers, database, registry).
    pub fn stop(&self) -> Result<(), StopError> {
        self.sup.stop()
    }
}
