//! Demos live in `src/bin/`, one per seed scenario.
