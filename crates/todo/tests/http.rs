//! The HTTP interface over real connections (a tiny client on `std::net::TcpStream`, the
//! system on a port the OS chooses, 127.0.0.1 only).

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected error

mod common;

use common::{data_dir, exclusive, http, start_web, try_http};
use runtime::{Down, ExitReason, exit, monitor, receive_match};
use supervisor::{ChildPid, DynamicSupervisor, Supervisor};
use todo::{Cache, SERVER_SUPERVISOR, SYSTEM_SUPERVISOR_NAME};

#[test]
fn book_add_entry_then_entries() {
    // sasa1977/elixir-in-action `todo_release/test/http_server_test.exs`: "http server":
    // POST /add_entry, then GET /entries returns "2018-12-19 Dentist".
    let _x = exclusive();
    let dir = data_dir("http-book");
    let (system, port) = start_web(&dir);
    let add = "/add_entry?list=test_list&date=2018-12-19&title=Dentist";
    assert_eq!(http(port, "POST", add), (200, "OK".to_owned()));
    assert_eq!(
        http(port, "GET", "/entries?list=test_list&date=2018-12-19"),
        (200, "2018-12-19 Dentist".to_owned())
    );
    // Another day of the same list: an empty body, as in the book.
    assert_eq!(
        http(port, "GET", "/entries?list=test_list&date=2018-12-20"),
        (200, String::new())
    );
    system.stop().unwrap();
}

#[test]
fn bad_requests_get_400_404_405_with_a_one_line_message() {
    let _x = exclusive();
    let dir = data_dir("http-bad");
    let (system, port) = start_web(&dir);
    let cases = [
        ("GET", "/nowhere", 404),
        ("GET", "/", 404),
        ("GET", "/add_entry?list=a&date=2018-12-19&title=x", 405),
        ("POST", "/entries?list=a&date=2018-12-19", 405),
        ("DELETE", "/delete_entry?list=a&id=1", 405),
        ("GET", "/entries?date=2018-12-19", 400),
        ("GET", "/entries?list=&date=2018-12-19", 400),
        ("GET", "/entries?list=a&date=2018-02-30", 400),
        ("GET", "/entries?list=a&date=tomorrow", 400),
        ("GET", "/entries?list=a", 400),
        ("POST", "/add_entry?list=a&date=2018-12-19", 400),
        ("POST", "/update_entry?list=a&id=x&title=t", 400),
        ("POST", "/update_entry?list=a&id=1", 400),
        ("POST", "/delete_entry?list=a", 400),
        ("GET", "/entries?list=%zz&date=2018-12-19", 400),
    ];
    for (method, target, code) in cases {
        let (got, body) = http(port, method, target);
        assert_eq!(got, code, "{method} {target}: {body:?}");
        assert!(
            !body.is_empty() && !body.contains('\n'),
            "{method} {target}: one-line message, got {body:?}"
        );
    }
    // None of them disturbed the system.
    assert_eq!(
        http(
            port,
            "POST",
            "/add_entry?list=a&date=2018-12-19&title=still+fine"
        )
        .0,
        200
    );
    assert_eq!(
        http(port, "GET", "/entries?list=a&date=2018-12-19").1,
        "2018-12-19 still fine"
    );
    system.stop().unwrap();
}

#[test]
fn update_and_delete_routes() {
    let _x = exclusive();
    let dir = data_dir("http-update");
    let (system, port) = start_web(&dir);
    let list = "Bob%27s+list";
    for title in ["Dentist", "Movies"] {
        let add = format!("/add_entry?list={list}&date=2018-12-19&title={title}");
        assert_eq!(http(port, "POST", &add).0, 200);
    }
    let get = format!("/entries?list={list}&date=2018-12-19");
    assert_eq!(
        http(port, "GET", &get).1,
        "2018-12-19 Dentist\n2018-12-19 Movies"
    );

    let update = format!("/update_entry?list={list}&id=1&title=Dentist+at+10");
    assert_eq!(http(port, "POST", &update), (200, "OK".to_owned()));
    let moved = format!("/update_entry?list={list}&id=2&date=2018-12-20");
    assert_eq!(http(port, "POST", &moved).0, 200);
    assert_eq!(http(port, "GET", &get).1, "2018-12-19 Dentist at 10");
    assert_eq!(
        http(
            port,
            "GET",
            &format!("/entries?list={list}&date=2018-12-20")
        )
        .1,
        "2018-12-20 Movies"
    );

    assert_eq!(
        http(port, "POST", &format!("/delete_entry?list={list}&id=1")),
        (200, "OK".to_owned())
    );
    assert_eq!(http(port, "GET", &get), (200, String::new()));
    // A missing entry: 404 with a message naming it.
    let (code, body) = http(port, "POST", &format!("/delete_entry?list={list}&id=1"));
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("no entry 1"), "{body}");
    let (code, _) = http(
        port,
        "POST",
        &format!("/update_entry?list={list}&id=9&title=x"),
    );
    assert_eq!(code, 404);
    // Ids are never reused.
    let add = format!("/add_entry?list={list}&date=2018-12-19&title=Again");
    assert_eq!(http(port, "POST", &add).0, 200);
    let s = Cache::server_process("Bob's list").unwrap();
    let ids: Vec<u64> = s
        .entries(common::date("2018-12-19"))
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [3]);
    system.stop().unwrap();
}

/// The web listener's pid (the `web` child of the system supervisor).
fn listener() -> runtime::Pid {
    let children = Supervisor::named(SYSTEM_SUPERVISOR_NAME)
        .which_children()
        .unwrap();
    match children
        .iter()
        .find(|c| c.id.as_deref() == Some("web"))
        .map(|c| c.pid)
    {
        Some(ChildPid::Pid(p)) => p,
        other => panic!("no web listener: {other:?}"),
    }
}

#[test]
fn a_crashing_request_costs_only_that_request() {
    let _x = exclusive();
    let dir = data_dir("http-crash");
    let (system, port) = start_web(&dir);
    assert_eq!(
        http(
            port,
            "POST",
            "/add_entry?list=a&date=2018-12-19&title=before"
        )
        .0,
        200
    );
    let web = listener();
    // The next request's handler panics (a test hook standing for a bug in a handler).
    todo::inject_handler_panics(1);
    let (code, body) = http(port, "GET", "/entries?list=a&date=2018-12-19");
    assert_eq!(code, 500, "{body}");
    assert!(body.contains("crashed"), "{body}");
    // Everything else is as it was: the listener, the list, later requests.
    assert_eq!(listener(), web);
    for _ in 0..(2 * todo::ACCEPTORS) {
        assert_eq!(
            http(port, "GET", "/entries?list=a&date=2018-12-19"),
            (200, "2018-12-19 before".to_owned())
        );
    }
    system.stop().unwrap();
}

#[test]
fn killing_a_list_server_or_the_listener_mid_way() {
    let _x = exclusive();
    let dir = data_dir("http-kill");
    let (system, port) = start_web(&dir);
    let add = |title: &str| {
        http(
            port,
            "POST",
            &format!("/add_entry?list=k&date=2018-12-19&title={title}"),
        )
    };
    assert_eq!(add("one").0, 200);

    // The list's server is killed: the next request starts another, from disk.
    let servers = DynamicSupervisor::<()>::named(SERVER_SUPERVISOR)
        .which_children()
        .unwrap();
    assert_eq!(servers.len(), 1);
    let ChildPid::Pid(server) = servers[0].pid else {
        panic!("{servers:?}")
    };
    let m = monitor(server);
    exit(server, ExitReason::Kill);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
    assert_eq!(add("two").0, 200);
    assert_eq!(
        http(port, "GET", "/entries?list=k&date=2018-12-19").1,
        "2018-12-19 one\n2018-12-19 two"
    );

    // The listener is killed: the system supervisor starts it again on the same port.
    let web = listener();
    let m = monitor(web);
    exit(web, ExitReason::Kill);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
    // Asking the supervisor waits until it has handled the exit (and restarted the child).
    let again = listener();
    assert_ne!(again, web);
    assert_eq!(system.http_port(), Some(port));
    // The new listener accepts at once (it has bound the port before it was started).
    let (code, body) = try_http(port, "GET", "/entries?list=k&date=2018-12-19").unwrap();
    assert_eq!((code, body.lines().count()), (200, 2));
    system.stop().unwrap();
}

/// Sends `raw` on one connection and reads until the server closes it.
fn exchange(port: u16, raw: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn keep_alive_pipelining_and_unreadable_requests() {
    let _x = exclusive();
    let dir = data_dir("http-wire");
    let (system, port) = start_web(&dir);
    // Two requests pipelined on one keep-alive connection (a body read and ignored), then a
    // third that closes it: three answers, in order.
    let out = exchange(
        port,
        "POST /add_entry?list=w&date=2018-12-19&title=one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
         GET /entries?list=w&date=2018-12-19 HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    // (Bodies end without a newline, so an answer's status line follows the last body.)
    let statuses: Vec<&str> = out
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|a| a.split("\r\n").next())
        .collect();
    assert_eq!(statuses, ["200 OK", "200 OK", "404 Not Found"], "{out}");
    assert!(out.contains("\r\n\r\n2018-12-19 oneHTTP/1.1 404"), "{out}");
    // HTTP/1.0 closes after one answer unless asked otherwise.
    let out = exchange(port, "GET /entries?list=w&date=2018-12-19 HTTP/1.0\r\n\r\n");
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    // What cannot be read gets an error and the connection closes.
    for (raw, code) in [
        ("NONSENSE\r\n\r\n", "400"),
        ("GET / HTTP/2.0\r\n\r\n", "505"),
        (
            "POST /add_entry?list=w HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "501",
        ),
        ("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "400"),
    ] {
        let out = exchange(port, raw);
        assert!(
            out.starts_with(&format!("HTTP/1.1 {code} ")),
            "{raw:?}: {out}"
        );
    }
    let big = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    assert!(exchange(port, &big).starts_with("HTTP/1.1 431 "));
    // The server is still fine.
    assert_eq!(
        http(port, "GET", "/entries?list=w&date=2018-12-19").1,
        "2018-12-19 one"
    );
    system.stop().unwrap();
}
