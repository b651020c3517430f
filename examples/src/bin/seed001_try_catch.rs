//! Seed 001, "Handling errors": `try ... catch error_type, error_value -> ... after ... end`,
//! matching on the kind of error, and "if the error is not caught down the stack then the
//! process terminates". (`seed001_fault_tolerance` shows the kinds themselves.)
//!
//! In Rust: a raise is a panic, caught with `catch_unwind`; `after` is a value whose `Drop`
//! runs however the block ends; a throw is an early `return Err(..)`; an exit caught by the
//! caller is the `Err(CallError::Exit(reason))` of a call to a process that died.
//!
//! Run with `cargo run -p examples --bin seed001_try_catch`.

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicUsize, Ordering};

use examples::{Checker, banner};
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Reply, ReplyTo, StartOpts, gen_server, processes,
    receive, self_pid, spawn_monitor,
};

/// What `catch kind, value` matched.
#[derive(Debug, PartialEq)]
enum Caught {
    /// `catch :error, e`
    Error(String),
    /// `catch :throw, v`
    Throw(i64),
    /// `catch :exit, reason`
    Exit(ExitReason),
}

static AFTER_RAN: AtomicUsize = AtomicUsize::new(0);

/// The `after` block.
struct After;

impl Drop for After {
    fn drop(&mut self) {
        AFTER_RAN.fetch_add(1, Ordering::SeqCst);
        println!("   after: runs whether or not something was raised");
    }
}

/// A server whose call exits with the reason it is given.
struct Exiter;

impl GenServer for Exiter {
    type Arg = ();
    type Call = &'static str;
    type Reply = ();
    type Cast = ();
    type Continue = ();
    fn init(_: ()) -> Init<Self> {
        Init::Ok(Exiter)
    }
    fn handle_call(&mut self, why: &'static str, _: ReplyTo<()>) -> Reply<()> {
        Reply::NoReply(runtime::Next::Stop(ExitReason::custom(why)))
    }
}

/// `try do <what> catch kind, value -> {kind, value} after ... end`
fn try_(what: &str) -> Result<i64, Caught> {
    let _after = After;
    match what {
        "raise" => catch_unwind(|| -> i64 { panic!("Something went wrong") }).map_err(|p| {
            Caught::Error(
                p.downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .unwrap_or_default(),
            )
        }),
        "throw" => {
            for x in [1, 3, 4, 5] {
                if x % 2 == 0 {
                    return Err(Caught::Throw(x)); // throw(x): a non-local return
                }
            }
            Ok(0)
        }
        "exit" => {
            let server = gen_server::start::<Exiter>((), StartOpts::new())
                .map_err(|e| Caught::Error(e.to_string()))?;
            match server.call("goodbye") {
                Err(CallError::Exit(reason)) => Err(Caught::Exit(reason)),
                other => Err(Caught::Error(format!("{other:?}"))),
            }
        }
        _ => Ok(42),
    }
}

fn main() {
    // The panic below is caught on purpose; keep the default hook from printing it.
    std::panic::set_hook(Box::new(|_| {}));
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed001_try_catch");
    let shell = self_pid();

    banner("try ... catch kind, value ... after");
    for (what, want) in [
        ("raise", Err(Caught::Error("Something went wrong".into()))),
        ("throw", Err(Caught::Throw(4))),
        ("exit", Err(Caught::Exit(ExitReason::custom("goodbye")))),
        ("nothing", Ok(42)),
    ] {
        println!("iex> try do {what} catch kind, value -> {{kind, value}} after ... end");
        let before = AFTER_RAN.load(Ordering::SeqCst);
        let got = try_(what);
        println!(
            "{}",
            match &got {
                Ok(v) => v.to_string(),
                Err(Caught::Error(m)) => format!("{{:error, %RuntimeError{{message: {m:?}}}}}"),
                Err(Caught::Throw(v)) => format!("{{:throw, {v}}}"),
                Err(Caught::Exit(r)) => format!("{{:exit, :{r}}}"),
            }
        );
        c.check(
            &format!("{what}: caught as {want:?}, and after ran once"),
            got == want && AFTER_RAN.load(Ordering::SeqCst) == before + 1,
        );
    }

    banner("Not caught down the stack: the process terminates");
    let before = AFTER_RAN.load(Ordering::SeqCst);
    let (pid, m) = spawn_monitor(|| {
        let _after = After;
        panic!("nobody catches this");
    });
    let d: Down = receive();
    println!(
        "iex> spawn(fn -> raise \"nobody catches this\" end)\n   {pid} exited: {}",
        d.reason
    );
    c.check(
        "the uncaught panic ended the process with its message (after still ran)",
        d.monitor == m
            && matches!(d.reason, ExitReason::Panic(ref s) if &**s == "nobody catches this")
            && AFTER_RAN.load(Ordering::SeqCst) == before + 1,
    );
    c.check("the shell is unaffected", runtime::is_alive(shell));
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
