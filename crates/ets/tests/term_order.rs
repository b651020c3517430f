//! Erlang's term order and its two equalities, ported from the Erlang reference manual
//! (expressions, "Term Comparisons") and data types (float `-0.0`, OTP 27).

use std::cmp::Ordering;
use std::hash::{BuildHasher, RandomState};

use ets::{Term, atom, list, tuple};

fn lt(a: impl Into<Term>, b: impl Into<Term>) {
    let (a, b) = (a.into(), b.into());
    assert_eq!(a.compare(&b), Ordering::Less, "{a} < {b}");
    assert_eq!(b.compare(&a), Ordering::Greater, "{b} > {a}");
    assert!(a < b, "Ord agrees: {a} < {b}");
}

// Origin: reference manual: number < atom < reference < fun < port < pid < tuple < map < nil
// < list < bit string.
#[test]
fn type_order() {
    let pid = runtime::self_pid();
    let r = runtime::make_ref();
    let chain = [
        Term::Int(99),
        atom!(a),
        Term::Ref(r),
        Term::Pid(pid),
        tuple!(),
        Term::map([]),
        Term::nil(),
        list![0],
        Term::from(""),
    ];
    for w in chain.windows(2) {
        lt(w[0].clone(), w[1].clone());
    }
}

// Origin: reference manual: tuples by size, then element by element; lists element by
// element; binaries byte by byte with a prefix first; atoms by text.
#[test]
fn structural_order() {
    lt(tuple!(9, 9), tuple!(1, 1, 1));
    lt(tuple!(1, 2), tuple!(1, 3));
    lt(list![1, 2], list![1, 2, 0]);
    lt(list![1, 9], list![2]);
    lt("ab", "abc");
    lt("abc", "abd");
    lt(atom!(abc), atom!(abd));
}

// Origin: reference manual: integers and floats compare by value; `==` equates 1 and 1.0,
// `=:=` does not; 0.0 =:= -0.0 is false since OTP 27.
#[test]
fn numbers() {
    lt(1, 1.5);
    lt(-2.5, -2);
    lt(i64::MAX, 1.0e19);
    lt(-1.0e19, i64::MIN);
    let one = Term::Int(1);
    let one_f = Term::Float(1.0);
    assert!(one.equals(&one_f));
    assert_ne!(one, one_f);
    assert!(one < one_f, "Ord puts the integer first, to agree with =:=");
    assert!(Term::Float(0.0).equals(&Term::Float(-0.0)));
    assert_ne!(Term::Float(0.0), Term::Float(-0.0));
    assert!(
        tuple!(1, atom!(a)).equals(&tuple!(1.0, atom!(a))),
        "== is deep"
    );
    // Large integers compare exactly with floats (no rounding through f64).
    let big = Term::Int(9_007_199_254_740_993);
    assert_eq!(
        big.compare(&Term::Float(9_007_199_254_740_992.0)),
        Ordering::Greater
    );
}

// Origin: reference manual: maps compare by size, then keys in map-key order (integers before
// floats), then values in key order.
#[test]
fn maps() {
    let m = |pairs: Vec<(Term, Term)>| Term::map(pairs);
    lt(
        m(vec![(atom!(z), Term::Int(1))]),
        m(vec![(atom!(a), Term::Int(1)), (atom!(b), Term::Int(1))]),
    );
    lt(
        m(vec![(atom!(a), Term::Int(1))]),
        m(vec![(atom!(b), Term::Int(0))]),
    );
    lt(
        m(vec![(atom!(a), Term::Int(1))]),
        m(vec![(atom!(a), Term::Int(2))]),
    );
    // In map-key order every integer precedes every float.
    lt(
        m(vec![(Term::Int(5), atom!(x))]),
        m(vec![(Term::Float(1.0), atom!(x))]),
    );
    assert!(m(vec![(atom!(a), Term::Int(1))]).equals(&m(vec![(atom!(a), Term::Float(1.0))])));
    assert!(!m(vec![(Term::Int(1), atom!(a))]).equals(&m(vec![(Term::Float(1.0), atom!(a))])));
}

#[test]
fn exact_equality_and_hash_agree() {
    let s = RandomState::new();
    let a = tuple!(
        1,
        "x",
        list![atom!(y), 2.5],
        Term::map([(atom!(k), Term::Int(1))])
    );
    let b = tuple!(
        1,
        "x",
        list![atom!(y), 2.5],
        Term::map([(atom!(k), Term::Int(1))])
    );
    assert_eq!(a, b);
    assert_eq!(s.hash_one(&a), s.hash_one(&b));
    assert_eq!(a.cmp(&b), Ordering::Equal);
}

#[test]
fn display_uses_erlang_syntax() {
    let t = tuple!(
        "The Flash",
        atom!(ok),
        atom!("$1"),
        7.9,
        list![1, 2],
        Term::map([(atom!(a), Term::Int(1))])
    );
    assert_eq!(
        t.to_string(),
        "{<<\"The Flash\">>,ok,'$1',7.9,[1,2],#{a => 1}}"
    );
    assert_eq!(Term::binary(&[1, 2]).to_string(), "<<1,2>>");
}
