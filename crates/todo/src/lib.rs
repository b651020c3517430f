//! The *Elixir in Action* to-do system on OS threads: to-do lists, one server process per
//! list, a cache that finds or starts servers (ETS first, as in seed 002), a process registry
//! kept in ETS, a database of worker processes that makes every acknowledged change durable,
//! the book's supervision tree, and its HTTP interface.
//!
//! ```
//! use todo::{Cache, Config, TodoSystem};
//! let dir = std::env::temp_dir().join(format!("todo-doc-{}", std::process::id()));
//! let system = TodoSystem::start_link(Config { port: None, data_dir: dir.clone(), ..Config::default() }).unwrap();
//! let bobs_list = Cache::server_process("Bob's list").unwrap();
//! bobs_list.add_entry("2018-12-19".parse().unwrap(), "Dentist").unwrap();
//! let entries = bobs_list.entries("2018-12-19".parse().unwrap()).unwrap();
//! assert_eq!(entries[0].title, "Dentist");
//! system.stop().unwrap();
//! # std::fs::remove_dir_all(dir).unwrap();
//! ```

mod cache;
mod database;
mod date;
mod format;
mod list;
mod name;
mod registry;
mod server;
mod system;
mod web;

pub use cache::{CACHE_NAME, CACHE_TABLE, Cache, LISTS_TABLE, SERVER_SUPERVISOR};
pub use database::{Database, DbConfig, DbError};
pub use date::{Date, DateError};
pub use list::{Entry, TodoList};
pub use registry::{Key, ProcessRegistry, REGISTRY_NAME, REGISTRY_TABLE};
pub use server::{TodoError, TodoServer, set_server_log};
pub use system::{Config, SYSTEM_NAME, SYSTEM_SUPERVISOR_NAME, TodoSystem};
pub use web::{ACCEPTORS, Web, inject_handler_panics};
