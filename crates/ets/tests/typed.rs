//! The typed front: the four table types over plain Rust records, with closures as queries.

use ets::{EtsError, Options, Record, TableType, TypedTable};
use runtime::Pid;

#[derive(Clone, Debug, PartialEq)]
struct Show {
    title: String,
    lead: String,
    rating: f64,
}

impl Record for Show {
    type Key = String;
    fn key(&self) -> &String {
        &self.title
    }
}

fn show(title: &str, lead: &str, rating: f64) -> Show {
    Show {
        title: title.into(),
        lead: lead.into(),
        rating,
    }
}

// Origin: seed 000's tv_shows session, with a Rust struct instead of tuples.
#[test]
fn structs_with_a_chosen_key_field() {
    let t: TypedTable<Show> = TypedTable::new("typed_shows", Options::set()).expect("new");
    t.insert(show("The Flash", "Grant Gustin", 7.9))
        .expect("insert");
    t.insert(show("Supergirl", "Melissa Benoist", 6.4))
        .expect("insert");
    t.insert(show("The Flash", "Grant Gustin", 8.0))
        .expect("a set replaces");
    assert_eq!(
        t.get(&"The Flash".into()),
        Ok(Some(show("The Flash", "Grant Gustin", 8.0)))
    );
    let by_gustin = t
        .select(|s| (s.lead == "Grant Gustin").then(|| (s.title.clone(), s.rating)))
        .expect("select");
    assert_eq!(by_gustin, vec![("The Flash".to_string(), 8.0)]);
    assert_eq!(t.len(), Ok(2));
}

#[test]
fn tuples_are_keyed_on_their_first_field() {
    let me = runtime::self_pid();
    let t: TypedTable<(String, Pid)> = TypedTable::new("registry", Options::set()).expect("new");
    t.insert(("bob".into(), me)).expect("insert");
    assert_eq!(t.lookup(&"bob".into()), Ok(vec![("bob".to_string(), me)]));
    assert!(t.member(&"bob".into()).expect("member"));
    assert_eq!(t.take(&"bob".into()), Ok(vec![("bob".to_string(), me)]));
    assert_eq!(t.get(&"bob".into()), Ok(None));
}

#[test]
fn the_four_types() {
    let rows = [(1, 'a'), (1, 'a'), (1, 'b'), (0, 'z')];
    let contents = |kind| {
        let t: TypedTable<(u8, char)> =
            TypedTable::new("typed_kinds", Options::new().kind(kind)).expect("new");
        t.insert_many(rows).expect("insert");
        (t.lookup(&1).expect("lookup"), t.len().expect("len"))
    };
    assert_eq!(contents(TableType::Set), (vec![(1, 'b')], 2));
    assert_eq!(contents(TableType::OrderedSet), (vec![(1, 'b')], 2));
    assert_eq!(contents(TableType::Bag), (vec![(1, 'a'), (1, 'b')], 3));
    assert_eq!(
        contents(TableType::DuplicateBag),
        (vec![(1, 'a'), (1, 'a'), (1, 'b')], 4)
    );
}

#[test]
fn ordered_tables_walk_in_key_order() {
    let t: TypedTable<(i32, &'static str)> =
        TypedTable::new("typed_ordered", Options::ordered_set()).expect("new");
    t.insert_many([(3, "c"), (1, "a"), (2, "b")])
        .expect("insert");
    assert_eq!(t.first(), Ok(Some(1)));
    assert_eq!(t.next(&1), Ok(Some(2)));
    assert_eq!(t.prev(&1), Ok(None));
    assert_eq!(t.last(), Ok(Some(3)));
    assert_eq!(
        t.tab2list().expect("tab2list"),
        vec![(1, "a"), (2, "b"), (3, "c")]
    );
    assert_eq!(t.select_reverse(|r| Some(r.0)), Ok(vec![3, 2, 1]));
    assert_eq!(
        t.foldr(String::new(), |s, r| s + r.1),
        Ok("cba".to_string())
    );
}

#[test]
fn update_is_a_compare_and_swap() {
    let t: TypedTable<(String, u64)> =
        TypedTable::new("typed_counter", Options::set()).expect("new");
    assert_eq!(
        t.update(&"hits".into(), |(k, n)| (k.clone(), n + 1)),
        Ok(None)
    );
    assert_eq!(
        t.update_or_insert(&"hits".into(), ("hits".into(), 0), |(k, n)| (
            k.clone(),
            n + 1
        )),
        Ok(("hits".to_string(), 1))
    );
    assert_eq!(
        t.update(&"hits".into(), |(k, n)| (k.clone(), n + 10)),
        Ok(Some(("hits".to_string(), 11)))
    );
    assert_eq!(
        t.update(&"hits".into(), |(_, n)| ("other".into(), *n)),
        Err(EtsError::KeyChanged)
    );
    let bag: TypedTable<(u8, u8)> = TypedTable::new("typed_bag", Options::bag()).expect("new");
    assert_eq!(
        bag.update(&1, |r| *r),
        Err(EtsError::WrongType(TableType::Bag))
    );
}

#[test]
fn select_count_delete_replace_and_limits() {
    let t: TypedTable<(u32, u32)> =
        TypedTable::new("typed_select", Options::ordered_set()).expect("new");
    t.insert_many((0..100).map(|i| (i, i % 10)))
        .expect("insert");
    assert_eq!(t.select_count(|r| r.1 == 0), Ok(10));
    assert_eq!(t.select_delete(|r| r.1 == 0), Ok(10));
    assert_eq!(t.len(), Ok(90));
    assert_eq!(
        t.select_replace(|r| (r.1 == 1).then_some((r.0, 100))),
        Ok(10)
    );
    assert_eq!(t.get(&11), Ok(Some((11, 100))));
    assert_eq!(
        t.select_replace(|r| Some((r.0 + 1, r.1))),
        Err(EtsError::KeyChanged)
    );
    let mut got = Vec::new();
    let mut next = t
        .select_limit(7, |r| (r.1 == 100).then_some(r.0))
        .expect("select_limit");
    while let Some((chunk, cont)) = next {
        assert!(chunk.len() <= 7);
        got.extend(chunk);
        next = cont.next().expect("continue");
    }
    assert_eq!(got, (0..10).map(|i| i * 10 + 1).collect::<Vec<_>>());
}

// Closures run with no lock held: a closure may call back into the same table.
#[test]
fn closures_may_use_the_table() {
    let t: TypedTable<(u32, u32)> =
        TypedTable::new("typed_reentrant", Options::set().public()).expect("new");
    t.insert_many((0..300).map(|i| (i, 0))).expect("insert");
    let inner = t.clone();
    let seen = t
        .select(|r| {
            inner
                .update(&r.0, |(k, n)| (*k, n + 1))
                .expect("update from inside select")
                .map(|r| r.1)
        })
        .expect("select");
    assert_eq!(seen, vec![1; 300]);
    assert_eq!(t.select_count(|r| r.1 == 1), Ok(300));
}

#[test]
fn named_typed_tables_are_found_by_type() {
    let t: TypedTable<(u8, u8)> =
        TypedTable::new("typed_named", Options::set().named_table()).expect("new");
    assert!(TypedTable::<(u8, u8)>::whereis("typed_named").is_some());
    assert!(
        TypedTable::<(u16, u8)>::whereis("typed_named").is_none(),
        "another record type"
    );
    assert!(
        ets::Table::whereis("typed_named").is_none(),
        "not a Term table"
    );
    t.delete_table().expect("delete");
}
