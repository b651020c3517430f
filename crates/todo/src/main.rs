//! The to-do system as a program: `cargo run --release -p todo [-- OPTIONS]`.
//!
//! Options (each also from an environment variable):
//!
//! | flag | variable | default |
//! |---|---|---|
//! | `--data-dir DIR` | `TODO_DATA_DIR` | `./persist` |
//! | `--port N` | `TODO_HTTP_PORT` | `5454` |
//! | `--idle-timeout SECS` | `TODO_SERVER_EXPIRY` | `60` |
//! | `--db-workers N` | `TODO_DB_WORKERS` | `3` |
//!
//! Ctrl-C (or SIGTERM) stops the tree in order: web server, cache, list servers, database
//! (which commits what it holds), registry.
//!
//! Log lines go to standard error, among them: the program's start and stop; a crash report
//! per crashed process; one line per start and idle stop of a list server; a database worker's
//! recovery of its logs, records it skipped, and failed checkpoints; and one line per slow
//! commit, when a database worker's write and `fdatasync` of a batch (with any zeros extending
//! its log) took 50 ms or more. Every client waiting on that batch waited as long, so these
//! lines tell the disk's stalls apart from the system's own latency.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use runtime::{Exit, Message, receive_select, self_pid, send, trap_exit};
use todo::{Config, TodoSystem};

/// Sent to the main process by the signal handler.
struct Stop;

fn parse(args: &[String]) -> Result<Config, String> {
    let mut c = Config::default();
    let env = |k: &str| std::env::var(k).ok();
    if let Some(v) = env("TODO_DATA_DIR") {
        c.data_dir = PathBuf::from(v);
    }
    let num = |what: &str, v: &str| -> Result<u64, String> {
        v.parse()
            .map_err(|_| format!("{what} must be a number, not {v:?}"))
    };
    if let Some(v) = env("TODO_HTTP_PORT") {
        c.port = Some(
            u16::try_from(num("TODO_HTTP_PORT", &v)?)
                .map_err(|_| "port out of range".to_owned())?,
        );
    }
    if let Some(v) = env("TODO_SERVER_EXPIRY") {
        c.idle_timeout = Duration::from_secs(num("TODO_SERVER_EXPIRY", &v)?);
    }
    if let Some(v) = env("TODO_DB_WORKERS") {
        c.db_workers = usize::try_from(num("TODO_DB_WORKERS", &v)?).unwrap_or(3);
    }
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--data-dir" => c.data_dir = PathBuf::from(value()?),
            "--port" => {
                let v = value()?;
                c.port = Some(
                    u16::try_from(num("--port", &v)?)
                        .map_err(|_| "port out of range".to_owned())?,
                );
            }
            "--idle-timeout" => {
                c.idle_timeout = Duration::from_secs(num("--idle-timeout", &value()?)?)
            }
            "--db-workers" => {
                let n = num("--db-workers", &value()?)?;
                if n == 0 {
                    return Err("--db-workers must be at least 1".into());
                }
                c.db_workers = usize::try_from(n).unwrap_or(3);
            }
            "--help" | "-h" => {
                return Err("usage: todo [--data-dir DIR] [--port N] [--idle-timeout SECS] [--db-workers N]".into());
            }
            other => return Err(format!("unknown option {other:?} (try --help)")),
        }
    }
    Ok(c)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("todo: {e}");
            return ExitCode::from(2);
        }
    };
    trap_exit(true);
    let me = self_pid();
    if let Err(e) = ctrlc::set_handler(move || send(me, Stop)) {
        eprintln!("todo: cannot install the Ctrl-C handler: {e}");
    }
    let system = match TodoSystem::start_link(config.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("todo: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match system.http_port() {
        Some(p) => eprintln!(
            "todo: serving http://localhost:{p}/ with data in {}",
            config.data_dir.display()
        ),
        None => eprintln!(
            "todo: running without HTTP, data in {}",
            config.data_dir.display()
        ),
    }
    let m = receive_select(None, |m: &Message| m.is::<Stop>() || m.is::<Exit>());
    match m.map(|m| m.downcast::<Exit>()) {
        Some(Ok(e)) => {
            eprintln!("todo: the system stopped: {}", e.reason);
            ExitCode::FAILURE
        }
        _ => {
            eprintln!("todo: stopping");
            match system.stop() {
                Ok(()) => {
                    eprintln!("todo: stopped cleanly");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("todo: stop failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
