//! Shared by the todo tests: a system in a fresh data directory (removed when the test ends),
//! with or without the web server, and a small HTTP/1.1 client.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use todo::{Config, TodoSystem};

static N: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty data directory under the temporary directory, removed on drop.
pub struct DataDir(PathBuf);

impl Deref for DataDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for DataDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn data_dir(tag: &str) -> DataDir {
    let dir = std::env::temp_dir().join(format!(
        "todo-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    DataDir(dir)
}

pub fn config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        port: None,
        idle_timeout: Duration::from_secs(60),
        db_workers: 3,
    }
}

/// A running system, stopped when dropped if the test has not stopped it (a failing test
/// then does not leave its processes, and their names, to the next test).
pub struct Running(TodoSystem);

impl Deref for Running {
    type Target = TodoSystem;
    fn deref(&self) -> &TodoSystem {
        &self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.pid().is_some_and(runtime::is_alive) {
            let _ = self.0.stop();
        }
    }
}

pub fn start(dir: &Path) -> Running {
    Running(TodoSystem::start_link(config(dir)).expect("the system starts"))
}

/// The system with its web server on a port the OS chooses; returns the system and the port.
pub fn start_web(dir: &Path) -> (Running, u16) {
    let system = TodoSystem::start_link(Config {
        port: Some(0),
        ..config(dir)
    })
    .expect("the system starts");
    let port = system.http_port().expect("the web server listens");
    (Running(system), port)
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

/// One HTTP/1.1 request to 127.0.0.1:`port` on a fresh connection (`Connection: close`):
/// the status code and the body, or the I/O error (connection refused while the web server
/// restarts, for instance).
pub fn try_http(port: u16, method: &str, target: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(bad)?;
    Ok((code, body.to_owned()))
}

/// [`try_http`] that must get an answer.
pub fn http(port: u16, method: &str, target: &str) -> (u16, String) {
    try_http(port, method, target).unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}
