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

/// Invokes `$m!` with type parameter names for every tuple size from 1 to 12 except 2
/// (pairs have impls of their own).
macro_rules! tuple_sizes_but_pairs {
    ($m:ident) => {
        $m!(A);
        $m!(A B C);
        $m!(A B C D);
        $m!(A B C D E);
        $m!(A B C D E F);
        $m!(A B C D E F G);
        $m!(A B C D E F G H);
        $m!(A B C D E F G H I);
        $m!(A B C D E F G H I J);
        $m!(A B C D E F G H I J K);
        $m!(A B C D E F G H I J K L);
    };
}
pub(crate) use tuple_sizes_but_pairs;
