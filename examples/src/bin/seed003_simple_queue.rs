//! Seed 003, "Creating a Project": the `SimpleQueue` GenServer, started as
//! `SimpleQueue.start_link([1, 2, 3])` and driven from IEx with `enqueue` (a cast), `dequeue`
//! and `queue` (calls). The module's Elixir code is the one the seed's exercise places in
//! `lib/simple_queue.ex`:
//!
//! ```elixir
//! defmodule SimpleQueue do
//!   use GenServer
//!   def start_link(state \\ []), do: GenServer.start_link(__MODULE__, state, name: __MODULE__)
//!   def init(state), do: {:ok, state}
//!   def handle_call(:dequeue, _from, [value | state]), do: {:reply, value, state}
//!   def handle_call(:dequeue, _from, []), do: {:reply, nil, []}
//!   def handle_call(:queue, _from, state), do: {:reply, state, state}
//!   def handle_cast({:enqueue, value}, state), do: {:noreply, state ++ [value]}
//!   def queue, do: GenServer.call(__MODULE__, :queue)
//!   def enqueue(value), do: GenServer.cast(__MODULE__, {:enqueue, value})
//!   def dequeue, do: GenServer.call(__MODULE__, :dequeue)
//! end
//! ```
//!
//! Run with `cargo run -p examples --bin seed003_simple_queue`.

use std::collections::VecDeque;
use std::fmt;

use examples::{Checker, banner};
use runtime::{
    CallError, ExitReason, GenServer, Init, Next, Reply, ReplyTo, Server, StartError, StartOpts,
    gen_server, processes, self_pid, whereis,
};

/// The queue's state: its values, oldest first.
struct SimpleQueue(VecDeque<i64>);

/// The calls `SimpleQueue` answers.
enum QueueCall {
    Dequeue,
    Queue,
}

/// The replies: a dequeued value (`nil` when empty) or the whole queue.
#[derive(Debug, PartialEq)]
enum QueueReply {
    Value(Option<i64>),
    Queue(Vec<i64>),
}

/// The one cast: `{:enqueue, value}`.
struct Enqueue(i64);

impl GenServer for SimpleQueue {
    type Arg = Vec<i64>;
    type Call = QueueCall;
    type Reply = QueueReply;
    type Cast = Enqueue;
    type Continue = ();

    fn init(state: Vec<i64>) -> Init<Self> {
        Init::Ok(SimpleQueue(state.into()))
    }

    fn handle_call(&mut self, req: QueueCall, _from: ReplyTo<QueueReply>) -> Reply<QueueReply> {
        match req {
            QueueCall::Dequeue => Reply::Reply(QueueReply::Value(self.0.pop_front())),
            QueueCall::Queue => Reply::Reply(QueueReply::Queue(self.0.iter().copied().collect())),
        }
    }

    fn handle_cast(&mut self, Enqueue(value): Enqueue) -> Next {
        self.0.push_back(value);
        Next::Wait
    }
}

/// The module's client API, as in the Elixir module: the server is found by its name.
impl SimpleQueue {
    const NAME: &'static str = "SimpleQueue";

    fn start_link(state: Vec<i64>) -> Result<Server<SimpleQueue>, StartError> {
        gen_server::start_link::<SimpleQueue>(state, StartOpts::new().name(Self::NAME))
    }

    fn server() -> Server<SimpleQueue> {
        Server::named(Self::NAME)
    }

    fn queue() -> Result<Vec<i64>, CallError> {
        match Self::server().call(QueueCall::Queue)? {
            QueueReply::Queue(q) => Ok(q),
            QueueReply::Value(_) => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }

    fn enqueue(value: i64) {
        Self::server().cast(Enqueue(value));
    }

    fn dequeue() -> Result<Option<i64>, CallError> {
        match Self::server().call(QueueCall::Dequeue)? {
            QueueReply::Value(v) => Ok(v),
            QueueReply::Queue(_) => Err(CallError::Exit(ExitReason::custom("bad_reply"))),
        }
    }
}

/// Prints a value the way IEx would.
struct Iex<'a, T>(&'a T);

impl fmt::Display for Iex<'_, Vec<i64>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(i64::to_string).collect();
        write!(f, "[{}]", items.join(", "))
    }
}

impl fmt::Display for Iex<'_, Option<i64>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("nil"),
        }
    }
}

fn main() {
    let mut c = Checker::new("seed003_simple_queue");

    banner("Starting SimpleQueue with [1, 2, 3] (what the application's supervisor does)");
    println!("iex> SimpleQueue.start_link([1, 2, 3])");
    let server = SimpleQueue::start_link(vec![1, 2, 3]).unwrap_or_else(|e| c.fail(&e.to_string()));
    let pid = server.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("{{:ok, #PID{pid}}}");
    c.check(
        "the server is registered as SimpleQueue",
        whereis(SimpleQueue::NAME) == Some(pid),
    );

    banner("The IEx session");
    let queue = |c: &mut Checker, want: &[i64]| {
        println!("iex> SimpleQueue.queue");
        let q = SimpleQueue::queue().unwrap_or_else(|e| c.fail(&e.to_string()));
        println!("{}", Iex(&q));
        c.check(&format!("the queue is {}", Iex(&want.to_vec())), q == want);
    };
    let dequeue = |c: &mut Checker, want: Option<i64>| {
        println!("iex> SimpleQueue.dequeue");
        let v = SimpleQueue::dequeue().unwrap_or_else(|e| c.fail(&e.to_string()));
        println!("{}", Iex(&v));
        c.check(&format!("dequeue gives {}", Iex(&want)), v == want);
    };
    queue(&mut c, &[1, 2, 3]);
    println!("iex> SimpleQueue.enqueue(20)");
    SimpleQueue::enqueue(20);
    println!(":ok");
    queue(&mut c, &[1, 2, 3, 20]);
    dequeue(&mut c, Some(1));
    dequeue(&mut c, Some(2));
    println!("iex> SimpleQueue.enqueue(4)");
    SimpleQueue::enqueue(4);
    println!(":ok");
    queue(&mut c, &[3, 20, 4]);
    dequeue(&mut c, Some(3));
    dequeue(&mut c, Some(20));
    dequeue(&mut c, Some(4));
    // The second handle_call clause: dequeue on an empty queue replies nil.
    dequeue(&mut c, None);
    queue(&mut c, &[]);

    banner("A name can only be started once");
    println!("iex> SimpleQueue.start_link([])");
    let again = SimpleQueue::start_link(vec![]);
    match &again {
        Err(StartError::AlreadyStarted(p)) => {
            println!("{{:error, {{:already_started, #PID{p}}}}}")
        }
        other => println!("{other:?}"),
    }
    c.check(
        "a second start returns AlreadyStarted with the running pid",
        again.err() == Some(StartError::AlreadyStarted(pid)),
    );

    banner("Stopping the queue");
    println!("iex> GenServer.stop(SimpleQueue)");
    let stopped = server.stop(ExitReason::Normal, None);
    println!("{}", if stopped.is_ok() { ":ok" } else { "error" });
    c.check("stop returns ok", stopped.is_ok());
    println!("iex> SimpleQueue.queue");
    let gone = SimpleQueue::queue();
    if gone == Err(CallError::NoProc) {
        println!("** (exit) exited in: GenServer.call(SimpleQueue, :queue, 5000)");
        println!("    ** (EXIT) no process");
    }
    c.check(
        "a call to the stopped queue is NoProc at once",
        gone == Err(CallError::NoProc),
    );
    println!("iex> SimpleQueue.enqueue(1)");
    SimpleQueue::enqueue(1);
    println!(":ok  (a cast never fails, even with no server)");
    c.check(
        "no process is left running",
        processes() == vec![self_pid()],
    );

    c.finish();
}
