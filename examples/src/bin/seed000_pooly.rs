//! Seed 000, *The Little Elixir & OTP Guidebook* ch. 6-7: the Pooly worker pool, run the way
//! the book's IEx sessions run it. Pooly starts with the book's three pools (Pool1 size 2
//! overflow 1, Pool2 3/0, Pool3 4/0); then checkout, checkin and status; a consumer that dies
//! gives its worker back; a worker that dies is replaced; an overflow worker is dismissed on
//! checkin; blocked checkouts are served in order; a checkout that times out leaks nothing; a
//! transaction; and the supervision tree. Each step prints an IEx-like transcript line and
//! checks what it shows; the demo exits non-zero if anything behaves differently.
//!
//! (The seed's WorkerSupervisor session is `seed000_worker_supervisor`; its ETS `tv_shows`
//! session is the `ets` crate's.)

use std::time::Duration;

use examples::{Checker, banner};
use pool::{CheckoutError, Pool, PoolConfig, PoolState, Pools, Status};
use runtime::{
    Down, ExitReason, GenServer, Init, Pid, Reply, ReplyTo, Server, StartError, StartOpts,
    gen_server, is_alive, monitor, receive, receive_match, receive_match_timeout, self_pid, send,
    spawn,
};

/// The book's SampleWorker: a GenServer that does some "work" when called.
struct SampleWorker;

impl GenServer for SampleWorker {
    type Arg = ();
    type Call = &'static str;
    type Reply = String;
    type Cast = ();
    type Continue = ();

    fn init((): ()) -> Init<Self> {
        Init::Ok(SampleWorker)
    }

    fn handle_call(&mut self, req: &'static str, _from: ReplyTo<String>) -> Reply<String> {
        Reply::Reply(format!("{} did {req}", self_pid()))
    }
}

fn sample_worker() -> Result<Server<SampleWorker>, StartError> {
    gen_server::start_link::<SampleWorker>((), StartOpts::new())
}

/// Status as IEx prints poolboy's tuple.
fn show(s: &Status) -> String {
    format!(
        "{{:{}, {}, {}, {}}}",
        s.state, s.idle, s.overflow, s.checked_out
    )
}

/// A consumer process: checks out from `pool` (waiting up to `timeout`), reports what it got,
/// and holds the worker until it is told to check it in (or is killed).
fn consumer(pool: &Pool, timeout: Duration) -> Pid {
    let pool = pool.clone();
    let shell = self_pid();
    spawn(move || {
        let got = pool.checkout_timeout(timeout);
        send(shell, (self_pid(), got.clone()));
        if let Ok(w) = got {
            let CheckinNow = receive();
            pool.checkin(w);
        }
    })
}

struct CheckinNow;

fn report(c: Pid) -> Option<Result<Pid, CheckoutError>> {
    receive_match_timeout(
        Duration::from_secs(5),
        |m: &(Pid, Result<Pid, CheckoutError>)| m.0 == c,
    )
    .map(|m| m.1)
}

/// Waits (a bounded number of status calls) until `pool` has `n` consumers queued.
fn wait_queued(pool: &Pool, n: usize) -> bool {
    (0..1_000_000).any(|_| {
        let queued = pool.status().is_ok_and(|s| s.waiting == n);
        if !queued {
            std::thread::yield_now();
        }
        queued
    })
}

fn wait_dead(pid: Pid) {
    let m = monitor(pid);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
}

fn main() {
    let mut c = Checker::new("seed000_pooly");
    // The shell (this thread) is a process from its first runtime call on.
    let shell = self_pid();
    let processes_before = runtime::processes();

    banner("Starting Pooly with the book's three pools");
    // pools_config = [
    //   [name: "Pool1", mfa: {SampleWorker, :start_link, []}, size: 2, max_overflow: 1],
    //   [name: "Pool2", mfa: {SampleWorker, :start_link, []}, size: 3, max_overflow: 0],
    //   [name: "Pool3", mfa: {SampleWorker, :start_link, []}, size: 4, max_overflow: 0]]
    let pools = Pools::start_link(vec![
        PoolConfig::new("Pool1", sample_worker)
            .size(2)
            .max_overflow(1),
        PoolConfig::new("Pool2", sample_worker)
            .size(3)
            .max_overflow(0),
        PoolConfig::new("Pool3", sample_worker)
            .size(4)
            .max_overflow(0),
    ])
    .unwrap_or_else(|e| c.fail(&format!("Pooly did not start: {e}")));
    println!("iex> Pooly.start(:normal, [])");
    let (pool1, pool2, pool3) = (
        Pool::named("Pool1"),
        Pool::named("Pool2"),
        Pool::named("Pool3"),
    );
    let status = |p: &Pool| {
        p.status()
            .unwrap_or_else(|e| Checker::new("seed000_pooly").fail(&format!("status: {e}")))
    };
    for (name, p, size) in [
        ("Pool1", &pool1, 2),
        ("Pool2", &pool2, 3),
        ("Pool3", &pool3, 4),
    ] {
        let s = status(p);
        println!("iex> Pooly.status(\"{name}\")\n{}", show(&s));
        c.check(
            &format!("{name} starts ready with {size} idle workers"),
            s.state == PoolState::Ready && s.idle == size && s.checked_out == 0,
        );
    }

    banner("Checking a worker out and in");
    let w = pool1
        .checkout()
        .unwrap_or_else(|e| c.fail(&format!("checkout: {e}")));
    println!("iex> worker = Pooly.checkout(\"Pool1\")\n{w}");
    let answer = Server::<SampleWorker>::from_pid(w).call("some work");
    println!("iex> SampleWorker.work(worker)\n{answer:?}");
    c.check("the worker answers", answer.is_ok());
    let s = status(&pool1);
    println!("iex> Pooly.status(\"Pool1\")\n{}", show(&s));
    c.check(
        "one worker is checked out",
        (s.idle, s.checked_out) == (1, 1),
    );
    pool1.checkin(w);
    let s = status(&pool1);
    println!(
        "iex> Pooly.checkin(\"Pool1\", worker)\n:ok\niex> Pooly.status(\"Pool1\")\n{}",
        show(&s)
    );
    c.check("it is idle again", (s.idle, s.checked_out) == (2, 0));

    banner("A consumer that dies gives its worker back");
    let consumer_pid = consumer(&pool2, Duration::from_secs(5));
    let held = report(consumer_pid).and_then(Result::ok);
    let Some(held) = held else {
        c.fail("the consumer got no worker")
    };
    println!("iex> consumer = spawn(fn -> Pooly.checkout(\"Pool2\"); ... end)  # holds {held}");
    println!("iex> Pooly.status(\"Pool2\")\n{}", show(&status(&pool2)));
    runtime::exit(consumer_pid, ExitReason::Kill);
    let s = status(&pool2);
    println!(
        "iex> Process.exit(consumer, :kill)\ntrue\niex> Pooly.status(\"Pool2\")\n{}",
        show(&s)
    );
    c.check(
        "the dead consumer's worker is idle again, alive (reused, not killed)",
        (s.idle, s.checked_out) == (3, 0) && is_alive(held),
    );

    banner("A worker that dies is replaced");
    let w = pool3
        .checkout()
        .unwrap_or_else(|e| c.fail(&format!("checkout: {e}")));
    runtime::exit(w, ExitReason::Kill);
    let s = status(&pool3);
    let workers = pool3.workers().unwrap_or_default();
    println!("iex> worker = Pooly.checkout(\"Pool3\")\n{w}");
    println!(
        "iex> Process.exit(worker, :kill)\ntrue\niex> Pooly.status(\"Pool3\")\n{}",
        show(&s)
    );
    c.check(
        "Pool3 is back to 4 idle workers, none of them the dead one",
        (s.idle, s.checked_out) == (4, 0) && workers.len() == 4 && !workers.contains(&w),
    );

    banner("Overflow: Pool1 lends one worker more than its size, and dismisses it on checkin");
    let ws: Vec<Pid> = (0..3)
        .map(|_| {
            pool1
                .try_checkout()
                .unwrap_or_else(|e| c.fail(&format!("checkout: {e}")))
        })
        .collect();
    let s = status(&pool1);
    println!("iex> for _ <- 1..3, do: Pooly.checkout(\"Pool1\", false)\n{ws:?}");
    println!("iex> Pooly.status(\"Pool1\")\n{}", show(&s));
    c.check(
        "two workers and one overflow worker out: full",
        s.state == PoolState::Full && (s.idle, s.overflow, s.checked_out) == (0, 1, 3),
    );
    let full = pool1.try_checkout();
    println!("iex> Pooly.checkout(\"Pool1\", false)\n{full:?}");
    c.check(
        "a fourth non-blocking checkout is refused",
        full == Err(CheckoutError::Full),
    );
    pool1.checkin(ws[2]);
    let s = status(&pool1);
    println!(
        "iex> Pooly.checkin(\"Pool1\", {})\niex> Pooly.status(\"Pool1\")\n{}",
        ws[2],
        show(&s)
    );
    c.check(
        "the checked-in worker was dismissed, not kept",
        (s.idle, s.overflow, s.checked_out) == (0, 0, 2) && !is_alive(ws[2]),
    );

    banner("Blocked checkouts are served in order");
    // Pool1 has both workers out and its overflow is free: take it, so the pool is full.
    let extra = pool1
        .checkout()
        .unwrap_or_else(|e| c.fail(&format!("checkout: {e}")));
    let first = consumer(&pool1, Duration::from_secs(5));
    c.check("the first consumer waits", wait_queued(&pool1, 1));
    let second = consumer(&pool1, Duration::from_secs(5));
    c.check("the second consumer waits", wait_queued(&pool1, 2));
    println!(
        "iex> # two consumers call Pooly.checkout(\"Pool1\") and block: waiting {}",
        status(&pool1).waiting
    );
    pool1.checkin(ws[0]);
    let got_first = report(first);
    println!(
        "iex> Pooly.checkin(\"Pool1\", {})  # the first consumer gets {got_first:?}",
        ws[0]
    );
    pool1.checkin(ws[1]);
    let got_second = report(second);
    println!(
        "iex> Pooly.checkin(\"Pool1\", {})  # the second consumer gets {got_second:?}",
        ws[1]
    );
    c.check(
        "first come, first served",
        got_first == Some(Ok(ws[0])) && got_second == Some(Ok(ws[1])),
    );
    for p in [first, second] {
        send(p, CheckinNow);
        wait_dead(p);
    }
    pool1.checkin(extra);
    let s = status(&pool1);
    println!("iex> Pooly.status(\"Pool1\")\n{}", show(&s));
    c.check(
        "everything back: 2 idle, the overflow worker dismissed",
        (s.state, s.idle, s.overflow, s.checked_out) == (PoolState::Ready, 2, 0, 0),
    );

    banner("A checkout that times out is cancelled and leaks nothing");
    let ws: Vec<Pid> = (0..3)
        .map(|_| {
            pool2
                .checkout()
                .unwrap_or_else(|e| c.fail(&format!("checkout: {e}")))
        })
        .collect();
    let late = pool2.checkout_timeout(Duration::from_millis(100));
    println!("iex> Pooly.checkout(\"Pool2\", true, 100)\n{late:?}");
    let s = status(&pool2);
    println!(
        "iex> Pooly.status(\"Pool2\")\n{}  waiting {}",
        show(&s),
        s.waiting
    );
    c.check(
        "the timed-out checkout is not left in the queue",
        late == Err(CheckoutError::Timeout) && s.waiting == 0 && s.checked_out == 3,
    );
    for w in &ws {
        pool2.checkin(*w);
    }
    let s = status(&pool2);
    println!(
        "iex> # check the three workers in\niex> Pooly.status(\"Pool2\")\n{}",
        show(&s)
    );
    c.check(
        "all three are idle: nothing was handed to the caller that gave up",
        (s.idle, s.checked_out) == (3, 0),
    );

    banner("Transactions");
    let r = pool3.transaction(|w| Server::<SampleWorker>::from_pid(w).call("a transaction"));
    println!(
        "iex> Pooly.transaction(\"Pool3\", fn worker -> SampleWorker.work(worker) end)\n{r:?}"
    );
    c.check("the transaction ran on a worker", matches!(r, Ok(Ok(_))));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the panic below is on purpose
    let crashed = std::panic::catch_unwind(|| {
        pool3.transaction(|_w| -> () { panic!("the transaction's function raised") })
    });
    std::panic::set_hook(hook);
    let s = status(&pool3);
    println!(
        "iex> Pooly.transaction(\"Pool3\", fn _ -> raise \"oops\" end)\n** (RuntimeError) oops\niex> Pooly.status(\"Pool3\")\n{}",
        show(&s)
    );
    c.check(
        "a transaction that raises still checks its worker in",
        crashed.is_err() && (s.idle, s.checked_out) == (4, 0),
    );

    banner("The supervision tree");
    let root = pools
        .supervisor()
        .pid()
        .unwrap_or_else(|| c.fail("the top supervisor is gone"));
    let tree = supervisor::render_tree(root);
    println!("{tree}");
    c.check(
        "Pooly's tree: each pool's supervisor holds its worker supervisor and its server",
        ["Pool1", "Pool2", "Pool3"].iter().all(|p| {
            tree.contains(&format!("\"{p}Supervisor\" one_for_all"))
                && tree.contains(&format!("\"{p}WorkerSupervisor\""))
        }) && tree.matches("worker \"server\"").count() == 3,
    );

    let workers: Vec<Pid> = [&pool1, &pool2, &pool3]
        .iter()
        .flat_map(|p| p.workers().unwrap_or_default())
        .collect();
    pools
        .stop()
        .unwrap_or_else(|e| c.fail(&format!("stop: {e}")));
    c.check(
        "stopping Pooly stops every worker",
        workers.iter().all(|w| !is_alive(*w)),
    );
    let left: Vec<Pid> = runtime::processes()
        .into_iter()
        .filter(|p| *p != shell && !processes_before.contains(p))
        .collect();
    c.check(
        &format!("no process is left running {left:?}"),
        left.is_empty(),
    );
    c.finish();
}
