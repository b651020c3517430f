//! Shared helpers for the benches package: reading the process's memory and the kernel's
//! limits from `/proc` (Linux only; elsewhere they return `None`).

use std::fs;

/// A `kB` field of `/proc/self/status` (`VmRSS`, `VmHWM`, ...), in KiB.
pub fn status_kib(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The resident set size of this process, in KiB.
pub fn vm_rss_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// The number of threads of this process, as the kernel counts them.
pub fn thread_count() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:")?.trim().parse().ok())
}

/// A number read from a one-number file such as `/proc/sys/kernel/pid_max`.
pub fn read_proc_limit(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The number of memory mappings of this process (lines of `/proc/self/maps`), which
/// `vm.max_map_count` bounds.
pub fn map_count() -> Option<u64> {
    let maps = fs::read_to_string("/proc/self/maps").ok()?;
    Some(maps.lines().count() as u64)
}
