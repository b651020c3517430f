//! Shared helpers for the demos in `src/bin/`, one per seed scenario.
//!
//! Every demo prints a transcript a reader can follow and checks its own expectations with a
//! [`Checker`]: the first expectation that fails ends the demo with exit code 1, so
//! `cargo xtask demos` is also a test.

/// Counts and reports a demo's expectations.
pub struct Checker {
    name: &'static str,
    passed: usize,
}

impl Checker {
    /// A checker for the demo called `name`.
    pub fn new(name: &'static str) -> Self {
        Checker { name, passed: 0 }
    }

    /// Records an expectation; if it does not hold, the demo fails at once.
    pub fn check(&mut self, what: &str, ok: bool) {
        if ok {
            self.passed += 1;
            println!("   ok: {what}");
        } else {
            self.fail(what);
        }
    }

    /// Ends the demo as failed.
    pub fn fail(&self, what: &str) -> ! {
        eprintln!("   FAILED: {what}");
        eprintln!("demo {} failed", self.name);
        std::process::exit(1);
    }

    /// Prints the summary line.
    pub fn finish(self) {
        println!("\n{}: all {} expectations held", self.name, self.passed);
    }
}

/// Prints a section heading.
pub fn banner(title: &str) {
    println!("\n--- {title}");
}
