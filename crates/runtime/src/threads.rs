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
    start_thread(stack, Box::new(move || worker_loop(&w2, stack)))?;
    Ok(w)
}

/// Starts a detached OS thread running `body`.
///
/// On Unix the thread is made with `pthread_create` rather than `std::thread`: the standard
/// library maps a signal stack, with its own guard page, for every thread it starts (to report
/// stack overflows), so a std thread costs four memory mappings where a plain pthread costs
/// two (its stack and guard page). Under Linux's default `vm.max_map_count` (65,530) that is
/// the difference between about 16,000 and over 30,000 processes, and running out of
/// mappings in the standard library aborts the whole program instead of failing the spawn.
/// The price: a stack overflow on a process thread kills the program with SIGSEGV without the
/// standard library's message (it kills the program either way).
#[cfg(unix)]
fn start_thread(stack: usize, body: Box<dyn FnOnce() + Send>) -> io::Result<()> {
    extern "C" fn trampoline(arg: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `arg` is the pointer made by `Box::into_raw` below, handed to exactly this
        // one thread, so it is turned back into its box exactly once.
        let body = unsafe { Box::from_raw(arg.cast::<Box<dyn FnOnce() + Send>>()) };
        // A panic cannot unwind out of an `extern "C"` function (the program aborts): the
        // worker loop catches every process's panic itself, so only a bug of the runtime's
        // own could get here.
        body();
        std::ptr::null_mut()
    }
    let arg = Box::into_raw(Box::new(body)).cast::<libc::c_void>();
    // SAFETY: plain pthread calls on a zeroed attribute object that is initialised before use
    // and destroyed after; on failure the box is reclaimed, since no thread received it.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        let mut rc = libc::pthread_attr_init(&mut attr);
        if rc == 0 {
            rc = libc::pthread_attr_setstacksize(&mut attr, stack.max(libc::PTHREAD_STACK_MIN));
        }
        if rc == 0 {
            rc = libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        }
        let mut thread: libc::pthread_t = std::mem::zeroed();
        if rc == 0 {
            rc = libc::pthread_create(&mut thread, &attr, trampoline, arg);
        }
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            drop(Box::from_raw(arg.cast::<Box<dyn FnOnce() + Send>>()));
            return Err(io::Error::from_raw_os_error(rc));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn start_thread(stack: usize, body: Box<dyn FnOnce() + Send>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("process".into())
        .stack_size(stack)
        .spawn(body)
        .map(drop)
}

impl Worker {
    pub(crate) fn start(&self, job: Job) {
        *self.job.lock() = Some(job);
        self.has_job.store(true, Ordering::Release);
        self.cond.notify_one();
    }

    fn take_job(&self) -> Option<Job> {
        for i in 1..=SPIN {
            if self.has_job.load(Ordering::Acquire) {
                break;
            }
            if i.is_multiple_of(64) {
                // Let the spawner run if it shares this core.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
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
