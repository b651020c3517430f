//! Restart intensity: at most `max_restarts` restarts within any `max_seconds` window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The timestamps of the restarts still inside the window, oldest first. Each restart pushes
/// one stamp and drops the ones that have left the window, so its cost is amortised O(1)
/// however many restarts came before, and the queue never holds more than `max + 1` stamps.
#[derive(Debug)]
pub(crate) struct Intensity {
    max: u32,
    period: Duration,
    stamps: VecDeque<Instant>,
}

impl Intensity {
    pub(crate) fn new(max: u32, period: Duration) -> Self {
        Intensity {
            max,
            period,
            stamps: VecDeque::new(),
        }
    }

    /// Records a restart at `now`. Returns `false` if this restart is one more than allowed in
    /// the window (the supervisor must give up).
    pub(crate) fn add_restart(&mut self, now: Instant) -> bool {
        self.stamps.push_back(now);
        while let Some(&oldest) = self.stamps.front() {
            if now.saturating_duration_since(oldest) > self.period {
                self.stamps.pop_front();
            } else {
                break;
            }
        }
        self.stamps.len() <= self.max as usize
    }

    /// Restarts inside the window ending now.
    pub(crate) fn in_window(&self, now: Instant) -> usize {
        self.stamps
            .iter()
            .filter(|s| now.saturating_duration_since(**s) <= self.period)
            .count()
    }

    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    pub(crate) fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourth_restart_in_the_window_is_one_too_many() {
        let mut i = Intensity::new(3, Duration::from_secs(5));
        let t0 = Instant::now();
        assert!(i.add_restart(t0));
        assert!(i.add_restart(t0 + Duration::from_secs(1)));
        assert!(i.add_restart(t0 + Duration::from_secs(2)));
        assert!(!i.add_restart(t0 + Duration::from_secs(3)));
    }

    #[test]
    fn restarts_spread_over_time_never_exceed() {
        let mut i = Intensity::new(3, Duration::from_secs(5));
        let t0 = Instant::now();
        for k in 0..1000u64 {
            assert!(
                i.add_restart(t0 + Duration::from_secs(2 * k)),
                "restart {k}"
            );
        }
        assert!(i.stamps.len() <= 4);
    }

    #[test]
    fn zero_intensity_gives_up_at_the_first_restart() {
        let mut i = Intensity::new(0, Duration::from_secs(5));
        assert!(!i.add_restart(Instant::now()));
    }
}
