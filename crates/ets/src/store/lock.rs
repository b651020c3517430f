//! The reader-writer lock of every shard and leaf, with ETS's `read_concurrency` as an option.
//!
//! Without the option this is a plain `parking_lot` reader-writer lock. A read lock then
//! writes to the lock word, so two cores reading one shard in turn pass its cache line back
//! and forth: on a small read-mostly table (seed 002's cache of 100 lists, 100 clients) `perf`
//! put a third of a lookup's samples on the load of that word, and the bias took the workload
//! from 10.2-10.5 to 13.6-15.0 M ops/s (commit 00274ff, together with `todo`'s `ListName`).
//!
//! With `read_concurrency`, the lock is *reader-biased* (BRAVO: Dice and Kogan, "BRAVO: Biased
//! Locking for Reader-Writer Locks", USENIX ATC 2019). While the bias is on, a reader does not
//! touch the lock word: it announces itself by writing the lock's address into one slot of a
//! global table of visible readers, chosen by hashing its thread and the lock, so that readers
//! on different cores write to different cache lines. A writer takes the underlying lock, turns
//! the bias off, and waits until no slot holds the lock's address; from then on readers take
//! the underlying lock as usual. That revocation scans the whole table (a few microseconds), so
//! the bias stays off for [`INHIBIT_FACTOR`] times as long as the scan took, and a reader that
//! holds the underlying lock after that turns it back on. This is ETS's trade-off, documented
//! for its `read_concurrency` option: reads get cheaper, switching between reads and writes gets
//! dearer.
//!
//! Ordering: a reader sets its slot, then reads the bias; a writer clears the bias, then reads
//! every slot. All four are `SeqCst`, so either the writer sees the reader's slot (and waits for
//! it), or the reader sees the bias off (and takes the slow path): never neither.
//!
//! Lock order: a thread holds at most the locks of one table's shards or leaves at a time, and
//! several of them only in index or key order (see `hash.rs` and `ordered.rs`). A reader never
//! waits for a slot: one whose slot is taken (by itself for another lock, or by another
//! thread) takes the slow path instead. As with any reader-writer lock, a thread must never
//! lock again a lock it holds: a writer would wait for that thread's own slot, or its own
//! shared hold, forever.
//!
//! A new lock starts unbiased, and the first read turns the bias on: a table that is only
//! written (a bulk load) never pays for a revocation.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::RawRwLock;
use parking_lot::lock_api::RawRwLock as _;

/// Slots in the visible-reader table: 32 KiB, shared by every biased lock of the program.
const SLOT_BITS: u32 = 12;
const SLOTS: usize = 1 << SLOT_BITS;
/// After a revocation that took `t`, the bias stays off for `INHIBIT_FACTOR * t`, which bounds
/// the time writers spend revoking to about a tenth of the total (BRAVO's N = 9).
const INHIBIT_FACTOR: u64 = 9;

#[repr(align(64))]
struct Visible([AtomicUsize; SLOTS]);

static VISIBLE: Visible = Visible([const { AtomicUsize::new(0) }; SLOTS]);
static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// This thread's hash seed for choosing slots (0 until first used).
    static TOKEN: Cell<usize> = const { Cell::new(0) };
}

/// The visible-reader slot of the calling thread for the lock at `addr`.
#[inline]
fn slot_for(addr: usize) -> &'static AtomicUsize {
    let token = TOKEN.with(|t| {
        let mut v = t.get();
        if v == 0 {
            // Spread consecutive thread numbers over the whole word (the constant is 2^64 over
            // the golden ratio, truncated to `usize` on narrower targets).
            v = NEXT_TOKEN
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize)
                | 1;
            t.set(v);
        }
        v
    });
    let h = ((token ^ addr) as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    // The top bits: below `SLOTS`, so the cast is lossless.
    &VISIBLE.0[(h >> (u64::BITS - SLOT_BITS)) as usize]
}

/// Nanoseconds since the first call (the bias's inhibition clock).
fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A reader-writer lock, reader-biased when made with `read_concurrency` (see the module docs).
pub(crate) struct ShardLock<T> {
    raw: RawRwLock,
    /// Whether readers may skip `raw` now. Only ever true when `read_concurrency` is.
    bias: AtomicBool,
    read_concurrency: bool,
    /// `now_ns()` before which a reader must not turn the bias back on.
    inhibit_until: AtomicU64,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&T` to several threads at once (readers) and `&mut T` to one
// (a writer), exactly as `std::sync::RwLock<T>` does, which has the same bounds.
unsafe impl<T: Send> Send for ShardLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for ShardLock<T> {}

impl<T> ShardLock<T> {
    pub(crate) fn new(value: T, read_concurrency: bool) -> Self {
        ShardLock {
            raw: RawRwLock::INIT,
            // Off until the first read (with `inhibit_until` 0, that read turns it on).
            bias: AtomicBool::new(false),
            read_concurrency,
            inhibit_until: AtomicU64::new(0),
            data: UnsafeCell::new(value),
        }
    }

    #[inline]
    fn addr(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Locks for reading.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        if self.bias.load(Ordering::Relaxed) {
            let addr = self.addr();
            let slot = slot_for(addr);
            if slot
                .compare_exchange(0, addr, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                if self.bias.load(Ordering::SeqCst) {
                    return ReadGuard {
                        lock: self,
                        slot: Some(slot),
                        _not_send: PhantomData,
                    };
                }
                slot.store(0, Ordering::Release);
            }
        }
        self.raw.lock_shared();
        if self.read_concurrency
            && !self.bias.load(Ordering::Relaxed)
            && now_ns() >= self.inhibit_until.load(Ordering::Relaxed)
        {
            // No writer holds `raw` now, and the next one will see this store once it does.
            self.bias.store(true, Ordering::SeqCst);
        }
        ReadGuard {
            lock: self,
            slot: None,
            _not_send: PhantomData,
        }
    }

    /// Locks for writing.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        self.raw.lock_exclusive();
        self.revoke_if_biased();
        WriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// Locks for writing if no one holds the underlying lock; does not wait for it, but may
    /// wait for biased readers to leave (as long as it takes them to copy an object out).
    #[inline]
    pub(crate) fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        if !self.raw.try_lock_exclusive() {
            return None;
        }
        self.revoke_if_biased();
        Some(WriteGuard {
            lock: self,
            _not_send: PhantomData,
        })
    }

    /// With `raw` held exclusively: turns the bias off and waits for the readers that came in
    /// through their slots to leave.
    #[inline]
    fn revoke_if_biased(&self) {
        if self.bias.load(Ordering::Acquire) {
            self.revoke();
        }
    }

    #[cold]
    fn revoke(&self) {
        let started = now_ns();
        self.bias.store(false, Ordering::SeqCst);
        let addr = self.addr();
        for slot in &VISIBLE.0 {
            let mut spins: u32 = 0;
            while slot.load(Ordering::SeqCst) == addr {
                // A reader holds it only while copying an object out. If it was preempted
                // there, let it run: yield, and past a few hundred tries sleep, so as not to
                // burn the core the reader needs while this writer holds the lock.
                spins = spins.saturating_add(1);
                if spins < 64 {
                    std::hint::spin_loop();
                } else if spins < 512 {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(std::time::Duration::from_micros(20));
                }
            }
        }
        let now = now_ns();
        let took = now.saturating_sub(started);
        self.inhibit_until.store(
            now.saturating_add(took.saturating_mul(INHIBIT_FACTOR)),
            Ordering::Relaxed,
        );
    }
}

/// Shared access; see [`ShardLock::read`].
pub(crate) struct ReadGuard<'a, T> {
    lock: &'a ShardLock<T>,
    /// Not `Send`, as a lock guard: it must be released by the thread that took it.
    _not_send: PhantomData<*const ()>,
    /// The visible-reader slot this reader holds, or `None` if it holds the underlying lock.
    slot: Option<&'static AtomicUsize>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard is either a shared hold of `raw`, or a visible-reader slot taken
        // while the bias was on, which every writer waits out before touching the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        match self.slot {
            Some(slot) => slot.store(0, Ordering::Release),
            // SAFETY: this guard holds `raw` shared (taken in `read`).
            None => unsafe { self.lock.raw.unlock_shared() },
        }
    }
}

/// Exclusive access; see [`ShardLock::write`].
pub(crate) struct WriteGuard<'a, T> {
    lock: &'a ShardLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds `raw` exclusively and no biased reader is left (revoked).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: this guard holds `raw` exclusively (taken in `write` or `try_write`).
        unsafe { self.lock.raw.unlock_exclusive() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// Readers on both paths and writers on one lock: a writer's two-step change is never seen
    /// half done, and no increment is lost. Run with and without the bias, many times.
    #[test]
    fn readers_never_see_a_write_in_progress() {
        for read_concurrency in [true, false] {
            for round in 0..20u64 {
                let lock = Arc::new(ShardLock::new((0u64, 0u64), read_concurrency));
                let writers: u64 = 2;
                let per: u64 = 2_000;
                let threads: Vec<_> = (0..writers + 3)
                    .map(|i| {
                        let lock = lock.clone();
                        std::thread::spawn(move || {
                            if i < writers {
                                for _ in 0..per {
                                    let mut g = lock.write();
                                    g.0 += 1;
                                    std::hint::spin_loop();
                                    g.1 += 1;
                                }
                            } else {
                                for k in 0..(per * 4) {
                                    let g = lock.read();
                                    assert_eq!(g.0, g.1, "a torn read in round {round}");
                                    if (k + round) % 97 == 0 {
                                        std::thread::yield_now();
                                    }
                                }
                            }
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().expect("thread");
                }
                let g = lock.read();
                assert_eq!(*g, (writers * per, writers * per));
            }
        }
    }

    /// The first read turns the bias on, a writer revokes it, and a reader turns it back on
    /// once the inhibition is over.
    #[test]
    fn the_bias_goes_off_for_a_write_and_comes_back() {
        let lock = ShardLock::new(0u32, true);
        assert!(!lock.bias.load(Ordering::Relaxed), "off until read");
        drop(lock.read());
        assert!(
            lock.bias.load(Ordering::Relaxed),
            "the first read turns it on"
        );
        *lock.write() += 1;
        assert!(!lock.bias.load(Ordering::Relaxed));
        // Readers take the slow path until the inhibition ends, then one turns the bias on.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let g = lock.read();
            assert_eq!(*g, 1);
            if lock.bias.load(Ordering::Relaxed) || Instant::now() > deadline {
                break;
            }
        }
        assert!(lock.bias.load(Ordering::Relaxed), "the bias came back");
        // Without the option there is never a bias.
        let plain = ShardLock::new(0u32, false);
        assert!(plain.read().slot.is_none());
        *plain.write() += 1;
        assert!(!plain.bias.load(Ordering::Relaxed));
    }

    /// Every write revokes a bias while a reader is inside through its slot, and no reader
    /// ever sees a write half done. (Writers in a burst, as in the test above, mostly find the
    /// bias already off: here each write waits until the bias is back and a reader is in.)
    #[test]
    fn writes_revoke_a_bias_that_readers_are_using() {
        const WORDS: usize = 16;
        let lock = Arc::new(ShardLock::new([0u64; WORDS], true));
        let stop = Arc::new(AtomicBool::new(false));
        // Readers inside through their slot right now.
        let inside = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (lock, stop, inside) = (lock.clone(), stop.clone(), inside.clone());
                std::thread::spawn(move || {
                    let mut torn = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let g = lock.read();
                        let fast = g.slot.is_some();
                        if fast {
                            inside.fetch_add(1, Ordering::SeqCst);
                        }
                        let p = g.as_ptr();
                        for i in 0..WORDS {
                            std::hint::spin_loop();
                            // SAFETY: `p` points to the guarded array, `i` is in bounds;
                            // volatile, so that each word is read from memory in turn.
                            let (a, b) = unsafe {
                                (
                                    std::ptr::read_volatile(p),
                                    std::ptr::read_volatile(p.add(i)),
                                )
                            };
                            torn += u64::from(a != b);
                        }
                        if fast {
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    torn
                })
            })
            .collect();
        let mut met = 0;
        for n in 1..=300u64 {
            {
                let mut g = lock.write();
                let p = g.as_mut_ptr();
                for i in 0..WORDS {
                    // SAFETY: as above, through the write guard.
                    unsafe { std::ptr::write_volatile(p.add(i), n) };
                    std::hint::spin_loop();
                }
            }
            // Until a slow reader has turned the bias back on and a reader is in through its
            // slot, so that the next write has one to wait for.
            let deadline = Instant::now() + std::time::Duration::from_millis(50);
            while !(lock.bias.load(Ordering::SeqCst) && inside.load(Ordering::SeqCst) > 0)
                && Instant::now() < deadline
            {
                std::hint::spin_loop();
            }
            met += u32::from(inside.load(Ordering::SeqCst) > 0);
        }
        stop.store(true, Ordering::Relaxed);
        let torn: u64 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
        assert_eq!(torn, 0, "a reader saw a write half done");
        assert!(
            met > 0,
            "no write ever met a reader inside through its slot"
        );
    }
}
