//! Crash reports: one for every process that ends abnormally by its own doing (a panic, or
//! `exit_self` with a reason other than normal or shutdown), never for clean exits, as
//! proc_lib does. Reports go to a handler that tests can replace, capture or silence.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, LazyLock, Once};

use parking_lot::{Mutex, RwLock};

use crate::ids::Pid;
use crate::reason::ExitReason;

/// What the runtime knows about a process that crashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashReport {
    /// The process.
    pub pid: Pid,
    /// Its registered name, if it had one.
    pub name: Option<String>,
    /// Its exit reason.
    pub reason: ExitReason,
    /// Where it panicked (`file:line:column`), for panics.
    pub location: Option<String>,
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "=CRASH REPORT====")?;
        writeln!(f, "  crasher:")?;
        writeln!(f, "    pid: {}", self.pid)?;
        writeln!(
            f,
            "    registered_name: {}",
            self.name.as_deref().unwrap_or("[]")
        )?;
        write!(f, "    exit reason: {}", self.reason)?;
        if let Some(l) = &self.location {
            write!(f, "\n    location: {l}")?;
        }
        Ok(())
    }
}

type Handler = Arc<dyn Fn(&CrashReport) + Send + Sync>;

static HANDLER: LazyLock<RwLock<Option<Handler>>> = LazyLock::new(|| RwLock::new(None));

/// Replaces the crash report handler (the default prints each report to standard error).
pub fn set_crash_handler(handler: impl Fn(&CrashReport) + Send + Sync + 'static) {
    *HANDLER.write() = Some(Arc::new(handler));
}

/// Goes back to the default handler, which prints to standard error.
pub fn reset_crash_handler() {
    *HANDLER.write() = None;
}

/// Collects crash reports instead of printing them, until dropped (then the previous handler
/// is back). Reports from every process are collected; filter them by pid.
pub struct CrashCapture {
    reports: Arc<Mutex<Vec<CrashReport>>>,
    previous: Option<Handler>,
}

impl CrashCapture {
    /// Starts capturing.
    pub fn start() -> Self {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = reports.clone();
        let h: Handler = Arc::new(move |r: &CrashReport| sink.lock().push(r.clone()));
        let previous = HANDLER.write().replace(h);
        CrashCapture { reports, previous }
    }

    /// The reports captured so far.
    pub fn reports(&self) -> Vec<CrashReport> {
        self.reports.lock().clone()
    }

    /// The reports captured so far for one process.
    pub fn reports_for(&self, pid: Pid) -> Vec<CrashReport> {
        self.reports
            .lock()
            .iter()
            .filter(|r| r.pid == pid)
            .cloned()
            .collect()
    }
}

impl Drop for CrashCapture {
    fn drop(&mut self) {
        *HANDLER.write() = self.previous.take();
    }
}

pub(crate) fn report(r: &CrashReport) {
    let h = HANDLER.read().clone();
    // The crashed process is ended after its report: a panicking handler must not stop that
    // (the process would stay alive for ever, its links and monitors never fired).
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match h {
        Some(h) => h(r),
        None => eprintln!("{r}"),
    }));
}

thread_local! {
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that, on process threads, records where the panic happened
/// instead of printing: the crash report prints it. Other threads keep the previous hook.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if crate::process::is_pooled() {
                let loc = info.location().map(|l| l.to_string());
                let _ = LAST_PANIC_LOCATION.try_with(|c| *c.borrow_mut() = loc);
            } else {
                previous(info);
            }
        }));
    });
}

pub(crate) fn take_panic_location() -> Option<String> {
    LAST_PANIC_LOCATION
        .try_with(|c| c.borrow_mut().take())
        .ok()
        .flatten()
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
