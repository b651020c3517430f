//! The reader-writer lock of every shard and leaf, with ETS's `read_concurrency` as an option.
//!
//! Without the option this is a plain `parking_lot` reader-writer lock. A read lock then
//! writes to the lock word, so two cores reading one shard in turn pass its cache line back
//! and forth: on a small read-mostly table (seed 002's cache of 100 lists) that transfer is
//! most of a lookup's cost.
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
//! several of them only in index or key order (see `hash.rs` and `ordered.rs`). A slot of the
//! visible-reader table is never waited for by its own thread: a reader whose slot is taken
//! (by itself for another lock, or by another thread) takes the slow path instead.

use std::cell::{Cell, UnsafeCell};
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
            v = NEXT_TOKEN
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                | 1;
            t.set(v);
        }
        v
    });
    let h = (token ^ addr).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    &VISIBLE.0[h >> (usize::BITS - SLOT_BITS)]
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
            bias: AtomicBool::new(read_concurrency),
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
        }
    }

    /// Locks for writing.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        self.raw.lock_exclusive();
        self.revoke_if_biased();
        WriteGuard { lock: self }
    }

    /// Locks for writing if no one holds the underlying lock; does not wait for it.
    #[inline]
    pub(crate) fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        if !self.raw.try_lock_exclusive() {
            return None;
        }
        self.revoke_if_biased();
        Some(WriteGuard { lock: self })
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
                // A reader holds it only while copying an object out; if it was preempted
                // there, let it run.
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(64) {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
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

    /// A writer revokes the bias, and a reader turns it back on once the inhibition is over.
    #[test]
    fn the_bias_goes_off_for_a_write_and_comes_back() {
        let lock = ShardLock::new(0u32, true);
        assert!(lock.bias.load(Ordering::Relaxed));
        {
            let g = lock.read();
            assert!(g.slot.is_some(), "a biased read takes a slot");
        }
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
}
