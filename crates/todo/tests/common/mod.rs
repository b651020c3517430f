//! Shared by the todo tests: a system in a fresh data directory, without the web server.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use todo::{Config, TodoSystem};

static N: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty data directory under the target directory.
pub fn data_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "todo-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        port: None,
        idle_timeout: Duration::from_secs(60),
        db_workers: 3,
    }
}

pub fn start(dir: &std::path::Path) -> TodoSystem {
    TodoSystem::start_link(config(dir)).expect("the system starts")
}

pub fn date(s: &str) -> todo::Date {
    s.parse().expect("a date")
}

/// The system's processes and tables have fixed names, so tests that run one take turns
/// (cargo test runs a file's tests on parallel threads of one process; nextest does not).
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}
