//! Seed 000, "Understanding ETSs": the tv_shows IEx session, line by line, on the `ets` crate.
//! Each step prints the Elixir line and our result, and checks it.

use ets::{Options, Table, Term, any, var};
use examples::{Checker, banner};

fn show(terms: &[Term]) -> String {
    let rows: Vec<String> = terms.iter().map(Term::to_string).collect();
    format!("[{}]", rows.join(", "))
}

fn main() {
    let mut c = Checker::new("seed000_ets_tv_shows");
    banner("Creating an ETS table");
    println!("iex> :ets.new(:tv_shows, [:set, :private, :named_table])");
    let t = Table::new("tv_shows", Options::set().private().named_table())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("{}", t.tid());
    c.check(
        "the named table is found by its name",
        Table::whereis("tv_shows").map(|x| x.tid()) == Some(t.tid()),
    );

    banner("Inserting");
    for row in [
        ("The Flash", "Grant Gustin", 7.9),
        ("How I Met Your Mother", "Josh Radnor", 8.3),
        ("Supergirl", "Melissa Benoist", 6.4),
        ("Agents of S.H.I.E.L.D.", "Chloe Bennet", 7.5),
    ] {
        println!(
            "iex> :ets.insert(:tv_shows, {{{:?}, {:?}, {}}})",
            row.0, row.1, row.2
        );
        c.check("insert returns true", t.insert(row).is_ok());
    }
    let all = t.tab2list().unwrap_or_default();
    println!("iex> :ets.tab2list :tv_shows\n{}", show(&all));
    c.check("four shows", all.len() == 4);

    banner("Deleting");
    println!("iex> :ets.delete(:tv_shows, \"Agents of S.H.I.E.L.D.\")");
    c.check(
        "delete returns true",
        t.delete("Agents of S.H.I.E.L.D.").is_ok(),
    );
    let all = t.tab2list().unwrap_or_default();
    println!("iex> :ets.tab2list :tv_shows\n{}", show(&all));
    c.check("three shows left", all.len() == 3);

    banner("Searching");
    let found = t.lookup("The Flash").unwrap_or_default();
    println!(
        "iex> :ets.lookup(:tv_shows, \"The Flash\")\n{}",
        show(&found)
    );
    c.check(
        "lookup by key",
        found == vec![Term::from(("The Flash", "Grant Gustin", 7.9))],
    );

    let m1 = t
        .match_((var(1), "Grant Gustin", var(2)))
        .unwrap_or_default();
    println!("iex> :ets.match(:tv_shows, {{:\"$1\", \"Grant Gustin\", :\"$2\"}})\n{m1:?}");
    c.check(
        "$1 and $2 in order",
        m1 == vec![vec![Term::from("The Flash"), Term::from(7.9)]],
    );

    let m2 = t
        .match_((var(2), "Grant Gustin", var(1)))
        .unwrap_or_default();
    println!("iex> :ets.match(:tv_shows, {{:\"$2\", \"Grant Gustin\", :\"$1\"}})\n{m2:?}");
    c.check(
        "the numbers say the order",
        m2 == vec![vec![Term::from(7.9), Term::from("The Flash")]],
    );

    let m3 = t
        .match_((var(1), "Grant Gustin", any()))
        .unwrap_or_default();
    println!("iex> :ets.match(:tv_shows, {{:\"$1\", \"Grant Gustin\", :_}})\n{m3:?}");
    c.check(
        "_ leaves a field out",
        m3 == vec![vec![Term::from("The Flash")]],
    );

    banner("Access rights: the table is private");
    let other =
        runtime::Task::spawn(|| Table::whereis("tv_shows").map(|t| t.lookup("The Flash").is_err()));
    let denied = other.join().ok().flatten();
    println!("another process reading :tv_shows gets an error: {denied:?}");
    c.check(
        "another process cannot read a private table",
        denied == Some(true),
    );

    c.check("the table is deleted", t.delete_table().is_ok());
    c.finish();
}
