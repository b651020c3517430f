//! What [`Table`](crate::Table)'s object-taking functions accept: [`IntoObject`].

use crate::stored::Stored;
use crate::term::Term;

mod sealed {
    pub trait Sealed {}
}

/// A value that [`Table::insert`](crate::Table::insert) and the other object-taking functions
/// accept as an object: a [`Term`] (which must be a tuple, or the call fails with
/// [`EtsError::NotATuple`](crate::EtsError::NotATuple)), or a Rust tuple of up to twelve
/// values that convert into terms.
///
/// A Rust pair of numbers, such as `(user_id, count)`, goes into the table without building a
/// [`Term`] tuple first: a table keeps such a pair inline, so converting it straight saves the
/// tuple's allocation. Any value with a conversion into [`Term`] becomes an object through
/// `Term::from`:
///
/// ```
/// use ets::{Options, Table, Term};
///
/// let t = Table::new("objects", Options::set())?;
/// t.insert((1, 2))?;                                 // a Rust pair
/// t.insert(("The Flash", "Grant Gustin", 7.9))?;     // any Rust tuple
/// t.insert(Term::from(vec![Term::from("not a tuple")])).unwrap_err();
/// assert_eq!(t.len()?, 2);
/// # Ok::<(), ets::EtsError>(())
/// ```
///
/// The trait is sealed: the conversions above are the only ones.
pub trait IntoObject: sealed::Sealed {
    #[doc(hidden)]
    fn into_object(self) -> Object;
}

/// An object on its way into a table (see [`IntoObject`]).
#[doc(hidden)]
pub struct Object(Repr);

enum Repr {
    Term(Term),
    Pair(Term, Term),
}

impl Object {
    /// The object's stored form, or the term back if it is not a tuple.
    #[inline]
    pub(crate) fn into_stored(self) -> Result<Stored, Term> {
        match self.0 {
            Repr::Term(t @ Term::Tuple(_)) => Ok(Stored::new(t)),
            Repr::Term(other) => Err(other),
            Repr::Pair(a, b) => Ok(Stored::pair(a, b)),
        }
    }
}

impl sealed::Sealed for Term {}
impl IntoObject for Term {
    #[inline]
    fn into_object(self) -> Object {
        Object(Repr::Term(self))
    }
}

impl sealed::Sealed for &Term {}
impl IntoObject for &Term {
    #[inline]
    fn into_object(self) -> Object {
        Object(Repr::Term(self.clone()))
    }
}

/// `()` is the empty tuple `{}`, as in `Term::from(())`.
impl sealed::Sealed for () {}
impl IntoObject for () {
    fn into_object(self) -> Object {
        Object(Repr::Term(Term::from(())))
    }
}

impl<A: Into<Term>, B: Into<Term>> sealed::Sealed for (A, B) {}
impl<A: Into<Term>, B: Into<Term>> IntoObject for (A, B) {
    #[inline]
    fn into_object(self) -> Object {
        Object(Repr::Pair(self.0.into(), self.1.into()))
    }
}

macro_rules! tuple_object {
    ($($name:ident)+) => {
        impl<$($name: Into<Term>),+> sealed::Sealed for ($($name,)+) {}
        impl<$($name: Into<Term>),+> IntoObject for ($($name,)+) {
            #[inline]
            fn into_object(self) -> Object {
                Object(Repr::Term(Term::from(self)))
            }
        }
    };
}
crate::macros::tuple_sizes_but_pairs!(tuple_object);
