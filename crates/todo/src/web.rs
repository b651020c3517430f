//! The HTTP interface (the book's `Todo.Web`), on `tiny_http`.
//!
//! | route | parameters (query string) | answer |
//! |---|---|---|
//! | `POST /add_entry` | `list`, `date` (YYYY-MM-DD), `title` | 200 `OK` once durable |
//! | `GET /entries` | `list`, `date` | 200, one `YYYY-MM-DD title` line per entry |
//! | `POST /update_entry` | `list`, `id`, and `date` and/or `title` | 200 `OK`, 404 if no such entry |
//! | `POST /delete_entry` | `list`, `id` | 200 `OK`, 404 if no such entry |
//! | anything else | | 404 `not found` (405 for a known path with the wrong method) |
//!
//! Missing or malformed parameters get a 400 with a one-line message.
//!
//! # Processes
//!
//! The web child is a *listener* process that owns the socket (through `tiny_http`, whose
//! threads read requests off the connections) and a pool of [`ACCEPTORS`] acceptor processes
//! linked to it, each taking the next request and answering it (as Ranch's acceptor pool
//! does; a process per request cost a spawn and a hand-off more on every request). If
//! handling a request panics, that request gets a 500, its acceptor dies, and the listener
//! (which traps exits) starts another: nothing else is affected. When the listener ends
//! (killed, or its supervisor shuts it down), its acceptors die with it and an exit hook
//! unblocks them, so the port is released at once for its restart.
//!
//! `GET /entries` reads the list from the lists table ([`Cache::entries`]) without a message
//! to any process; the other routes go through the list's server.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use runtime::{
    Exit, ExitReason, Pid, add_exit_hook, checkpoint, exit_self, receive, self_pid, spawn_link,
    trap_exit,
};
use supervisor::ChildSpec;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::cache::Cache;
use crate::date::Date;
use crate::server::TodoError;

/// How many acceptor processes answer requests concurrently (a request waiting for its
/// write to be durable holds one).
pub const ACCEPTORS: usize = 64;

/// The web server's child spec.
pub struct Web;

impl Web {
    /// Binds `port` (retrying briefly: a previous incarnation may still be letting go of it),
    /// then starts the listener as a process linked to the caller. Port 0 lets the operating
    /// system choose one the first time; a restart binds the same one again.
    pub fn child_spec(port: u16) -> ChildSpec {
        child_spec_sharing(port, Arc::new(AtomicU16::new(0)))
    }
}

/// As [`Web::child_spec`], recording the bound port in `bound` (read by
/// [`TodoSystem::http_port`](crate::TodoSystem::http_port)).
pub(crate) fn child_spec_sharing(port: u16, bound: Arc<AtomicU16>) -> ChildSpec {
    ChildSpec::worker("web", move || -> Result<Pid, ExitReason> {
        let wanted = match bound.load(Ordering::Acquire) {
            0 => port,
            p => p,
        };
        let server = bind(wanted)?;
        if let Some(addr) = server.server_addr().to_ip() {
            bound.store(addr.port(), Ordering::Release);
        }
        let supervisor = self_pid();
        Ok(spawn_link(move || listener(server, supervisor)))
    })
}

fn bind(port: u16) -> Result<Arc<Server>, ExitReason> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match Server::http(("0.0.0.0", port)) {
            Ok(s) => return Ok(Arc::new(s)),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(ExitReason::custom(format!(
                    "cannot listen on port {port}: {e}"
                )));
            }
        }
    }
}

/// Owns the socket, keeps [`ACCEPTORS`] acceptors running, and ends with its supervisor.
fn listener(server: Arc<Server>, supervisor: Pid) {
    trap_exit(true);
    let unblock = server.clone();
    let _ = add_exit_hook(self_pid(), move |_, _| {
        for _ in 0..ACCEPTORS {
            unblock.unblock();
        }
    });
    let start = |server: &Arc<Server>| {
        let s = server.clone();
        spawn_link(move || acceptor(s))
    };
    for _ in 0..ACCEPTORS {
        start(&server);
    }
    loop {
        let e: Exit = receive();
        if e.from == supervisor {
            exit_self(e.reason);
        }
        // An acceptor died (a request's handler panicked): replace it.
        start(&server);
    }
}

fn acceptor(server: Arc<Server>) {
    loop {
        checkpoint();
        match server.recv_timeout(Duration::from_millis(500)) {
            Ok(Some(request)) => handle(request),
            Ok(None) => {}
            Err(e) => exit_self(ExitReason::custom(format!("accept failed: {e}"))),
        }
    }
}

/// Test hook: the next `n` requests panic in their handler (after being read), as a bug in a
/// handler would. Not part of the API.
#[doc(hidden)]
pub fn inject_handler_panics(n: usize) {
    PANICS.store(n, Ordering::SeqCst);
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Answers 500 if the request was not answered (its handler panicked).
struct Guard(Option<Request>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            let _ = r.respond(text(500, "internal error: the request handler crashed"));
        }
    }
}

fn text(code: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let mut r = Response::from_string(body).with_status_code(code);
    if let Ok(h) = Header::from_bytes(&b"Content-Type"[..], &b"text/plain; charset=utf-8"[..]) {
        r = r.with_header(h);
    }
    r
}

/// An answer: status and body.
pub(crate) type Answer = (u16, String);

fn handle(request: Request) {
    let mut guard = Guard(Some(request));
    let Some(req) = guard.0.as_ref() else { return };
    if PANICS
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        panic!("injected fault in the handler of {}", req.url());
    }
    let (code, body) = route(req.method(), req.url());
    if let Some(req) = guard.0.take() {
        let _ = req.respond(text(code, &body));
    }
}

/// Decodes `%XX` and `+` in a query component.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

struct Params(HashMap<String, String>);

impl Params {
    fn parse(query: &str) -> Result<Params, Answer> {
        let mut m = HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(k), Some(v)) = (percent_decode(k), percent_decode(v)) else {
                return Err((400, format!("bad encoding in query parameter {pair:?}")));
            };
            m.insert(k, v);
        }
        Ok(Params(m))
    }

    fn get(&self, name: &str) -> Result<&str, Answer> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| (400, format!("missing parameter: {name}")))
    }

    fn list(&self) -> Result<&str, Answer> {
        let l = self.get("list")?;
        if l.is_empty() {
            Err((400, "the list name must not be empty".into()))
        } else {
            Ok(l)
        }
    }

    fn date(&self, name: &str) -> Result<Date, Answer> {
        self.get(name)?
            .parse::<Date>()
            .map_err(|e| (400, e.to_string()))
    }

    fn id(&self) -> Result<u64, Answer> {
        let v = self.get("id")?;
        v.parse()
            .map_err(|_| (400, format!("id must be a positive integer, not {v:?}")))
    }
}

fn failure(e: TodoError) -> Answer {
    match e {
        TodoError::EmptyName => (400, e.to_string()),
        TodoError::NoSuchEntry { .. } => (404, e.to_string()),
        TodoError::Unavailable { .. } => (503, e.to_string()),
        _ => (500, e.to_string()),
    }
}

/// Routes one request (pure but for the calls into the system).
pub(crate) fn route(method: &Method, url: &str) -> Answer {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let known = ["/add_entry", "/entries", "/update_entry", "/delete_entry"];
    let expected = match path {
        "/entries" => Method::Get,
        p if known.contains(&p) => Method::Post,
        _ => return (404, "not found".into()),
    };
    if *method != expected {
        return (405, format!("{path} expects {expected}"));
    }
    match answer(path, query) {
        Ok(a) | Err(a) => a,
    }
}

fn answer(path: &str, query: &str) -> Result<Answer, Answer> {
    let p = Params::parse(query)?;
    let list = p.list()?;
    Ok(match path {
        "/add_entry" => {
            let (date, title) = (p.date("date")?, p.get("title")?);
            let server = Cache::server_process(list).map_err(failure)?;
            server.add_entry(date, title).map_err(failure)?;
            (200, "OK".into())
        }
        "/entries" => {
            let date = p.date("date")?;
            let entries = Cache::entries(list, date).map_err(failure)?;
            let lines: Vec<String> = entries
                .iter()
                .map(|e| format!("{} {}", e.date, e.title))
                .collect();
            (200, lines.join("\n"))
        }
        "/update_entry" => {
            let id = p.id()?;
            let date = match p.0.get("date") {
                Some(_) => Some(p.date("date")?),
                None => None,
            };
            let title = p.0.get("title").cloned();
            if date.is_none() && title.is_none() {
                return Err((400, "update_entry needs a date or a title".into()));
            }
            let server = Cache::server_process(list).map_err(failure)?;
            server.update_entry(id, date, title).map_err(failure)?;
            (200, "OK".into())
        }
        _ => {
            let id = p.id()?;
            let server = Cache::server_process(list).map_err(failure)?;
            server.delete_entry(id).map_err(failure)?;
            (200, "OK".into())
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_get_a_clear_400_or_404_without_touching_the_system() {
        // None of these reach the cache: no system is running in this test.
        let cases = [
            (Method::Get, "/nowhere", 404),
            (
                Method::Get,
                "/add_entry?list=a&date=2018-12-19&title=x",
                405,
            ),
            (Method::Post, "/entries?list=a&date=2018-12-19", 405),
            (Method::Get, "/entries?date=2018-12-19", 400),
            (Method::Get, "/entries?list=&date=2018-12-19", 400),
            (Method::Get, "/entries?list=a&date=2018-13-45", 400),
            (Method::Get, "/entries?list=a", 400),
            (Method::Post, "/add_entry?list=a&date=2018-12-19", 400),
            (Method::Post, "/update_entry?list=a&id=x", 400),
            (Method::Post, "/update_entry?list=a&id=1", 400),
            (Method::Post, "/delete_entry?list=a", 400),
            (Method::Get, "/entries?list=%zz&date=2018-12-19", 400),
        ];
        for (m, url, code) in cases {
            let (got, body) = route(&m, url);
            assert_eq!(got, code, "{m} {url}: {body}");
            assert!(
                !body.is_empty() && !body.contains('\n'),
                "one-line message: {body:?}"
            );
        }
    }

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            percent_decode("Bob%27s+list").as_deref(),
            Some("Bob's list")
        );
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%4"), None);
    }
}
