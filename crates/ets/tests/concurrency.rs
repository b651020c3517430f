//! Many threads inserting, deleting, updating and traversing at once: atomicity of single-object
//! operations and list inserts, no torn objects, no panic, no deadlock. Each scenario runs for
//! several rounds with different thread counts, so the interleavings differ; threads start
//! together on a barrier and are joined, never synchronised by sleeping.

use std::collections::HashSet;
use std::sync::Barrier;
use std::thread;

use ets::{Options, Table, TableType, Term, TypedTable, any, var};

const KINDS: [TableType; 4] = [
    TableType::Set,
    TableType::OrderedSet,
    TableType::Bag,
    TableType::DuplicateBag,
];

/// Runs `body(thread_index)` on `n` threads started together.
fn together(n: usize, body: impl Fn(usize) + Sync) {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        for i in 0..n {
            let (barrier, body) = (&barrier, &body);
            s.spawn(move || {
                barrier.wait();
                body(i);
            });
        }
    });
}

/// Objects are `{K, V, V}`: a reader that ever sees the two copies of V differ saw a torn object.
fn obj(k: i64, v: i64) -> Term {
    Term::tuple([Term::Int(k), Term::Int(v), Term::Int(v)])
}

fn whole(o: &Term) -> bool {
    matches!(o.as_tuple(), Some([_, a, b]) if a == b)
}

#[test]
fn writers_and_traversals_never_tear_or_fail() {
    let rounds = [2usize, 4, 8]
        .into_iter()
        .flat_map(|n| [(n, false), (n, true)]);
    for (round, (threads, rc)) in rounds.enumerate() {
        for kind in KINDS {
            let opts = Options::new().kind(kind).public().read_concurrency(rc);
            let t = Table::new("torn", opts).expect("new");
            together(threads, |i| {
                if i % 2 == 0 {
                    for n in 0..2000i64 {
                        let k = (n * 7 + i as i64) % 300;
                        match n % 5 {
                            0 => t.delete(k).expect("delete"),
                            1 => t
                                .insert_many([obj(k, n), obj(k + 1, n)])
                                .expect("insert_many"),
                            _ => t.insert(obj(k, n)).expect("insert"),
                        }
                    }
                } else {
                    for _ in 0..10 {
                        for k in 0..300 {
                            assert!(t.lookup(k).expect("lookup").iter().all(whole));
                        }
                        assert!(t.tab2list().expect("tab2list").iter().all(whole));
                        let n = t.foldl(0, |n, o| {
                            assert!(whole(&o));
                            n + 1
                        });
                        assert!(n.is_ok());
                        let m = t
                            .match_object((any(), var(1), var(1)))
                            .expect("match_object");
                        assert!(m.iter().all(whole));
                        // first/next may lose its key to a concurrent delete in a hash table.
                        let mut k = t.first().expect("first");
                        while let Some(key) = k {
                            k = match t.next(key) {
                                Ok(k) => k,
                                Err(ets::EtsError::TraversalKeyGone) => None,
                                Err(e) => panic!("round {round}: {e}"),
                            };
                        }
                    }
                }
            });
            assert!(t.tab2list().expect("tab2list").iter().all(whole));
            t.delete_table().expect("delete");
        }
    }
}

#[test]
fn counters_lose_no_update() {
    for (threads, rc) in [(2usize, false), (8, true), (16, false), (16, true)] {
        for kind in [TableType::Set, TableType::OrderedSet] {
            let opts = Options::new().kind(kind).public().read_concurrency(rc);
            let t = Table::new("count", opts).expect("new");
            together(threads, |_| {
                for n in 0..500 {
                    let default = Some(Term::tuple([Term::Int(0), Term::Int(0)]));
                    t.update_counters(n % 10, &[ets::CounterOp::incr(1)], default)
                        .expect("update_counter");
                }
            });
            let total: i64 = t
                .tab2list()
                .expect("tab2list")
                .iter()
                .map(|o| o.as_tuple().expect("tuple")[1].as_int().expect("int"))
                .sum();
            assert_eq!(total, threads as i64 * 500);
            t.delete_table().expect("delete");
        }
    }
}

#[test]
fn typed_updates_lose_no_update() {
    for threads in [2usize, 8] {
        let t: TypedTable<(u32, u64)> =
            TypedTable::new("typed_count", Options::set().public()).expect("new");
        together(threads, |_| {
            for n in 0..500u32 {
                t.update_or_insert(&(n % 5), (n % 5, 0), |(k, c)| (*k, c + 1))
                    .expect("update");
            }
        });
        let total: u64 = t.tab2list().expect("tab2list").iter().map(|r| r.1).sum();
        assert_eq!(total, threads as u64 * 500);
    }
}

/// List inserts are atomic against delete_all_objects (also atomic): afterwards every pair is
/// either wholly present or wholly absent.
#[test]
fn list_inserts_and_clears_are_atomic() {
    for (round, threads) in [3usize, 5].into_iter().enumerate() {
        for kind in KINDS {
            let t = Table::new("pairs", Options::new().kind(kind).public()).expect("new");
            together(threads, |i| {
                if i == 0 {
                    for _ in 0..50 {
                        t.delete_all_objects().expect("clear");
                    }
                } else {
                    for n in 0..400i64 {
                        let id = (i as i64) * 10_000 + n;
                        // Two keys far apart: different shards, likely different partitions.
                        t.insert_many([obj(id, 1), obj(-id, 1)])
                            .expect("insert_many");
                    }
                }
            });
            let keys: HashSet<i64> = t
                .tab2list()
                .expect("tab2list")
                .iter()
                .map(|o| o.as_tuple().expect("tuple")[0].as_int().expect("int"))
                .collect();
            for k in &keys {
                assert!(
                    keys.contains(&-k),
                    "round {round} {kind:?}: half a pair for {k}"
                );
            }
            t.delete_table().expect("delete");
        }
    }
}

/// insert_new with a list: of threads racing to claim the same keys in different orders,
/// exactly one wins, and the table holds only its objects.
#[test]
fn insert_new_lists_race_to_one_winner() {
    for threads in [2usize, 6, 12] {
        for kind in KINDS {
            let t = Table::new("claims", Options::new().kind(kind).public()).expect("new");
            let wins = std::sync::atomic::AtomicUsize::new(0);
            together(threads, |i| {
                let mut keys: Vec<i64> = (0..20).collect();
                keys.rotate_left(i % 20);
                let objs = keys.iter().map(|&k| obj(k, i as i64));
                if t.insert_new_many(objs).expect("insert_new") {
                    wins.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
            assert_eq!(wins.into_inner(), 1);
            let owners: HashSet<Term> = t
                .tab2list()
                .expect("tab2list")
                .iter()
                .map(|o| o.as_tuple().expect("tuple")[1].clone())
                .collect();
            assert_eq!(owners.len(), 1);
            assert_eq!(t.len(), Ok(20));
            t.delete_table().expect("delete");
        }
    }
}

/// Many writers on an ordered_set (which splits its contended partitions) lose nothing and
/// keep term order; concurrent next/prev walks always move in order.
#[test]
fn ordered_set_under_many_writers() {
    for threads in [4usize, 16] {
        let t = Table::new("ordered_writers", Options::ordered_set().public()).expect("new");
        let per = 3000i64;
        together(threads, |i| {
            if i == 0 {
                for _ in 0..20 {
                    let mut prev: Option<Term> = None;
                    let mut k = t.first().expect("first");
                    while let Some(key) = k {
                        if let Some(p) = &prev {
                            assert!(p.compare(&key).is_lt(), "{p} before {key}");
                        }
                        k = t
                            .next(key.clone())
                            .expect("next never fails on ordered_set");
                        prev = Some(key);
                    }
                }
            } else {
                for n in 0..per {
                    let k = n * threads as i64 + i as i64;
                    t.insert(obj(k, k)).expect("insert");
                    if n % 3 == 0 {
                        t.delete(k).expect("delete");
                    }
                }
            }
        });
        let keys: Vec<i64> = t
            .tab2list()
            .expect("tab2list")
            .iter()
            .map(|o| o.as_tuple().expect("tuple")[0].as_int().expect("int"))
            .collect();
        let mut want: Vec<i64> = (1..threads)
            .flat_map(|i| {
                (0..per)
                    .filter(|n| n % 3 != 0)
                    .map(move |n| n * threads as i64 + i as i64)
            })
            .collect();
        want.sort();
        assert_eq!(keys, want);
        let back = t.select_reverse(Term::list([Term::tuple([
            Term::from((var(1), any(), any())),
            Term::nil(),
            Term::list([var(1)]),
        ])]));
        let mut rev = want.clone();
        rev.reverse();
        assert_eq!(back, Ok(rev.into_iter().map(Term::Int).collect()));
        t.delete_table().expect("delete");
    }
}

/// Continuations keep working while other threads write: each chunk is whole, and an
/// ordered_set continuation never goes backwards.
#[test]
fn continuations_under_writes() {
    for kind in [TableType::OrderedSet, TableType::Set] {
        let t = Table::new("cont_writes", Options::new().kind(kind).public()).expect("new");
        t.insert_many((0..2000).map(|k| obj(k, k))).expect("insert");
        together(3, |i| {
            if i == 0 {
                let ms = Term::list([Term::tuple([
                    Term::from((var(1), any(), any())),
                    Term::nil(),
                    Term::list([atom_all()]),
                ])]);
                let mut last: Option<Term> = None;
                let mut next = t.select_limit(ms, 50).expect("select");
                while let Some((chunk, cont)) = next {
                    for o in &chunk {
                        assert!(whole(o));
                        let k = o.as_tuple().expect("tuple")[0].clone();
                        if kind == TableType::OrderedSet {
                            if let Some(l) = &last {
                                assert!(l.compare(&k).is_lt());
                            }
                            last = Some(k);
                        }
                    }
                    next = cont.next().expect("continue");
                }
            } else {
                for n in 0..3000i64 {
                    let k = (n * 13 + i as i64) % 4000;
                    if n % 2 == 0 {
                        t.insert(obj(k, n)).expect("insert");
                    } else {
                        t.delete(k).expect("delete");
                    }
                }
            }
        });
        t.delete_table().expect("delete");
    }
}

fn atom_all() -> Term {
    Term::atom("$_")
}

/// Handles cross threads freely: they are `Send + Sync`, and so are the results and errors.
#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Table>();
    send_sync::<TypedTable<(String, runtime::Pid)>>();
    send_sync::<Term>();
    send_sync::<ets::EtsError>();
    send_sync::<ets::Continuation>();
    send::<ets::TypedContinuation<(u8, u8), u8>>();
}
