//! Match patterns, match specifications and continuations, ported from the ETS reference
//! manual (match/2,3, select/2,3, select_count/2, select_delete/2, select_replace/2) and the
//! match specification guide (erts "Match Specifications in Erlang").

use ets::{EtsError, Options, Table, TableType, Term, any, atom, list, tuple, var};

/// `[{Head, Guards, Body}]` as a term.
fn ms(head: impl Into<Term>, guards: Vec<Term>, body: Vec<Term>) -> Term {
    Term::list([Term::tuple([
        head.into(),
        Term::List(guards.into()),
        Term::List(body.into()),
    ])])
}

fn people(kind: TableType) -> Table {
    let t = Table::new("people", Options::new().kind(kind)).expect("new");
    t.insert_many([
        tuple!(atom!(ann), 31, "London"),
        tuple!(atom!(bob), 17, "Paris"),
        tuple!(atom!(cid), 45, "London"),
        tuple!(atom!(dee), 8, "Rome"),
    ])
    .expect("insert");
    t
}

fn sorted(mut v: Vec<Term>) -> Vec<Term> {
    v.sort();
    v
}

// Origin: ETS docs select/2 example shape: [{{'$1','$2','$3'}, [{'>', '$2', 18}], ['$1']}].
#[test]
fn guards_and_result_shapes() {
    let t = people(TableType::OrderedSet);
    let adults = ms(
        (var(1), var(2), var(3)),
        vec![tuple!(atom!(">"), var(2), 18)],
        vec![var(1)],
    );
    assert_eq!(
        t.select(adults).expect("select"),
        vec![atom!(ann), atom!(cid)]
    );
    // '$$' is all bindings in variable order; {{...}} builds a tuple; '$_' the whole object.
    let shapes = ms(
        (var(2), var(1), "London"),
        vec![],
        vec![Term::tuple([Term::tuple([
            var(1),
            var(2),
            atom!(lives_in_london),
        ])])],
    );
    assert_eq!(
        t.select(shapes).expect("select"),
        vec![
            tuple!(31, atom!(ann), atom!(lives_in_london)),
            tuple!(45, atom!(cid), atom!(lives_in_london))
        ]
    );
    let all = ms((var(1), any(), any()), vec![], vec![atom!("$$")]);
    assert_eq!(t.select(all).expect("select").len(), 4);
    let whole = ms(
        any(),
        vec![tuple!(
            atom!("=="),
            tuple!(atom!("element"), 3, atom!("$_")),
            "Rome"
        )],
        vec![atom!("$_")],
    );
    assert_eq!(
        t.select(whole).expect("select"),
        vec![tuple!(atom!(dee), 8, "Rome")]
    );
    // {const, T} quotes a term that would otherwise be read as an expression.
    let quoted = ms(
        (atom!(bob), any(), any()),
        vec![],
        vec![tuple!(atom!("const"), var(7))],
    );
    assert_eq!(t.select(quoted).expect("select"), vec![var(7)]);
}

// Origin: erts match specification guide: an exception in a guard means no match; in a body
// it yields 'EXIT'. Also andalso/orelse and arithmetic guards.
#[test]
fn guard_exceptions_and_body_exit() {
    let t = people(TableType::Set);
    let bad_guard = ms(
        (var(1), var(2), any()),
        vec![tuple!(atom!(">"), tuple!(atom!("+"), var(1), 1), 0)],
        vec![var(1)],
    );
    assert_eq!(t.select(bad_guard).expect("select"), Vec::<Term>::new());
    let bad_body = ms(
        (atom!(ann), var(2), any()),
        vec![],
        vec![tuple!(atom!("div"), var(2), 0)],
    );
    assert_eq!(t.select(bad_body).expect("select"), vec![atom!("EXIT")]);
    let combined = ms(
        (var(1), var(2), var(3)),
        vec![tuple!(
            atom!("andalso"),
            tuple!(atom!("is_integer"), var(2)),
            tuple!(
                atom!("orelse"),
                tuple!(atom!("<"), var(2), 10),
                tuple!(atom!("=:="), var(3), "Paris")
            )
        )],
        vec![tuple!(atom!("*"), var(2), 2)],
    );
    assert_eq!(
        sorted(t.select(combined).expect("select")),
        vec![Term::Int(16), Term::Int(34)]
    );
}

// Origin: ETS docs select_count/2, select_delete/2 ("objects for which the match spec returns
// exactly true") and match_delete/2.
#[test]
fn count_delete_and_match_delete() {
    let t = people(TableType::Bag);
    let london = ms((any(), any(), "London"), vec![], vec![true.into()]);
    assert_eq!(t.select_count(london.clone()), Ok(2));
    let not_true = ms((any(), any(), "London"), vec![], vec![atom!(yes)]);
    assert_eq!(t.select_count(not_true.clone()), Ok(0));
    assert_eq!(t.select_delete(not_true), Ok(0));
    assert_eq!(t.select_delete(london), Ok(2));
    assert_eq!(t.len(), Ok(2));
    assert_eq!(t.match_delete((any(), var(1), "Rome")), Ok(1));
    assert_eq!(t.tab2list(), Ok(vec![tuple!(atom!(bob), 17, "Paris")]));
}

// Origin: ETS docs select_replace/2: the result must keep the key, and the call can be used
// as a compare-and-swap: select_replace(T, [{Old, [], [{const, New}]}]). Not for bags.
#[test]
fn select_replace() {
    let t = people(TableType::Set);
    let birthday = ms(
        (var(1), var(2), var(3)),
        vec![tuple!(atom!("<"), var(2), 18)],
        vec![Term::tuple([Term::tuple([
            var(1),
            tuple!(atom!("+"), var(2), 1),
            var(3),
        ])])],
    );
    assert_eq!(t.select_replace(birthday), Ok(2));
    assert_eq!(t.lookup_element(atom!(dee), 2), Ok(Term::Int(9)));
    let old = tuple!(atom!(ann), 31, "London");
    let new = tuple!(atom!(ann), 32, "Leeds");
    let cas = ms(
        old.clone(),
        vec![],
        vec![tuple!(atom!("const"), new.clone())],
    );
    assert_eq!(t.select_replace(cas.clone()), Ok(1));
    assert_eq!(
        t.select_replace(cas),
        Ok(0),
        "the old object is gone: the swap fails"
    );
    let rekey = ms(
        (var(1), var(2), var(3)),
        vec![],
        vec![Term::tuple([Term::tuple([atom!(x), var(2), var(3)])])],
    );
    assert_eq!(t.select_replace(rekey), Err(EtsError::KeyChanged));
    assert_eq!(
        t.lookup(atom!(ann)),
        Ok(vec![new]),
        "a failed replace changes nothing"
    );
    let bag = people(TableType::Bag);
    assert_eq!(
        bag.select_replace(ms(any(), vec![], vec![atom!("$_")])),
        Err(EtsError::WrongType(TableType::Bag))
    );
}

// Origin: ETS docs select/3 and select/1: chunks of Limit results, then '$end_of_table'.
#[test]
fn limits_and_continuations() {
    for kind in [
        TableType::Set,
        TableType::OrderedSet,
        TableType::Bag,
        TableType::DuplicateBag,
    ] {
        let t = Table::new("chunks", Options::new().kind(kind)).expect("new");
        t.insert_many((0..1000).map(|i| (i, i % 7)))
            .expect("insert");
        let evens = ms(
            (var(1), any()),
            vec![tuple!(atom!("=="), tuple!(atom!("rem"), var(1), 2), 0)],
            vec![var(1)],
        );
        let all = t.select(evens.clone()).expect("select");
        for limit in [1, 7, 100, 500, 2000] {
            let mut got = Vec::new();
            let mut next = t.select_limit(evens.clone(), limit).expect("select/3");
            while let Some((chunk, cont)) = next {
                assert!(!chunk.is_empty() && chunk.len() <= limit);
                got.extend(chunk);
                next = Table::select_continue(cont).expect("select/1");
            }
            assert_eq!(got, all, "{kind:?} limit {limit}");
        }
        let none = ms((atom!(nothing), any()), vec![], vec![var(1)]);
        assert!(
            matches!(t.select_limit(none, 10), Err(EtsError::BadMatchSpec(_))),
            "unbound $1"
        );
        assert_eq!(
            t.select_limit(ms(any(), vec![], vec![atom!("$_")]), 0)
                .err(),
            Some(EtsError::BadLimit)
        );
    }
}

// Origin: ETS docs select_reverse/2,3: reverse term order for ordered_set.
#[test]
fn select_reverse() {
    let t = Table::new("rev", Options::ordered_set()).expect("new");
    t.insert_many((0..50).map(|i| (i, atom!(v))))
        .expect("insert");
    let keys = ms((var(1), any()), vec![], vec![var(1)]);
    let back = t.select_reverse(keys.clone()).expect("select_reverse");
    assert_eq!(back, (0..50).rev().map(Term::Int).collect::<Vec<_>>());
    let (first, _) = t
        .select_reverse_limit(keys, 5)
        .expect("select_reverse/3")
        .expect("results");
    assert_eq!(first, (45..50).rev().map(Term::Int).collect::<Vec<_>>());
}

// Origin: ETS docs match/3 and match_object/3 with continuations.
#[test]
fn match_limit_and_match_object_limit() {
    let t = people(TableType::OrderedSet);
    let (chunk, cont) = t
        .match_limit((var(1), var(2), any()), 3)
        .expect("match/3")
        .expect("results");
    assert_eq!(chunk[0], vec![atom!(ann), Term::Int(31)]);
    let (rest, cont) = Table::match_continue(cont).expect("match/1").expect("more");
    assert_eq!(rest, vec![vec![atom!(dee), Term::Int(8)]]);
    assert!(Table::match_continue(cont).expect("match/1").is_none());
    let (objs, _) = t
        .match_object_limit((any(), any(), "London"), 10)
        .expect("match_object/3")
        .expect("results");
    assert_eq!(objs.len(), 2);
}

// Origin: ETS docs moduledoc: a pattern with a bound key is a lookup; results must not change.
#[test]
fn bound_key_patterns() {
    for kind in [TableType::Set, TableType::OrderedSet, TableType::Bag] {
        let t = people(kind);
        assert_eq!(
            t.match_object((atom!(bob), any(), any())),
            Ok(vec![tuple!(atom!(bob), 17, "Paris")])
        );
        assert_eq!(t.match_((atom!(bob), var(1), atom!(wrong))), Ok(vec![]));
        let two = Term::list([
            Term::tuple([
                Term::from((atom!(ann), var(1), any())),
                Term::nil(),
                list![var(1)],
            ]),
            Term::tuple([
                Term::from((atom!(cid), var(1), any())),
                Term::nil(),
                list![var(1)],
            ]),
        ]);
        assert_eq!(
            sorted(t.select(two).expect("select")),
            vec![Term::Int(31), Term::Int(45)]
        );
    }
}

// Origin: ETS docs match/2 with repeated variables and nested patterns; maps match on a subset
// of keys.
#[test]
fn repeated_variables_nested_and_map_patterns() {
    let t = Table::new("nested", Options::set()).expect("new");
    t.insert((
        1,
        tuple!(atom!(a), atom!(a)),
        Term::map([(atom!(x), Term::Int(1)), (atom!(y), Term::Int(2))]),
    ))
    .expect("insert");
    t.insert((
        2,
        tuple!(atom!(a), atom!(b)),
        Term::map([(atom!(x), Term::Int(3))]),
    ))
    .expect("insert");
    assert_eq!(
        t.match_((var(0), (var(1), var(1)), any())),
        Ok(vec![vec![Term::Int(1), atom!(a)]])
    );
    let by_map = t
        .match_((var(1), any(), Term::map([(atom!(x), var(2))])))
        .expect("match");
    assert_eq!(
        sorted(by_map.into_iter().map(Term::from).collect()),
        vec![list![1, 1], list![2, 3]]
    );
}

// Origin: ETS docs moduledoc ("a partially bound key ... in an ordered_set, only that sub-range
// is scanned", erlang/otp PR #2139): narrowing the scan must not change any result, in either
// direction, with limits, or where numbers compare equal but do not match exactly.
#[test]
fn partially_bound_tuple_keys_in_ordered_set() {
    let ordered = Table::new("prefix_ordered", Options::ordered_set()).expect("new");
    let plain = Table::new("prefix_plain", Options::set()).expect("new");
    let firsts = [
        atom!(a),
        atom!(b),
        Term::Int(1),
        Term::Float(1.0),
        Term::Int(2),
    ];
    for (i, f) in firsts.iter().enumerate() {
        for j in 0..20i64 {
            for key in [
                Term::tuple([f.clone(), Term::Int(j)]),
                Term::tuple([f.clone(), Term::Int(j % 3), Term::Int(j)]),
                Term::tuple([f.clone()]),
            ] {
                let obj = Term::tuple([key, Term::Int(i as i64 * 100 + j)]);
                ordered.insert(obj.clone()).expect("insert");
                plain.insert(obj).expect("insert");
            }
        }
    }
    let patterns = [
        Term::tuple([Term::tuple([atom!(a), var(1)]), var(2)]),
        Term::tuple([Term::tuple([Term::Int(1), var(1)]), any()]),
        Term::tuple([Term::tuple([Term::Float(1.0), var(1), any()]), var(2)]),
        Term::tuple([Term::tuple([atom!(b), Term::Int(2), var(1)]), any()]),
        Term::tuple([Term::tuple([atom!(zzz), var(1)]), any()]),
    ];
    for p in patterns {
        // A spec of two identical clauses is never narrowed: it scans the whole table.
        let clause = Term::tuple([p.clone(), Term::nil(), Term::list([atom!("$_")])]);
        let full_scan = Term::list([clause.clone(), clause]);
        let want = ordered.select(full_scan).expect("select");
        let got = ordered.match_object(p.clone()).expect("match_object");
        assert_eq!(got, want, "pattern {p}");
        // In the set, 1 and 1.0 are two keys; the ordered_set kept the later, 1.0, for both.
        let in_set: Vec<Term> = plain
            .match_object(p.clone())
            .expect("match_object")
            .into_iter()
            .filter(|o| {
                ordered
                    .lookup(o.as_tuple().expect("t")[0].clone())
                    .expect("lookup")
                    .contains(o)
            })
            .collect();
        assert_eq!(sorted(got.clone()), sorted(in_set), "pattern {p}");
        let spec = Term::list([Term::tuple([
            p.clone(),
            Term::nil(),
            Term::list([atom!("$_")]),
        ])]);
        let mut back = ordered
            .select_reverse(spec.clone())
            .expect("select_reverse");
        back.reverse();
        assert_eq!(back, got, "reverse of {p}");
        let mut chunks = Vec::new();
        let mut next = ordered.select_limit(spec.clone(), 3).expect("select/3");
        while let Some((c, cont)) = next {
            chunks.extend(c);
            next = cont.next().expect("select/1");
        }
        assert_eq!(chunks, got, "chunks of {p}");
        assert_eq!(
            ordered.select_count(Term::list([Term::tuple([
                p.clone(),
                Term::nil(),
                Term::list([true.into()])
            ])])),
            Ok(got.len())
        );
    }
}

// A Term table matches a pair of numbers element by element without building its tuple; a
// pattern of another size must still fail, for either stored form.
#[test]
fn tuple_patterns_of_another_size_match_nothing() {
    for kind in [TableType::Set, TableType::OrderedSet, TableType::Bag] {
        let t = Table::new("arity", Options::new().kind(kind)).expect("new");
        t.insert((1, 2)).expect("insert");
        t.insert((atom!(a), 2)).expect("insert");
        assert_eq!(t.match_object((any(), any(), any())), Ok(vec![]));
        assert_eq!(t.match_object(Term::tuple([any()])), Ok(vec![]));
        assert_eq!(t.match_((var(1), var(2), any())), Ok(vec![]));
        assert_eq!(
            t.select(ms(Term::tuple([var(1)]), vec![], vec![var(1)])),
            Ok(vec![])
        );
        assert_eq!(t.match_object((1, any())), Ok(vec![tuple!(1, 2)]));
        t.delete_table().expect("delete");
    }
}

// The same narrowing with the key in position 2: the scan must read each object's key where the
// table keeps it.
#[test]
fn partially_bound_keys_at_position_two_in_ordered_set() {
    let t = Table::new("prefix_keypos2", Options::ordered_set().keypos(2)).expect("new");
    for first in [atom!(a), atom!(b), atom!(c)] {
        for j in 0..30i64 {
            // Element 1 sorts against the key order, so reading it instead of the key would
            // stop the narrowed scan too early or too late.
            let obj = Term::tuple([
                Term::Int(1000 - j),
                Term::tuple([first.clone(), Term::Int(j)]),
            ]);
            t.insert(obj).expect("insert");
        }
    }
    for p in [
        Term::tuple([any(), Term::tuple([atom!(b), var(1)])]),
        Term::tuple([var(1), Term::tuple([atom!(a), var(2)])]),
        Term::tuple([any(), Term::tuple([atom!(zzz), any()])]),
    ] {
        let clause = Term::tuple([p.clone(), Term::nil(), Term::list([atom!("$_")])]);
        // Two identical clauses are never narrowed: a scan of the whole table.
        let want = t
            .select(Term::list([clause.clone(), clause]))
            .expect("select");
        let got = t.match_object(p.clone()).expect("match_object");
        assert_eq!(got, want, "pattern {p}");
    }
    let b_objects = t
        .match_object(Term::tuple([any(), Term::tuple([atom!(b), any()])]))
        .expect("match_object");
    assert_eq!(b_objects.len(), 30);
}
