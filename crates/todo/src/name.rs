//! [`ListName`]: a list's name as the cache's table and [`TodoServer`](crate::TodoServer)
//! handles hold it.
//!
//! Every `Cache::server_process` copies a name out of the cache's table into a new handle. With
//! an `Arc<str>` that copy and the handle's drop each write the name's reference count, one
//! cache line per list shared by every client, so clients on two cores passed those lines
//! back and forth on every lookup (`perf` on seed 002's ETS cache with 100 clients put about a
//! fifth of all samples on that count's increment, with the cache's table already
//! reader-biased). Names of up to [`INLINE`] bytes, every name in the book and in the seeds,
//! are copied by value instead.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The longest name stored inline.
const INLINE: usize = 30;

/// A list's name: inline up to [`INLINE`] bytes, shared beyond.
#[derive(Clone)]
pub(crate) enum ListName {
    /// The length, then the bytes of a `str` (the first `len` are used).
    Inline(u8, [u8; INLINE]),
    Shared(Arc<str>),
}

impl ListName {
    pub(crate) fn new(name: &str) -> ListName {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..name.len()].copy_from_slice(name.as_bytes());
                ListName::Inline(len, bytes)
            }
            _ => ListName::Shared(Arc::from(name)),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            ListName::Inline(len, bytes) => {
                let bytes = &bytes[..usize::from(*len)];
                // SAFETY: `new` copied exactly the bytes of a `str`, and `len` is its length, so
                // this slice is that whole `str`, valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            ListName::Shared(s) => s,
        }
    }
}

impl Deref for ListName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for ListName {
    fn eq(&self, other: &ListName) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for ListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_read_back_whole() {
        let names = [
            String::new(),
            "bob".to_owned(),
            "Ελένη's list".to_owned(),
            "x".repeat(INLINE),
            "y".repeat(INLINE + 1),
            "ü".repeat(40),
        ];
        for n in &names {
            let name = ListName::new(n);
            assert_eq!(name.as_str(), n);
            assert_eq!(name.clone(), name);
            assert_eq!(
                matches!(name, ListName::Inline(..)),
                n.len() <= INLINE,
                "{n}"
            );
            assert_eq!(format!("{name}"), *n);
        }
        assert_ne!(ListName::new("bob"), ListName::new("bo"));
    }
}
