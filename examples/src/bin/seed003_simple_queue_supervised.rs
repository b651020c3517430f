//! Seed 003, "Creating a Project" and "DynamicSupervisor": the `SimpleQueue` GenServer (see
//! `seed003_simple_queue` for its IEx session) under a supervisor, the three ways the seed
//! writes it:
//!
//! ```elixir
//! # Example 1
//! children = [SimpleQueue]
//! Supervisor.start_link(children, strategy: :one_for_one, name: SimpleQueue.Supervisor)
//! # Example 2
//! children = [{SimpleQueue, [1, 2, 3]}]
//! Supervisor.start_link(children, strategy: :one_for_one, name: SimpleQueue.Supervisor)
//! # DynamicSupervisor
//! DynamicSupervisor.start_link(name: SimpleQueue.Supervisor, strategy: :one_for_one)
//! {:ok, pid} = DynamicSupervisor.start_child(SimpleQueue.Supervisor, SimpleQueue)
//! ```
//!
//! "If it crashes, the Supervisor would restart it as if nothing had happened": the queue comes
//! back under its name, with the start argument's contents. Also seed 001's "Using a callback
//! module": the same supervisor written as a module with `init/1`.
//!
//! Run with `cargo run -p examples --bin seed003_simple_queue_supervised`.

use std::collections::VecDeque;
use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Next, Pid, Reply, ReplyTo, Server, StartError,
    StartOpts, exit, gen_server, monitor, processes, receive_match_timeout, self_pid, whereis,
};
use supervisor::{
    Child, ChildSpec, DynamicOpts, DynamicSupervisor, StartChildError, Strategy, Supervisor,
    SupervisorOpts, render_tree, short_type_name,
};

const WAIT: Duration = Duration::from_secs(5);

/// `SimpleQueue`: a named GenServer holding a queue.
struct SimpleQueue(VecDeque<i64>);

enum QueueCall {
    Dequeue,
    Queue,
}

#[derive(Debug, PartialEq)]
enum QueueReply {
    Value(Option<i64>),
    Queue(Vec<i64>),
}

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

    fn handle_call(&mut self, req: QueueCall, _: ReplyTo<QueueReply>) -> Reply<QueueReply> {
        match req {
            QueueCall::Dequeue => Reply::Reply(QueueReply::Value(self.0.pop_front())),
            QueueCall::Queue => Reply::Reply(QueueReply::Queue(self.0.iter().copied().collect())),
        }
    }

    fn handle_cast(&mut self, Enqueue(v): Enqueue) -> Next {
        self.0.push_back(v);
        Next::Wait
    }
}

impl SimpleQueue {
    const NAME: &'static str = "SimpleQueue";

    /// `start_link(state \\ [])`, registered as `SimpleQueue`.
    fn start_link(state: Vec<i64>) -> Result<Server<SimpleQueue>, StartError> {
        gen_server::start_link::<SimpleQueue>(state, StartOpts::new().name(Self::NAME))
    }

    fn queue() -> Vec<i64> {
        match Server::<SimpleQueue>::named(Self::NAME).call(QueueCall::Queue) {
            Ok(QueueReply::Queue(q)) => q,
            _ => Vec::new(),
        }
    }

    fn dequeue() -> Result<QueueReply, CallError> {
        Server::<SimpleQueue>::named(Self::NAME).call(QueueCall::Dequeue)
    }

    fn enqueue(v: i64) {
        Server::<SimpleQueue>::named(Self::NAME).cast(Enqueue(v));
    }
}

// `use GenServer`'s child_spec/1 calls `SimpleQueue.start_link(arg)`, which registers the
// name; the `Child` trait's default would start it unnamed, so SimpleQueue spells it out.
impl Child for SimpleQueue {
    fn child_spec(arg: Vec<i64>) -> ChildSpec {
        ChildSpec::worker(short_type_name::<SimpleQueue>(), move || {
            SimpleQueue::start_link(arg.clone())
        })
    }
}

fn show(q: &[i64]) -> String {
    let items: Vec<String> = q.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Kills the registered queue and waits until it is gone.
fn crash_queue(c: &Checker) -> Pid {
    let old = whereis(SimpleQueue::NAME).unwrap_or_else(|| c.fail("no SimpleQueue"));
    let m = monitor(old);
    exit(old, ExitReason::Kill);
    receive_match_timeout(WAIT, |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail("the queue did not exit"));
    println!("iex> Process.whereis(SimpleQueue) |> Process.exit(:kill)");
    old
}

fn main() {
    let mut c = Checker::new("seed003_simple_queue_supervised");
    let shell = self_pid();

    banner("Example 1: children = [SimpleQueue]");
    let sup = Supervisor::start_link(
        vec![SimpleQueue::child_spec(vec![])],
        SupervisorOpts::new()
            .strategy(Strategy::OneForOne)
            .name("SimpleQueue.Supervisor"),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> Supervisor.start_link([SimpleQueue], strategy: :one_for_one, name: SimpleQueue.Supervisor)"
    );
    println!("{{:ok, {}}}", sup.pid().unwrap_or_else(|| c.fail("no pid")));
    println!("iex> SimpleQueue.queue\n{}", show(&SimpleQueue::queue()));
    SimpleQueue::enqueue(7);
    println!("iex> SimpleQueue.enqueue(7)\n:ok");
    println!("iex> SimpleQueue.queue\n{}", show(&SimpleQueue::queue()));
    c.check(
        "SimpleQueue.child_spec([]) started an empty queue under its name",
        SimpleQueue::queue() == vec![7],
    );
    sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));

    banner("Example 2: children = [{SimpleQueue, [1, 2, 3]}]");
    let sup = Supervisor::start_link(
        vec![SimpleQueue::child_spec(vec![1, 2, 3])],
        SupervisorOpts::new()
            .strategy(Strategy::OneForOne)
            .name("SimpleQueue.Supervisor"),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> Supervisor.start_link([{{SimpleQueue, [1, 2, 3]}}], strategy: :one_for_one, name: SimpleQueue.Supervisor)"
    );
    println!("{{:ok, {}}}", sup.pid().unwrap_or_else(|| c.fail("no pid")));
    println!("iex> SimpleQueue.queue\n{}", show(&SimpleQueue::queue()));
    let r = SimpleQueue::dequeue();
    println!(
        "iex> SimpleQueue.dequeue\n{}",
        match &r {
            Ok(QueueReply::Value(Some(v))) => v.to_string(),
            other => format!("{other:?}"),
        }
    );
    c.check(
        "the queue starts with [1, 2, 3] and dequeues 1",
        r == Ok(QueueReply::Value(Some(1))) && SimpleQueue::queue() == vec![2, 3],
    );
    let old = crash_queue(&c);
    // Answered once the supervisor has handled the exit (it came before our Down).
    let _ = sup.count_children();
    let new = whereis(SimpleQueue::NAME);
    println!(
        "iex> Process.whereis(SimpleQueue)\n{}",
        new.map_or(":undefined".into(), |p| p.to_string())
    );
    println!("iex> SimpleQueue.queue\n{}", show(&SimpleQueue::queue()));
    c.check(
        "restarted \"as if nothing had happened\": a new process under the same name",
        new.is_some_and(|p| p != old),
    );
    c.check(
        "with the start argument's contents again (the dequeue lived in the old process)",
        SimpleQueue::queue() == vec![1, 2, 3],
    );
    print!(
        "{}",
        render_tree(sup.pid().unwrap_or_else(|| c.fail("no pid")))
    );
    sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));

    banner("The same supervisor as a callback module (seed 001): init/1 returns the children");
    // defmodule SimpleQueue.Supervisor do
    //   use Supervisor
    //   def start_link(arg), do: Supervisor.start_link(__MODULE__, arg, name: __MODULE__)
    //   def init(arg), do: Supervisor.init([{SimpleQueue, arg}], strategy: :one_for_one)
    // end
    let init_ran_in = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = init_ran_in.clone();
    let sup = Supervisor::start_link_with(
        SupervisorOpts::new()
            .strategy(Strategy::OneForOne)
            .name("SimpleQueue.Supervisor"),
        move || {
            if let Ok(mut s) = seen.lock() {
                *s = Some(self_pid());
            }
            Ok(vec![SimpleQueue::child_spec(vec![4, 5])])
        },
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> SimpleQueue.Supervisor.start_link([4, 5])\n{{:ok, {}}}",
        sup.pid().unwrap_or_else(|| c.fail("no pid"))
    );
    println!("iex> SimpleQueue.queue\n{}", show(&SimpleQueue::queue()));
    let ran_in = init_ran_in.lock().ok().and_then(|s| *s);
    c.check(
        "init/1 ran in the supervisor's own process and its children started",
        ran_in == sup.pid() && SimpleQueue::queue() == vec![4, 5],
    );
    sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));

    banner("DynamicSupervisor: the queue started on demand");
    let dynsup = DynamicSupervisor::start_link(DynamicOpts::new().name("SimpleQueue.Supervisor"))
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> DynamicSupervisor.start_link(name: SimpleQueue.Supervisor, strategy: :one_for_one)"
    );
    println!(
        "{{:ok, {}}}",
        dynsup.pid().unwrap_or_else(|| c.fail("no pid"))
    );
    c.check(
        "a dynamic supervisor starts with no children",
        dynsup.count_children().is_ok_and(|n| n.active == 0),
    );
    let started = dynsup.start_child(SimpleQueue::child_spec(vec![]));
    println!(
        "iex> {{:ok, pid}} = DynamicSupervisor.start_child(SimpleQueue.Supervisor, SimpleQueue)"
    );
    let pid = match started {
        Ok(Some(p)) => p,
        other => c.fail(&format!("start_child: {other:?}")),
    };
    println!("{{:ok, {pid}}}");
    SimpleQueue::enqueue(9);
    c.check(
        "the queue runs under the dynamic supervisor, by name",
        whereis(SimpleQueue::NAME) == Some(pid) && SimpleQueue::queue() == vec![9],
    );
    let again = dynsup.start_child(SimpleQueue::child_spec(vec![]));
    println!("iex> DynamicSupervisor.start_child(SimpleQueue.Supervisor, SimpleQueue)");
    match &again {
        Err(StartChildError::Failed(reason)) => println!("{{:error, {reason}}}"),
        Err(e) => println!("{{:error, {e}}}"),
        Ok(p) => println!("{p:?}"),
    }
    c.check(
        "a second SimpleQueue cannot take the name",
        matches!(again, Err(StartChildError::Failed(_))),
    );
    let old = crash_queue(&c);
    let _ = dynsup.count_children();
    let new = whereis(SimpleQueue::NAME);
    println!("iex> SimpleQueue.queue\n{}", show(&SimpleQueue::queue()));
    c.check(
        "a crashed queue is restarted by the dynamic supervisor too",
        new.is_some_and(|p| p != old) && SimpleQueue::queue().is_empty(),
    );
    dynsup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));

    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
