//! A message of any type, as it sits in a mailbox.

use std::any::{Any, TypeId};
use std::fmt;

/// A message taken from a mailbox without knowing its type in advance.
///
/// Any `Send + 'static` value can be sent; [`recv`](crate::recv) and
/// [`receive_select`](crate::receive_select) hand back a `Message`, which you inspect with
/// [`is`](Message::is) and [`downcast_ref`](Message::downcast_ref) and open with
/// [`downcast`](Message::downcast).
pub struct Message(Box<dyn Any + Send>);

impl Message {
    /// Wraps a value.
    pub fn new<T: Send + 'static>(value: T) -> Self {
        Message(Box::new(value))
    }

    /// `true` if the message holds a `T`.
    pub fn is<T: 'static>(&self) -> bool {
        (*self.0).type_id() == TypeId::of::<T>()
    }

    /// A reference to the value if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }

    /// The value if it is a `T`, or the message back unchanged.
    pub fn downcast<T: 'static>(self) -> Result<T, Message> {
        match self.0.downcast::<T>() {
            Ok(b) => Ok(*b),
            Err(b) => Err(Message(b)),
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
