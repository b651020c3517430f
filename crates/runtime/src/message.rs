//! A message of any type, as it sits in a mailbox.

use std::any::{Any, TypeId};
use std::fmt;
use std::mem::{ManuallyDrop, MaybeUninit, align_of, size_of};

/// Room for a message stored without allocating: two machine words (an integer, a pid, a
/// `&'static str`, a small struct). Larger values are boxed.
type Slot = [usize; 2];

/// What an inline message needs to be identified and dropped without knowing its type.
struct InlineVTable {
    type_id: TypeId,
    /// Drops the value in the slot in place.
    drop: unsafe fn(*mut Slot),
}

/// The vtable of `T`, as a constant so that `&T::VTABLE` is a `'static` reference.
trait Inline: Send + 'static {
    const VTABLE: InlineVTable;
}

impl<T: Send + 'static> Inline for T {
    const VTABLE: InlineVTable = InlineVTable {
        type_id: TypeId::of::<T>(),
        drop: drop_slot::<T>,
    };
}

/// # Safety
/// `slot` must hold an initialised `T` that is not used again.
unsafe fn drop_slot<T>(slot: *mut Slot) {
    // SAFETY: the caller guarantees the slot holds a live `T`.
    unsafe { std::ptr::drop_in_place(slot.cast::<T>()) }
}

enum Repr {
    /// A value of at most two words, stored in place: sending it allocates nothing (every
    /// boxed message is allocated on the sender's thread and freed on the receiver's, which
    /// was most of a one-way send's cost).
    Inline {
        slot: MaybeUninit<Slot>,
        vtable: &'static InlineVTable,
    },
    Boxed(Box<dyn Any + Send>),
}

/// A message taken from a mailbox without knowing its type in advance.
///
/// Any `Send + 'static` value can be sent; [`recv`](crate::recv) and
/// [`receive_select`](crate::receive_select) hand back a `Message`, which you inspect with
/// [`is`](Message::is) and [`downcast_ref`](Message::downcast_ref) and open with
/// [`downcast`](Message::downcast).
pub struct Message(Repr);

// SAFETY: an inline value is a `T: Send` (`Message::new` requires it) and the vtable holds
// only function pointers; a boxed value is `dyn Any + Send`.
unsafe impl Send for Message {}

impl Message {
    /// Wraps a value (small values are stored in place, larger ones boxed).
    pub fn new<T: Send + 'static>(value: T) -> Self {
        if size_of::<T>() <= size_of::<Slot>() && align_of::<T>() <= align_of::<Slot>() {
            let mut slot = MaybeUninit::<Slot>::uninit();
            // SAFETY: the slot is large and aligned enough for a `T` (checked just above).
            unsafe { slot.as_mut_ptr().cast::<T>().write(value) };
            Message(Repr::Inline {
                slot,
                vtable: &<T as Inline>::VTABLE,
            })
        } else {
            Message(Repr::Boxed(Box::new(value)))
        }
    }

    fn held_type(&self) -> TypeId {
        match &self.0 {
            Repr::Inline { vtable, .. } => vtable.type_id,
            Repr::Boxed(b) => (**b).type_id(),
        }
    }

    /// `true` if the message holds a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        self.held_type() == TypeId::of::<T>()
    }

    /// A reference to the value if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        match &self.0 {
            Repr::Inline { slot, vtable } if vtable.type_id == TypeId::of::<T>() => {
                // SAFETY: the slot holds a live value whose type is `T` (same type id).
                Some(unsafe { &*slot.as_ptr().cast::<T>() })
            }
            Repr::Inline { .. } => None,
            Repr::Boxed(b) => b.downcast_ref::<T>(),
        }
    }

    /// The value if it is a `T`, or the message back unchanged.
    pub fn downcast<T: 'static>(self) -> Result<T, Message> {
        if !self.is::<T>() {
            return Err(self);
        }
        // The value is moved out below; the message's own drop must not run.
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again after this read.
        match unsafe { std::ptr::read(&this.0) } {
            // SAFETY: the slot holds a live `T` (same type id), moved out exactly once.
            Repr::Inline { slot, .. } => Ok(unsafe { slot.as_ptr().cast::<T>().read() }),
            Repr::Boxed(b) => match b.downcast::<T>() {
                Ok(v) => Ok(*v),
                Err(b) => Err(Message(Repr::Boxed(b))),
            },
        }
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        if let Repr::Inline { slot, vtable } = &mut self.0 {
            // SAFETY: an inline message's slot holds a live value of the vtable's type until
            // it is dropped here or moved out by `downcast` (which skips this drop).
            unsafe { (vtable.drop)(slot.as_mut_ptr()) }
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = self.downcast_ref::<crate::Exit>() {
            return write!(f, "Message({e:?})");
        }
        if let Some(d) = self.downcast_ref::<crate::Down>() {
            return write!(f, "Message({d:?})");
        }
        if let Some(s) = self.downcast_ref::<&'static str>() {
            return write!(f, "Message({s:?})");
        }
        if let Some(s) = self.downcast_ref::<String>() {
            return write!(f, "Message({s:?})");
        }
        f.write_str("Message(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its drops; one word, so it is stored inline.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Counts its drops; five words, so it is boxed.
    struct BigCounted(Arc<AtomicUsize>, #[allow(dead_code)] [u64; 4]);
    impl Drop for BigCounted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn small_values_are_inline_and_large_ones_boxed() {
        assert!(matches!(Message::new(7u64).0, Repr::Inline { .. }));
        assert!(matches!(Message::new("text").0, Repr::Inline { .. }));
        assert!(matches!(Message::new(()).0, Repr::Inline { .. }));
        assert!(matches!(Message::new([0u64; 3]).0, Repr::Boxed(_)));
        assert!(matches!(Message::new(String::from("x")).0, Repr::Boxed(_)));
        #[repr(align(32))]
        struct Aligned(#[allow(dead_code)] u8);
        assert!(matches!(Message::new(Aligned(1)).0, Repr::Boxed(_)));
    }

    #[test]
    fn values_come_back_intact_of_either_kind() {
        let m = Message::new((3u32, 4u16));
        assert!(m.is::<(u32, u16)>() && !m.is::<u64>());
        assert_eq!(m.downcast_ref::<(u32, u16)>(), Some(&(3, 4)));
        assert_eq!(m.downcast_ref::<u64>(), None);
        let m = m.downcast::<u64>().expect_err("not a u64");
        assert_eq!(m.downcast::<(u32, u16)>().ok(), Some((3, 4)));
        let big = Message::new(String::from("a boxed string"));
        let big = big.downcast::<u8>().expect_err("not a u8");
        assert_eq!(
            big.downcast::<String>().ok().as_deref(),
            Some("a boxed string")
        );
        assert_eq!(Message::new(()).downcast::<()>().ok(), Some(()));
    }

    #[test]
    fn every_value_is_dropped_exactly_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        // Dropped as a message.
        drop(Message::new(Counted(drops.clone())));
        drop(Message::new(BigCounted(drops.clone(), [0; 4])));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        // Moved out by downcast: dropped once, by its new owner.
        let v = Message::new(Counted(drops.clone()))
            .downcast::<Counted>()
            .ok();
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        drop(v);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        // A failed downcast gives the message back, still holding its value.
        let m = Message::new(Counted(drops.clone()))
            .downcast::<u8>()
            .expect_err("not a u8");
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        drop(m);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
        let m = Message::new(BigCounted(drops.clone(), [0; 4]))
            .downcast::<u8>()
            .expect_err("no");
        let v = m.downcast::<BigCounted>().ok();
        assert_eq!(drops.load(Ordering::SeqCst), 4);
        drop(v);
        assert_eq!(drops.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn messages_cross_threads() {
        let drops = Arc::new(AtomicUsize::new(0));
        let m = Message::new(Counted(drops.clone()));
        let back = std::thread::spawn(move || m.downcast::<Counted>().ok())
            .join()
            .ok()
            .flatten();
        assert!(back.is_some());
        drop(back);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}
