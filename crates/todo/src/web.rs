//! The HTTP interface (the book's `Todo.Web`): HTTP/1.1 with keep-alive, on `std::net` sockets,
//! request heads read by `httparse` (the HTTP/1 parser of the `hyper` project).
//!
//! | route | parameters (query string) | answer |
//! |---|---|---|
//! | `POST /add_entry` | `list`, `date` (YYYY-MM-DD), `title` | 200 `OK` once durable |
//! | `GET /entries` | `list`, `date` | 200, one `YYYY-MM-DD title` line per entry |
//! | `POST /update_entry` | `list`, `id`, and `date` and/or `title` | 200 `OK`, 404 if no such entry |
//! | `POST /delete_entry` | `list`, `id` | 200 `OK`, 404 if no such entry |
//! | anything else | | 404 `not found` (405 for a known path with the wrong method) |
//!
//! Missing or malformed parameters get a 400 with a one-line message; a request the server
//! cannot read gets a 400 (or 413, 431, 501, 505) and its connection is closed. Bodies are
//! read and ignored (the book's client sends `curl -d ''`); chunked bodies are refused.
//!
//! # Processes
//!
//! The web child is a *listener* process that owns the listening socket and keeps a pool of
//! [`ACCEPTORS`] acceptor processes linked to it (Ranch's design). An acceptor accepts a
//! connection and serves its requests in turn, in its own process, until the client closes
//! it; then it accepts the next. A request is read, routed and answered by one thread, with
//! no hand-off (an HTTP library with its own connection threads cost two thread switches per
//! request, more than the routes themselves). If handling a request panics, that request
//! gets a 500, its connection is closed, its acceptor dies, and the listener (which traps
//! exits) starts another: nothing else is affected. When the listener ends (killed, or its
//! supervisor shuts it down), its acceptors die with it: an exit hook wakes those waiting in
//! `accept`, and those waiting for a request notice within [`READ_TICK`], so the port is
//! free again at once for the restart, which retries its bind briefly.
//!
//! At most [`ACCEPTORS`] connections are served at once; more wait in the kernel's backlog.
//!
//! `GET /entries` reads the list from the lists table ([`Cache::entries`]) without a message
//! to any process; the other routes go through the list's server.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use runtime::{
    Exit, ExitReason, Pid, add_exit_hook, checkpoint, exit_self, receive, self_pid, spawn_link,
    trap_exit,
};
use supervisor::ChildSpec;

use crate::cache::Cache;
use crate::date::Date;
use crate::server::TodoError;

/// How many acceptor processes serve connections concurrently.
pub const ACCEPTORS: usize = 64;

/// How often a connection waiting for its next request checks that its process is alive.
const READ_TICK: Duration = Duration::from_millis(250);
/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 16 << 10;
/// The most header lines a request may have.
const MAX_HEADERS: usize = 64;
/// The largest request body read (and ignored).
const MAX_BODY: usize = 1 << 20;

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
        let socket = bind(wanted)?;
        let port = socket
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| ExitReason::custom(format!("cannot read the bound port: {e}")))?;
        bound.store(port, Ordering::Release);
        let supervisor = self_pid();
        Ok(spawn_link(move || listener(socket, port, supervisor)))
    })
}

fn bind(port: u16) -> Result<Arc<TcpListener>, ExitReason> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match TcpListener::bind(("0.0.0.0", port)) {
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
fn listener(socket: Arc<TcpListener>, port: u16, supervisor: Pid) {
    trap_exit(true);
    // Acceptors blocked in accept() wake up on a connection: give each one, after telling
    // them to stop (the hook runs before the exit signals reach them through their links).
    let closing = Arc::new(AtomicBool::new(false));
    let stop = closing.clone();
    let _ = add_exit_hook(self_pid(), move |_, _| {
        stop.store(true, Ordering::SeqCst);
        for _ in 0..ACCEPTORS {
            let _ = TcpStream::connect_timeout(
                &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_millis(50),
            );
        }
    });
    let start = |socket: &Arc<TcpListener>| {
        let (s, c) = (socket.clone(), closing.clone());
        spawn_link(move || acceptor(s, c))
    };
    for _ in 0..ACCEPTORS {
        start(&socket);
    }
    loop {
        let e: Exit = receive();
        if e.from == supervisor {
            exit_self(e.reason);
        }
        // An acceptor died (a request's handler panicked): replace it.
        start(&socket);
    }
}

fn acceptor(socket: Arc<TcpListener>, closing: Arc<AtomicBool>) {
    loop {
        checkpoint();
        match socket.accept() {
            Ok((stream, _)) => {
                // A connection made to wake this process when its listener ended stops it.
                if closing.load(Ordering::SeqCst) {
                    return;
                }
                serve(&stream, &closing);
            }
            Err(e) => match e.kind() {
                io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted => {}
                // Out of file descriptors, for instance: let others close some.
                _ => std::thread::sleep(Duration::from_millis(10)),
            },
        }
    }
}

/// An HTTP method, as far as the routes care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Other(String),
}

impl Method {
    fn parse(s: &str) -> Method {
        match s {
            "GET" => Method::Get,
            "POST" => Method::Post,
            other => Method::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Get => f.write_str("GET"),
            Method::Post => f.write_str("POST"),
            Method::Other(m) => f.write_str(m),
        }
    }
}

/// What was read off a connection.
enum Incoming {
    /// A request: method, target, and whether the connection stays open after the answer.
    Request(Method, String, bool),
    /// The client closed the connection (or it failed) between requests.
    Closed,
    /// A request that cannot be served: answer this and close.
    Bad(u16, &'static str),
}

/// Reads into `buf` until `done` says how many bytes it needs, waking every [`READ_TICK`]
/// to check that this process is alive. `None`: the connection closed or failed.
fn fill(
    stream: &TcpStream,
    closing: &AtomicBool,
    buf: &mut Vec<u8>,
    mut enough: impl FnMut(&[u8]) -> bool,
) -> Option<()> {
    let mut chunk = [0u8; 4096];
    while !enough(buf) {
        match (&*stream).read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if closing.load(Ordering::SeqCst) {
                    return None;
                }
                checkpoint();
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(())
}

/// A complete request head: its length in the buffer, method, target, whether the connection
/// stays open after the answer, and the body's length.
struct Head {
    len: usize,
    method: Method,
    target: String,
    keep_alive: bool,
    body: usize,
}

/// Parses a request head at the start of `buf` with `httparse`: `None` if more bytes are
/// needed; the status and one-line reason to answer (then close) if it cannot be served.
fn parse_head(buf: &[u8]) -> Option<Result<Head, (u16, &'static str)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Partial) => return None,
        Ok(httparse::Status::Complete(len)) => len,
        Err(httparse::Error::Version) => {
            return Some(Err((505, "only HTTP/1.0 and HTTP/1.1 are served")));
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Some(Err((431, "too many header lines")));
        }
        Err(_) => return Some(Err((400, "malformed request head"))),
    };
    Some(head_of(&req, len))
}

/// What the routes need from a parsed head.
fn head_of(req: &httparse::Request<'_, '_>, len: usize) -> Result<Head, (u16, &'static str)> {
    if len > MAX_HEAD {
        return Err((431, "the request head is too large"));
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err((400, "malformed request line"));
    };
    // HTTP/1.1 keeps the connection open unless told otherwise; HTTP/1.0 closes it.
    let mut keep_alive = version == 1;
    let mut body = 0usize;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value).map(str::trim);
        if h.name.eq_ignore_ascii_case("content-length") {
            match value.map(str::parse::<usize>) {
                Ok(Ok(n)) if n <= MAX_BODY => body = n,
                Ok(Ok(_)) => return Err((413, "the request body is too large")),
                _ => return Err((400, "malformed Content-Length")),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err((501, "chunked request bodies are not supported"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = value.unwrap_or("").to_ascii_lowercase();
            if v.contains("close") {
                keep_alive = false;
            } else if v.contains("keep-alive") {
                keep_alive = true;
            }
        }
    }
    Ok(Head {
        len,
        method: Method::parse(method),
        target: target.to_owned(),
        keep_alive,
        body,
    })
}

/// Reads the next request from `buf` (and the connection), consuming it from `buf`.
fn read_request(stream: &TcpStream, closing: &AtomicBool, buf: &mut Vec<u8>) -> Incoming {
    let mut parsed = None;
    let filled = fill(stream, closing, buf, |b| {
        parsed = match parse_head(b) {
            None if b.len() > MAX_HEAD => Some(Err((431, "the request head is too large"))),
            p => p,
        };
        parsed.is_some()
    });
    if filled.is_none() {
        return Incoming::Closed;
    }
    let head = match parsed {
        Some(Ok(head)) => head,
        Some(Err((code, why))) => return Incoming::Bad(code, why),
        None => return Incoming::Closed,
    };
    // The body is read and dropped (the routes take their parameters from the query).
    let total = head.len + head.body;
    if fill(stream, closing, buf, |b| b.len() >= total).is_none() {
        return Incoming::Closed;
    }
    buf.drain(..total);
    Incoming::Request(head.method, head.target, head.keep_alive)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Writes one answer (in one write); errors are the client's problem.
fn respond(stream: &TcpStream, code: u16, body: &str, keep_alive: bool) {
    let connection = if keep_alive {
        ""
    } else {
        "Connection: close\r\n"
    };
    let mut out = Vec::with_capacity(128 + body.len());
    let _ = write!(
        out,
        "HTTP/1.1 {code} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{connection}\r\n",
        reason(code),
        body.len()
    );
    out.extend_from_slice(body.as_bytes());
    let _ = (&*stream).write_all(&out);
}

/// Answers 500 if the request was not answered (its handler panicked).
struct Guard<'a>(Option<&'a TcpStream>);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            respond(s, 500, "internal error: the request handler crashed", false);
        }
    }
}

/// Serves the requests of one connection until it closes.
fn serve(stream: &TcpStream, closing: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(READ_TICK));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        match read_request(stream, closing, &mut buf) {
            Incoming::Closed => return,
            Incoming::Bad(code, why) => {
                respond(stream, code, why, false);
                return;
            }
            Incoming::Request(method, target, keep_alive) => {
                let mut guard = Guard(Some(stream));
                if PANICS
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    panic!("injected fault in the handler of {target}");
                }
                let (code, body) = route(&method, &target);
                guard.0 = None;
                respond(stream, code, &body, keep_alive);
                if !keep_alive {
                    return;
                }
            }
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

/// An answer: status and body.
pub(crate) type Answer = (u16, String);

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

    /// The request head as `httparse` reads it: more bytes wanted until the blank line, the
    /// head's length (a pipelined request after it left alone), keep-alive by version and
    /// header, and each unreadable head's status.
    #[test]
    fn request_heads_are_parsed_and_bad_ones_get_their_status() {
        let get = b"GET /entries?list=a&date=2018-12-19 HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..get.len() {
            assert!(parse_head(&get[..cut]).is_none(), "cut at {cut}");
        }
        let mut two = get.to_vec();
        two.extend_from_slice(b"POST /add_entry HTTP/1.1\r\n");
        let Some(Ok(h)) = parse_head(&two) else {
            panic!("a complete head")
        };
        assert_eq!(h.len, get.len());
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.target, "/entries?list=a&date=2018-12-19");
        assert!(h.keep_alive);
        assert_eq!(h.body, 0);
        let Some(Ok(h)) = parse_head(b"POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc") else {
            panic!("a complete head")
        };
        assert!(!h.keep_alive, "HTTP/1.0 closes");
        assert_eq!(h.body, 3);
        let Some(Ok(h)) = parse_head(b"GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") else {
            panic!("a complete head")
        };
        assert!(h.keep_alive, "unless asked to keep the connection");
        let status = |raw: &[u8]| match parse_head(raw) {
            Some(Err((code, _))) => code,
            other => panic!(
                "{:?}: {:?}",
                String::from_utf8_lossy(raw),
                other.map(|h| h.map(|h| h.len))
            ),
        };
        assert_eq!(status(b"NONSENSE\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400);
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nContent-Length: 9999999999\r\n\r\n"),
            413
        );
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X-A: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(status(many.as_bytes()), 431);
        let long = format!("GET / HTTP/1.1\r\nX-A: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(status(long.as_bytes()), 431);
    }
}
