//! The thread pool: a process's thread goes back to a pool when the process ends, so `spawn`
//! usually hands the new process to a parked thread instead of creating one.
//!
//! Idle threads are kept per stack size. A thread idle for `IDLE_TIMEOUT` ends, and at most
//! `MAX_IDLE` idle threads are kept, so a burst of processes does not pin its threads forever.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

pub(crate) type Job = Box<dyn FnOnce() + Send>;

const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_IDLE: usize = 4096;
const SPIN: u32 = 200;

/// The default stack size of a process: small, so that tens of thousands of idle processes
/// fit in memory (only the touched pages of a stack are resident).
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

static DEFAULT_STACK: AtomicUsize = AtomicUsize::new(DEFAULT_STACK_SIZE);

/// Sets the stack size used by spawns that do not ask for one. Values below 64 KiB are
/// raised to 64 KiB.
pub fn set_default_stack_size(bytes: usize) {
    DEFAULT_STACK.store(bytes.max(64 * 1024), Ordering::Relaxed);
}

pub(crate) fn default_stack_size() -> usize {
    DEFAULT_STACK.load(Ordering::Relaxed)
}

pub(crate) struct Worker {
    has_job: AtomicBool,
    job: Mutex<Option<Job>>,
    cond: Condvar,
}

static IDLE: LazyLock<Mutex<HashMap<usize, Vec<Arc<Worker>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A thread ready to run a job: an idle one if there is one, else a new one.
pub(crate) fn acquire(stack: usize) -> io::Result<Arc<Worker>> {
    if let Some(w) = IDLE.lock().get_mut(&stack).and_then(Vec::pop) {
        return Ok(w);
    }
    let w = Arc::new(Worker {
        has_job: AtomicBool::new(false),
        job: Mutex::new(None),
        cond: Condvar::new(),
    });
    let w2 = w.clone();
    std::thread::Builder::new()
        .name("process".into())
        .stack_size(stack)
        .spawn(move || worker_loop(&w2, stack))?;
    Ok(w)
}

impl Worker {
    pub(crate) fn start(&self, job: Job) {
        *self.job.lock() = Some(job);
        self.has_job.store(true, Ordering::Release);
        self.cond.notify_one();
    }

    fn take_job(&self) -> Option<Job> {
        for _ in 0..SPIN {
            if self.has_job.load(Ordering::Acquire) {
                break;
            }
            std::hint::spin_loop();
        }
        let mut job = self.job.lock();
        loop {
            if let Some(j) = job.take() {
                self.has_job.store(false, Ordering::Relaxed);
                return Some(j);
            }
            if self.cond.wait_for(&mut job, IDLE_TIMEOUT).timed_out() && job.is_none() {
                return None;
            }
        }
    }
}

fn worker_loop(w: &Arc<Worker>, stack: usize) {
    loop {
        let job = match w.take_job() {
            Some(j) => j,
            None => {
                // Idle too long: leave the pool, unless a spawn took this worker meanwhile.
                let mut idle = IDLE.lock();
                let list = idle.entry(stack).or_default();
                if let Some(i) = list.iter().position(|x| Arc::ptr_eq(x, w)) {
                    list.swap_remove(i);
                    return;
                }
                continue;
            }
        };
        job();
        let mut idle = IDLE.lock();
        let list = idle.entry(stack).or_default();
        if list.len() >= MAX_IDLE {
            return;
        }
        list.push(w.clone());
    }
}
