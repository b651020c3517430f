//! The progress line: on a terminal, a run that lasts more than a couple of seconds says how
//! far it has got, on standard error, on one line rewritten in place.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::format;

/// Runs shorter than this print nothing.
const QUIET_FOR: Duration = Duration::from_secs(2);

/// How often the master wakes to redraw the line.
pub(crate) const TICK: Duration = Duration::from_millis(250);

pub(crate) struct Progress {
    enabled: bool,
    name: String,
    started: Instant,
    /// Operations the whole run (warm-up excepted) will do.
    total: u64,
    shown: bool,
}

impl Progress {
    /// A progress line for a run called `name` of `total` operations; silent unless `wanted`
    /// and standard error is a terminal (a log file gets no carriage returns).
    pub(crate) fn new(name: &str, total: u64, wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            name: name.to_owned(),
            started: Instant::now(),
            total,
            shown: false,
        }
    }

    /// Whether the master should wake every [`TICK`] to call [`update`](Self::update).
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Redraws the line: in the round labelled `phase`, `done` operations of the run so far
    /// (unknown during warm-up).
    pub(crate) fn update(&mut self, phase: &str, done: Option<u64>) {
        let elapsed = self.started.elapsed();
        if !self.enabled || elapsed < QUIET_FOR {
            return;
        }
        let so_far = match done {
            Some(done) if self.total > 0 => format!(
                ", {:.0}% ({} ops)",
                100.0 * done as f64 / self.total as f64,
                format::count(done)
            ),
            _ => String::new(),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{}: {phase}{so_far}, {:.1} s",
            self.name,
            elapsed.as_secs_f64()
        );
        let _ = err.flush();
        self.shown = true;
    }

    /// Clears the line, if one was drawn.
    pub(crate) fn finish(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
