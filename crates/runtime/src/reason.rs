//! Exit reasons and the two notification messages, `Exit` and `Down`.

use std::fmt;
use std::sync::Arc;

use crate::ids::{Pid, Ref};

/// Why a process ended, or the reason carried by an exit signal.
///
/// The variants follow OTP: `Normal`, `Shutdown` and `ShutdownWith` are the "clean" reasons (no
/// crash report, no restart of a transient child); `Kill` is the untrappable signal when sent with
/// [`exit`](crate::exit) and becomes `Killed` as the victim's exit reason; `NoProc` is what links
/// and monitors to a dead process report; `Panic` is a panic caught at the top of a process;
/// `Custom` is any reason of the user's.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExitReason {
    /// The process finished its work (`normal`).
    Normal,
    /// The process was asked to stop by its supervisor (`shutdown`).
    Shutdown,
    /// A clean stop with a value (`{shutdown, Term}`).
    ShutdownWith(Arc<str>),
    /// The kill signal (`kill`).
    Kill,
    /// The reason of a process ended by an untrappable kill (`killed`).
    Killed,
    /// The process did not exist (`noproc`).
    NoProc,
    /// A panic caught at the top of the process, with its message.
    Panic(Arc<str>),
    /// Any other reason.
    Custom(Arc<str>),
}

impl ExitReason {
    /// A user-defined reason.
    pub fn custom(reason: impl Into<Arc<str>>) -> Self {
        ExitReason::Custom(reason.into())
    }

    /// A clean shutdown with a value, `{shutdown, value}`.
    pub fn shutdown_with(value: impl Into<Arc<str>>) -> Self {
        ExitReason::ShutdownWith(value.into())
    }

    /// `true` for `Normal`, `Shutdown` and `ShutdownWith`: the reasons OTP treats as a clean
    /// end (no crash report, no restart of a transient child).
    pub fn is_clean(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }

    /// `true` for `Normal` only.
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(v) => write!(f, "{{shutdown, {v}}}"),
            ExitReason::Kill => f.write_str("kill"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::Panic(m) => write!(f, "{{panic, {m:?}}}"),
            ExitReason::Custom(r) => f.write_str(r),
        }
    }
}

impl fmt::Debug for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The message a process that traps exits receives for an exit signal
/// (Erlang's `{'EXIT', From, Reason}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The process the signal came from (for a link to a dead pid, that pid).
    pub from: Pid,
    /// The reason the signal carries.
    pub reason: ExitReason,
}

/// The message a monitor delivers once, when the monitored process ends
/// (Erlang's `{'DOWN', Ref, process, Pid, Reason}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Down {
    /// The reference [`monitor`](crate::monitor) returned.
    pub monitor: Ref,
    /// The monitored process.
    pub pid: Pid,
    /// Its exit reason, or `NoProc` if it was not alive when the monitor was set.
    pub reason: ExitReason,
}
