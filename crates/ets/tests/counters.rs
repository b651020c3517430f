//! update_counter and update_element, ported from the ETS reference manual's descriptions of
//! update_counter/3,4 and update_element/3,4.

use ets::{CounterOp, EtsError, Options, Table, TableType, Term, atom, tuple};

fn table(kind: TableType) -> Table {
    Table::new("counters", Options::new().kind(kind)).expect("new")
}

// Origin: ETS docs update_counter/3: with no position, the element after the key is updated.
#[test]
fn increments_the_element_after_the_key() {
    for kind in [TableType::Set, TableType::OrderedSet] {
        let t = table(kind);
        t.insert((atom!(hits), 10)).expect("insert");
        assert_eq!(t.update_counter(atom!(hits), 5), Ok(15));
        assert_eq!(t.update_counter(atom!(hits), -20), Ok(-5));
        assert_eq!(
            t.lookup(atom!(hits)).expect("lookup"),
            vec![tuple!(atom!(hits), -5)]
        );
    }
}

// Origin: ETS docs update_counter/3: "{Pos, Incr, Threshold, SetValue}: if Incr >= 0 and the
// result would be > Threshold, or Incr < 0 and the result would be < Threshold, the counter is
// set to SetValue"; a list of ops runs in order, each on the previous result.
#[test]
fn thresholds_and_op_lists() {
    let t = table(TableType::Set);
    t.insert((atom!(c), 8, 100)).expect("insert");
    let ops = [
        CounterOp::new(2, 1).threshold(9, 0),
        CounterOp::new(2, 1).threshold(9, 0),
        CounterOp::new(3, -60).threshold(50, 1000),
        CounterOp::new(2, 5),
    ];
    assert_eq!(
        t.update_counters(atom!(c), &ops, None),
        Ok(vec![9, 0, 1000, 5])
    );
    assert_eq!(
        t.lookup(atom!(c)).expect("lookup"),
        vec![tuple!(atom!(c), 5, 1000)]
    );
}

// Origin: ETS docs update_counter/4 (OTP 18): the default object is inserted with its key slot
// replaced by the key, then updated.
#[test]
fn default_object() {
    let t = table(TableType::Set);
    let default = tuple!(atom!(ignored), 100, 0);
    assert_eq!(
        t.update_counters(atom!(k), &[CounterOp::new(3, 1)], Some(default.clone())),
        Ok(vec![1])
    );
    assert_eq!(
        t.lookup(atom!(k)).expect("lookup"),
        vec![tuple!(atom!(k), 100, 1)]
    );
    assert_eq!(
        t.update_counters(atom!(k), &[CounterOp::new(3, 1)], Some(default)),
        Ok(vec![2])
    );
}

// Origin: ETS docs update_counter/3 failure list: not a set; missing key without default;
// a position outside the object; a non-integer field; the key field. Nothing is updated.
#[test]
fn failures_change_nothing() {
    let t = table(TableType::Set);
    t.insert((atom!(k), 1, atom!(text))).expect("insert");
    let atomic = [CounterOp::new(2, 1), CounterOp::new(3, 1)];
    assert_eq!(
        t.update_counters(atom!(k), &atomic, None),
        Err(EtsError::NotAnInteger(3))
    );
    assert_eq!(
        t.lookup_element(atom!(k), 2),
        Ok(Term::Int(1)),
        "first op not applied"
    );
    assert_eq!(t.update_counter(atom!(nope), 1), Err(EtsError::KeyNotFound));
    assert_eq!(
        t.update_counters(atom!(k), &[CounterOp::new(9, 1)], None),
        Err(EtsError::BadPosition { pos: 9, arity: 3 })
    );
    assert_eq!(
        t.update_counters(atom!(k), &[CounterOp::new(1, 1)], None),
        Err(EtsError::KeyPosition(1))
    );
    assert_eq!(
        t.update_counters(atom!(d), &[CounterOp::new(2, 1)], Some(Term::tuple([]))),
        Err(EtsError::TooShort {
            arity: 0,
            keypos: 1
        })
    );
    t.insert((atom!(big), i64::MAX)).expect("insert");
    assert_eq!(t.update_counter(atom!(big), 1), Err(EtsError::Overflow));
    let bag = table(TableType::Bag);
    assert_eq!(
        bag.update_counter(atom!(k), 1),
        Err(EtsError::WrongType(TableType::Bag))
    );
}

// Origin: ETS docs update_element/3: fields updated in place, the last update of a repeated
// position wins, false for a missing key, badarg for the key position or a bad position.
#[test]
fn update_element() {
    let t = table(TableType::OrderedSet);
    t.insert((1, atom!(a), atom!(b))).expect("insert");
    assert_eq!(
        t.update_element(1, &[(2, atom!(x)), (3, atom!(y)), (2, atom!(z))]),
        Ok(true)
    );
    assert_eq!(
        t.lookup(1).expect("lookup"),
        vec![tuple!(1, atom!(z), atom!(y))]
    );
    assert_eq!(t.update_element(2, &[(2, atom!(x))]), Ok(false));
    assert_eq!(
        t.update_element(1, &[(1, Term::Int(5))]),
        Err(EtsError::KeyPosition(1))
    );
    assert_eq!(
        t.update_element(1, &[(2, atom!(ok)), (4, atom!(no))]),
        Err(EtsError::BadPosition { pos: 4, arity: 3 })
    );
    assert_eq!(
        t.lookup_element(1, 2),
        Ok(atom!(z)),
        "a failed update changes nothing"
    );
}

// Origin: ETS docs update_element/4 (OTP 27, erlang/otp PR #7857): a missing key inserts the
// default, then applies the update.
#[test]
fn update_element_with_default() {
    let t = table(TableType::Set);
    assert_eq!(
        t.update_element_or_insert(
            atom!(k),
            &[(2, atom!(set))],
            tuple!(atom!(k), atom!(unset), 0)
        ),
        Ok(true)
    );
    assert_eq!(
        t.lookup(atom!(k)).expect("lookup"),
        vec![tuple!(atom!(k), atom!(set), 0)]
    );
}

// Term tables keep a pair of numbers inline and other tuples shared; an update that moves an
// object from one form to the other must leave it equal to the same object inserted afresh, or
// delete_object and match would stop finding it.
#[test]
fn updated_objects_are_found_by_their_whole_value() {
    for kind in [TableType::Set, TableType::OrderedSet] {
        let t = table(kind);
        t.insert((1, atom!(none))).expect("insert");
        assert_eq!(t.update_element(1, &[(2, Term::Int(0))]), Ok(true));
        assert_eq!(t.update_counter(1, 7), Ok(7));
        assert_eq!(t.match_object((1, 7)).expect("match"), vec![tuple!(1, 7)]);
        t.delete_object((1, 7)).expect("delete_object");
        assert_eq!(t.lookup(1).expect("lookup"), vec![]);

        t.insert((2, 2.5)).expect("insert");
        assert_eq!(t.update_element(2, &[(2, atom!(done))]), Ok(true));
        t.delete_object((2, atom!(done))).expect("delete_object");
        assert_eq!(t.len(), Ok(0));
    }
}
