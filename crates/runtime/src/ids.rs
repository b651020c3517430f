//! Process identifiers and references: never reused within a run.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A process identifier.
///
/// Pids are plain numbers handed out from a global counter, so they are `Copy`, cheap to compare
/// and hash, and never reused within a run: a pid that names a dead process stays dead forever.
/// They print the way Erlang prints local pids, `<0.N.0>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(pub(crate) u64);

impl Pid {
    /// The number inside the pid (unique within this run).
    pub fn id(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}.0>", self.0)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A unique reference, as made by Erlang's `make_ref/0`.
///
/// Monitors, timers and call tags are references. They print as `#Ref<0.0.0.N>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref(pub(crate) u64);

impl Ref {
    /// The number inside the reference (unique within this run).
    pub fn id(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<0.0.0.{}>", self.0)
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

static NEXT_PID: AtomicU64 = AtomicU64::new(1);
static NEXT_REF: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_pid() -> Pid {
    Pid(NEXT_PID.fetch_add(1, Ordering::Relaxed))
}

/// Makes a new reference, unique within this run.
pub fn make_ref() -> Ref {
    Ref(NEXT_REF.fetch_add(1, Ordering::Relaxed))
}
