//! The machine header printed above every report: figures mean little without it.

use std::fmt;

/// What a run ran on: cores, CPU, operating system, build profile.
///
/// ```
/// let m = profiler::Machine::current();
/// assert!(m.cores >= 1);
/// println!("{m}"); // e.g. "2 cores (Intel(R) Xeon(R) ...), linux 6.1.0 x86_64, release build"
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Machine {
    /// Cores this program may use (`std::thread::available_parallelism`).
    pub cores: usize,
    /// The CPU model, where the OS tells it (`/proc/cpuinfo` on Linux).
    pub cpu: Option<String>,
    /// The operating system (`std::env::consts::OS`).
    pub os: String,
    /// The kernel release, where the OS tells it (`/proc/sys/kernel/osrelease` on Linux).
    pub kernel: Option<String>,
    /// The CPU architecture (`std::env::consts::ARCH`).
    pub arch: String,
    /// `"release"` or `"debug"`: whether debug assertions were compiled in. Figures from a
    /// debug build are not worth comparing.
    pub profile: String,
}

impl Machine {
    /// The machine this program runs on.
    pub fn current() -> Machine {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Machine {
            cores,
            cpu,
            os: std::env::consts::OS.to_owned(),
            kernel,
            arch: std::env::consts::ARCH.to_owned(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
        }
    }

    /// The header as a JSON object.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "cores": self.cores,
            "cpu": self.cpu,
            "os": self.os,
            "kernel": self.kernel,
            "arch": self.arch,
            "profile": self.profile,
        })
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cores", self.cores)?;
        if let Some(cpu) = &self.cpu {
            write!(f, " ({cpu})")?;
        }
        write!(f, ", {}", self.os)?;
        if let Some(k) = &self.kernel {
            write!(f, " {k}")?;
        }
        write!(f, " {}, {} build", self.arch, self.profile)
    }
}
