//! Registered names: `register`, `unregister`, `whereis`.
//!
//! A process has at most one name and a name at most one process. The registry lock is taken
//! after a process's `state` lock, never before (see the lock order in `process.rs`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::error::{NotRegistered, RegisterError};
use crate::ids::Pid;
use crate::process::{current_alive, lookup};

static NAMES: LazyLock<RwLock<HashMap<Arc<str>, Pid>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// Registers `pid` under `name`.
///
/// Fails if the name is empty or taken, if the process already has a name, or if it is not
/// alive. A name is released automatically when its process ends, before the process's links
/// and monitors fire, so a restarted process can register the same name at once.
pub fn register(name: &str, pid: Pid) -> Result<(), RegisterError> {
    if name.is_empty() {
        return Err(RegisterError::EmptyName);
    }
    // Registering makes the caller a process too (as every call of the API does).
    let _ = current_alive();
    register_pid(name, pid)
}

/// Registers without looking at the caller: `spawn` names its child this way, so that a
/// spawner killed at that moment does not unwind with a half-made child left behind.
pub(crate) fn register_pid(name: &str, pid: Pid) -> Result<(), RegisterError> {
    if name.is_empty() {
        return Err(RegisterError::EmptyName);
    }
    let p = lookup(pid).ok_or(RegisterError::NoProc(pid))?;
    let mut st = p.state.lock();
    if !p.is_alive() {
        return Err(RegisterError::NoProc(pid));
    }
    if let Some(existing) = &st.name {
        if &**existing == name {
            return Err(RegisterError::NameTaken {
                name: name.to_owned(),
                pid,
            });
        }
        return Err(RegisterError::AlreadyNamed {
            pid,
            name: existing.to_string(),
        });
    }
    let mut names = NAMES.write();
    if let Some(other) = names.get(name) {
        return Err(RegisterError::NameTaken {
            name: name.to_owned(),
            pid: *other,
        });
    }
    let name: Arc<str> = name.into();
    names.insert(name.clone(), pid);
    st.name = Some(name);
    Ok(())
}

/// Removes a registered name.
pub fn unregister(name: &str) -> Result<(), NotRegistered> {
    let not_registered = || NotRegistered(name.to_owned());
    let pid = whereis(name).ok_or_else(not_registered)?;
    match lookup(pid) {
        Some(p) => {
            let mut st = p.state.lock();
            let mut names = NAMES.write();
            if names.get(name) != Some(&pid) {
                return Err(not_registered());
            }
            names.remove(name);
            st.name = None;
            Ok(())
        }
        None => {
            // The process is dying and its name is being released right now.
            release(name, pid);
            Ok(())
        }
    }
}

/// The process registered as `name`, if any.
pub fn whereis(name: &str) -> Option<Pid> {
    NAMES.read().get(name).copied()
}

/// All registered names, sorted.
pub fn registered() -> Vec<String> {
    let mut v: Vec<String> = NAMES.read().keys().map(|k| k.to_string()).collect();
    v.sort();
    v
}

/// Releases `name` if it still belongs to `pid` (the death procedure).
pub(crate) fn release(name: &str, pid: Pid) {
    let mut names = NAMES.write();
    if names.get(name) == Some(&pid) {
        names.remove(name);
    }
}
