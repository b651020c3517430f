//! Seed 001, "Fault tolerance basics": error kinds, links, trapping exits, monitors, and an
//! exit propagated through a GenServer call. Each step prints an IEx-like transcript line and
//! checks what it shows; the demo exits non-zero if anything behaves differently.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    CallError, Down, Exit, ExitReason, GenServer, Init, Reply, ReplyTo, StartOpts, demonitor,
    exit_self, gen_server, monitor, receive, receive_timeout, self_pid, send, spawn, spawn_link,
    spawn_monitor, trap_exit,
};

fn main() {
    // The crash reports of the crashes we provoke on purpose are printed, as Erlang logs them.
    let mut c = Checker::new("seed001_fault_tolerance");

    banner("Runtime errors: raise, exit and throw in Rust");
    // Elixir's `try ... catch kind, value` maps to catch_unwind for panics (raise); a process
    // exit (exit/1) is a separate, deliberate termination; throw's non-local return is an
    // early `return Err(..)`, which Rust spells `?`.
    let caught = std::panic::catch_unwind(|| -> u32 { panic!("raised in a try block") });
    c.check(
        "a panic caught by catch_unwind does not end the process",
        caught.is_err(),
    );
    fn find_first_even(xs: &[i32]) -> Result<(), i32> {
        for &x in xs {
            if x % 2 == 0 {
                return Err(x); // the "throw": a non-local return of a value
            }
        }
        Ok(())
    }
    c.check(
        "an early return stands in for throw",
        find_first_even(&[1, 3, 4, 5]) == Err(4),
    );

    banner("A crash in one process does not affect another");
    // iex> spawn(fn -> raise("Something went wrong") end)
    let (bad, r) = spawn_monitor(|| panic!("Something went wrong"));
    let down: Down = receive();
    println!("iex> spawn(fn -> raise(\"Something went wrong\") end)  # {bad} crashed");
    println!(
        "   the shell {} is still alive: {:?}",
        self_pid(),
        runtime::is_alive(self_pid())
    );
    c.check(
        "the crashed process reported its panic",
        down.monitor == r && matches!(down.reason, ExitReason::Panic(_)),
    );

    banner("Linking processes: a crash spreads along a link");
    // A process that does not trap exits dies with its linked partner.
    let (watcher, wref) = spawn_monitor(|| {
        spawn_link(|| exit_self(ExitReason::custom("boom")));
        let _: u32 = receive(); // never arrives: the link's exit signal ends this process
    });
    let down: Down = receive();
    println!("iex> spawn(fn -> spawn_link(fn -> exit(:boom) end); receive do ... end end)");
    println!("   {watcher} exited with reason {}", down.reason);
    c.check(
        "the linked process died with the same reason",
        down.monitor == wref && down.reason == ExitReason::custom("boom"),
    );

    banner("Trapping exits: the crash becomes a message");
    // iex> Process.flag(:trap_exit, true)
    // iex> spawn_link(fn -> raise("Something went wrong") end)
    // iex> receive do msg -> IO.inspect(msg) end
    trap_exit(true);
    let child = spawn_link(|| panic!("Something went wrong"));
    let exit: Exit = receive();
    println!("iex> Process.flag(:trap_exit, true)");
    println!("iex> spawn_link(fn -> raise(\"Something went wrong\") end)");
    println!("iex> receive do msg -> IO.inspect(msg) end");
    println!("{{:EXIT, {}, {}}}", exit.from, exit.reason);
    c.check(
        "the Exit message names the crashed child",
        exit.from == child,
    );
    c.check("the shell survived", runtime::is_alive(self_pid()));
    trap_exit(false);

    banner("Monitors: one-way, the observer does not crash");
    let target = spawn(|| {
        let _: &str = receive();
        exit_self(ExitReason::custom("crashed on purpose"));
    });
    let mref = monitor(target);
    send(target, "crash now");
    let down: Down = receive();
    println!("iex> target = spawn(fn -> receive do _ -> exit(:crashed) end end)");
    println!("iex> Process.monitor(target)");
    println!("iex> send(target, :crash_now)");
    println!(
        "{{:DOWN, {}, :process, {}, {}}}",
        down.monitor, down.pid, down.reason
    );
    c.check(
        "one Down with the monitor's reference",
        down.monitor == mref && down.pid == target,
    );
    let quiet = spawn(|| {
        let _: &str = receive();
    });
    let mref = monitor(quiet);
    demonitor(mref);
    send(quiet, "stop");
    c.check(
        "after demonitor no Down arrives",
        receive_timeout::<Down>(Duration::from_millis(100)).is_none(),
    );

    banner("Exits are propagated through GenServer calls");
    struct Fragile;
    impl GenServer for Fragile {
        type Arg = ();
        type Call = &'static str;
        type Reply = &'static str;
        type Cast = ();
        type Continue = ();
        fn init(_: ()) -> Init<Self> {
            Init::Ok(Fragile)
        }
        fn handle_call(
            &mut self,
            req: &'static str,
            _from: ReplyTo<&'static str>,
        ) -> Reply<&'static str> {
            match req {
                "crash" => panic!("the server crashed while handling the call"),
                other => Reply::Reply(other),
            }
        }
    }
    let server = gen_server::start::<Fragile>((), StartOpts::new())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    c.check(
        "a normal call gets its reply",
        server.call("ping") == Ok("ping"),
    );
    let result = server.call("crash");
    println!("iex> GenServer.call(server, :crash)");
    println!("   => {result:?}");
    c.check(
        "the caller gets the server's exit reason",
        matches!(result, Err(CallError::Exit(ExitReason::Panic(_)))),
    );
    c.check(
        "a call to the dead server is NoProc at once",
        server.call("ping") == Err(CallError::NoProc),
    );

    c.finish();
}
