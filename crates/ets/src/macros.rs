//! Short term builders: `tuple!`, `list!` and `atom!`.

/// Builds a [`Term`](crate::Term) tuple from values that convert into terms.
///
/// ```
/// use ets::{tuple, Term};
/// let show = tuple!("The Flash", "Grant Gustin", 7.9);
/// assert_eq!(show, Term::from(("The Flash", "Grant Gustin", 7.9)));
/// ```
#[macro_export]
macro_rules! tuple {
    ($($e:expr),* $(,)?) => {
        $crate::Term::Tuple(::std::vec![$($crate::Term::from($e)),*].into())
    };
}

/// Builds a [`Term`](crate::Term) list from values that convert into terms.
///
/// ```
/// use ets::{list, Term};
/// assert_eq!(list![1, 2], Term::from(vec![1, 2]));
/// ```
#[macro_export]
macro_rules! list {
    ($($e:expr),* $(,)?) => {
        $crate::Term::List(::std::vec![$($crate::Term::from($e)),*].into())
    };
}

/// Builds an atom [`Term`](crate::Term): `atom!(ok)` or `atom!("ETS-TRANSFER")`.
///
/// ```
/// use ets::{atom, Term};
/// assert_eq!(atom!(ok), Term::atom("ok"));
/// ```
#[macro_export]
macro_rules! atom {
    ($a:ident) => {
        $crate::Term::atom(::std::stringify!($a))
    };
    ($a:literal) => {
        $crate::Term::atom($a)
    };
}
