//! Seed 000, "6.2 Implementing the worker supervisor": Pooly's `WorkerSupervisor` in IEx.
//!
//! ```elixir
//! {:ok, supervisor_pid} = Pooly.WorkerSupervisor.start_link({SampleWorker, :start_link, []})
//! {:ok, child_pid} = Supervisor.start_child(supervisor_pid, [[]])
//! ```
//!
//! "We can repeat the last command as many times as we want to create several processes.
//! Then, there are a few interesting commands that can help us have an overview of the child
//! processes": `Supervisor.which_children/1` and `Supervisor.count_children/1`, and here the
//! tree view too. The book's `WorkerSupervisor` is a `simple_one_for_one` supervisor (a
//! `DynamicSupervisor` today) whose `{m, f, a}` is its extra argument, with `restart:
//! :permanent` and `max_restarts: 5, max_seconds: 5`.
//!
//! Run with `cargo run -p examples --bin seed000_worker_supervisor`.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, ExitReason, GenServer, Init, Pid, Reply, ReplyTo, Server, StartError, StartOpts,
    gen_server, monitor, processes, receive_match_timeout, self_pid,
};
use supervisor::{ChildPid, ChildSpec, DynamicOpts, DynamicSupervisor, render_tree};

/// The book's `SampleWorker`: a GenServer that stops when asked.
struct SampleWorker;

impl GenServer for SampleWorker {
    type Arg = ();
    type Call = &'static str;
    type Reply = &'static str;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self> {
        Init::Ok(SampleWorker)
    }

    // def handle_call(:stop, _from, state), do: {:stop, :normal, :ok, state}
    fn handle_call(&mut self, req: &'static str, _: ReplyTo<&'static str>) -> Reply<&'static str> {
        match req {
            "stop" => Reply::ReplyThen("ok", runtime::Next::Stop(ExitReason::Normal)),
            other => Reply::Reply(other),
        }
    }
}

/// `{SampleWorker, :start_link, []}`: how the worker supervisor starts each child.
#[derive(Clone, Copy)]
struct Mfa {
    name: &'static str,
    start_link: fn() -> Result<Server<SampleWorker>, StartError>,
}

/// `Pooly.WorkerSupervisor.start_link({m, f, a})`.
fn worker_supervisor_start_link(mfa: Mfa) -> DynamicSupervisor<Mfa> {
    DynamicSupervisor::start_link(
        DynamicOpts::new()
            .max_restarts(5)
            .max_seconds(Duration::from_secs(5))
            .extra_arguments(mfa),
    )
    .unwrap_or_else(|e| panic!("start the worker supervisor: {e}"))
}

/// `Supervisor.start_child(supervisor_pid, [[]])`: a permanent worker started with the
/// supervisor's `{m, f, a}`.
fn start_child(sup: &DynamicSupervisor<Mfa>) -> Pid {
    let spec = ChildSpec::worker_with("SampleWorker", |mfa: &Mfa| (mfa.start_link)());
    match sup.start_child(spec) {
        Ok(Some(pid)) => pid,
        other => panic!("start_child: {other:?}"),
    }
}

fn running(sup: &DynamicSupervisor<Mfa>) -> Vec<Pid> {
    sup.which_children()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| match c.pid {
            ChildPid::Pid(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn print_children(sup: &DynamicSupervisor<Mfa>, mfa: &Mfa) {
    let rows: Vec<String> = sup
        .which_children()
        .unwrap_or_default()
        .iter()
        .map(|c| format!("{{:undefined, {}, :{}, [{}]}}", c.pid, c.kind, mfa.name))
        .collect();
    println!("[{}]", rows.join(",\n "));
}

fn main() {
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed000_worker_supervisor");
    let shell = self_pid();
    let before = processes().len();
    let mfa = Mfa {
        name: "SampleWorker",
        start_link: || gen_server::start_link::<SampleWorker>((), StartOpts::new()),
    };

    banner("Start a WorkerSupervisor and a child linked to it");
    let sup = worker_supervisor_start_link(mfa);
    let sup_pid = sup.pid().unwrap_or_else(|| c.fail("no supervisor pid"));
    println!(
        "iex> {{:ok, supervisor_pid}} = Pooly.WorkerSupervisor.start_link({{SampleWorker, :start_link, []}})"
    );
    println!("{{:ok, {sup_pid}}}");
    let first = start_child(&sup);
    println!("iex> {{:ok, child_pid}} = Supervisor.start_child(supervisor_pid, [[]])");
    println!("{{:ok, {first}}}");
    c.check(
        "the child is linked to its supervisor",
        runtime::process_info(first).is_some_and(|i| i.links.contains(&sup_pid)),
    );

    banner("Repeat the last command as many times as we want");
    let mut children = vec![first];
    for _ in 0..3 {
        let pid = start_child(&sup);
        println!("iex> Supervisor.start_child(supervisor_pid, [[]])");
        println!("{{:ok, {pid}}}");
        children.push(pid);
    }
    c.check(
        "every start gave a new process",
        children.iter().all(|p| runtime::is_alive(*p)) && {
            let mut d = children.clone();
            d.dedup();
            d.len() == 4
        },
    );

    banner("An overview of the child processes");
    println!("iex> Supervisor.which_children(supervisor_pid)");
    print_children(&sup, &mfa);
    c.check(
        "which_children lists the four workers in start order",
        running(&sup) == children,
    );
    let counts = sup
        .count_children()
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Supervisor.count_children(supervisor_pid)");
    println!(
        "%{{active: {}, specs: {}, supervisors: {}, workers: {}}}",
        counts.active, counts.specs, counts.supervisors, counts.workers
    );
    c.check(
        "count_children: 4 specs, 4 active, 4 workers, no supervisors",
        (
            counts.specs,
            counts.active,
            counts.workers,
            counts.supervisors,
        ) == (4, 4, 4, 0),
    );
    println!("iex> :observer.start()  # the tree, as text:");
    print!("{}", render_tree(sup_pid));

    banner("Workers are permanent: a dead one is replaced");
    let victim = children[1];
    let m = monitor(victim);
    runtime::exit(victim, ExitReason::Kill);
    let _ = receive_match_timeout(Duration::from_secs(5), |d: &Down| d.monitor == m);
    println!("iex> Process.exit({victim}, :kill)");
    let now = running(&sup);
    println!("iex> Supervisor.which_children(supervisor_pid)");
    print_children(&sup, &mfa);
    c.check(
        "the killed worker was replaced, the others untouched",
        now.len() == 4 && !now.contains(&victim) && now.contains(&children[0]),
    );
    let stopped = now[0];
    let m = monitor(stopped);
    let reply = Server::<SampleWorker>::from_pid(stopped).call("stop");
    let _ = receive_match_timeout(Duration::from_secs(5), |d: &Down| d.monitor == m);
    println!("iex> SampleWorker.stop({stopped})");
    println!(
        "{}",
        reply.map_or_else(|e| e.to_string(), |r| format!(":{r}"))
    );
    let now = running(&sup);
    c.check(
        "a permanent worker that stops normally is restarted too",
        now.len() == 4 && !now.contains(&stopped),
    );

    banner("Stopping the supervisor stops its workers");
    let all = running(&sup);
    sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Supervisor.stop(supervisor_pid)");
    println!(":ok");
    c.check(
        "the supervisor and its workers are gone",
        !runtime::is_alive(sup_pid) && all.iter().all(|p| !runtime::is_alive(*p)),
    );
    c.check(
        "no process is left running",
        processes().len() <= before.max(1) && processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
