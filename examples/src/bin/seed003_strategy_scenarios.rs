//! Seed 003, "Exercise: Identify suitable scenarios for each restart strategy", the first two
//! on the seed's own scenarios (the third, the pipeline under `:rest_for_one`, is
//! `seed003_strategies`, which also runs the pipeline under all three):
//!
//! - `:one_for_one`: "In a web server, where each worker process handles an independent client
//!   request. If one request fails, it should not affect the other requests."
//! - `:one_for_all`: "In a distributed database cluster, if one node fails, it might cause
//!   inconsistency across other nodes. Restarting all nodes ensures that they are synchronized
//!   and consistent." Shown against one_for_one on the same cluster, where the restarted node
//!   comes back out of sync.
//!
//! Run with `cargo run -p examples --bin seed003_strategy_scenarios`.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, ExitReason, GenServer, Init, Next, Pid, Reply, ReplyTo, Server, StartOpts, exit,
    gen_server, monitor, processes, receive_match_timeout, self_pid, whereis,
};
use supervisor::{ChildSpec, Strategy, Supervisor, SupervisorOpts, render_tree};

const WAIT: Duration = Duration::from_secs(5);

/// A web request handler: answers requests, counts them; a malformed one crashes it.
struct Handler {
    served: u32,
}

impl GenServer for Handler {
    type Arg = ();
    type Call = &'static str;
    type Reply = String;
    type Cast = ();
    type Continue = ();

    fn init(_: ()) -> Init<Self> {
        Init::Ok(Handler { served: 0 })
    }

    fn handle_call(&mut self, path: &'static str, _: ReplyTo<String>) -> Reply<String> {
        assert!(path.starts_with('/'), "malformed request line {path:?}");
        self.served += 1;
        Reply::Reply(format!("200 OK {path} (request {} here)", self.served))
    }
}

fn handler(n: u32) -> ChildSpec {
    let name = format!("handler_{n}");
    ChildSpec::worker(name.clone(), move || {
        gen_server::start_link::<Handler>((), StartOpts::new().name(name.clone()))
    })
}

fn get(n: u32, path: &'static str) -> Result<String, runtime::CallError> {
    Server::<Handler>::named(format!("handler_{n}")).call(path)
}

/// A database node: a replicated log. A write to one node is applied there and sent to its
/// peers.
struct Node {
    peers: Vec<String>,
    log: Vec<String>,
}

enum NodeCall {
    Write(&'static str),
    Log,
}

/// A write replicated from a peer.
struct Replicate(String);

impl GenServer for Node {
    type Arg = Vec<String>;
    type Call = NodeCall;
    type Reply = Vec<String>;
    type Cast = Replicate;
    type Continue = ();

    fn init(peers: Vec<String>) -> Init<Self> {
        Init::Ok(Node {
            peers,
            log: Vec::new(),
        })
    }

    fn handle_call(&mut self, req: NodeCall, _: ReplyTo<Vec<String>>) -> Reply<Vec<String>> {
        match req {
            NodeCall::Write(entry) => {
                self.log.push(entry.to_owned());
                for p in &self.peers {
                    Server::<Node>::named(p.clone()).cast(Replicate(entry.to_owned()));
                }
                Reply::Reply(self.log.clone())
            }
            NodeCall::Log => Reply::Reply(self.log.clone()),
        }
    }

    fn handle_cast(&mut self, Replicate(entry): Replicate) -> Next {
        self.log.push(entry);
        Next::Wait
    }
}

const NODES: [&str; 3] = ["node_a", "node_b", "node_c"];

fn node(name: &'static str) -> ChildSpec {
    let peers: Vec<String> = NODES
        .iter()
        .filter(|n| **n != name)
        .map(|n| (*n).to_owned())
        .collect();
    ChildSpec::worker(name, move || {
        gen_server::start_link::<Node>(peers.clone(), StartOpts::new().name(name))
    })
}

fn logs() -> Vec<Vec<String>> {
    NODES
        .iter()
        .map(|n| {
            Server::<Node>::named(*n)
                .call(NodeCall::Log)
                .unwrap_or_default()
        })
        .collect()
}

fn print_logs(l: &[Vec<String>]) {
    for (n, log) in NODES.iter().zip(l) {
        println!("   {n}: {log:?}");
    }
}

/// Kills the process registered as `name` and waits for its end.
fn kill(c: &Checker, name: &str, reason: &str) -> Pid {
    let pid = whereis(name).unwrap_or_else(|| c.fail(&format!("no {name}")));
    let m = monitor(pid);
    exit(pid, ExitReason::custom(reason));
    receive_match_timeout(WAIT, |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail(&format!("{name} did not exit")));
    pid
}

fn main() {
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed003_strategy_scenarios");
    let shell = self_pid();

    banner(":one_for_one: a web server, one handler per client request");
    let web = Supervisor::start_link(
        (1..=3).map(handler).collect(),
        SupervisorOpts::new().strategy(Strategy::OneForOne),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Supervisor.start_link([Handler1, Handler2, Handler3], strategy: :one_for_one)");
    for (n, path) in [
        (1, "/index.html"),
        (2, "/login"),
        (3, "/cart"),
        (1, "/about"),
    ] {
        let r = get(n, path).unwrap_or_else(|e| c.fail(&e.to_string()));
        println!("iex> get(handler_{n}, {path:?})\n{r:?}");
    }
    let before: Vec<Option<Pid>> = (1..=3).map(|n| whereis(&format!("handler_{n}"))).collect();
    let m = monitor(before[1].unwrap_or_else(|| c.fail("no handler_2")));
    let bad = get(2, "GARBAGE");
    let _ = receive_match_timeout(WAIT, |d: &Down| d.monitor == m);
    println!(
        "iex> get(handler_2, \"GARBAGE\")\n** (exit) {}",
        bad.as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    let _ = web.count_children();
    let after: Vec<Option<Pid>> = (1..=3).map(|n| whereis(&format!("handler_{n}"))).collect();
    print!(
        "{}",
        render_tree(web.pid().unwrap_or_else(|| c.fail("no pid")))
    );
    c.check(
        "only the failed request's handler was restarted",
        after[0] == before[0]
            && after[2] == before[2]
            && after[1].is_some()
            && after[1] != before[1],
    );
    let r1 = get(1, "/contact");
    println!(
        "iex> get(handler_1, \"/contact\")\n{:?}",
        r1.as_deref().unwrap_or("error")
    );
    c.check(
        "the other requests were not affected: handler_1 kept its count",
        r1.as_deref().is_ok_and(|s| s.contains("request 3 here")),
    );
    c.check("handler_2 serves again", get(2, "/login").is_ok());
    web.stop().unwrap_or_else(|e| c.fail(&e.to_string()));

    for strategy in [Strategy::OneForOne, Strategy::OneForAll] {
        banner(&format!(
            ":{strategy} on a database cluster: three nodes replicating one log"
        ));
        let cluster = Supervisor::start_link(
            NODES.iter().map(|n| node(n)).collect(),
            SupervisorOpts::new().strategy(strategy),
        )
        .unwrap_or_else(|e| c.fail(&e.to_string()));
        println!("iex> Supervisor.start_link([NodeA, NodeB, NodeC], strategy: :{strategy})");
        for entry in ["set x=1", "set y=2"] {
            let _ = Server::<Node>::named("node_a").call(NodeCall::Write(entry));
            println!("iex> write(node_a, {entry:?})");
        }
        let l = logs();
        print_logs(&l);
        c.check(
            "the writes reached every node",
            l.iter().all(|x| x.len() == 2),
        );
        let old_ac = [whereis("node_a"), whereis("node_c")];
        let old_b = kill(&c, "node_b", "disk_failure");
        println!("iex> Process.exit(node_b, :disk_failure)");
        let _ = cluster.count_children();
        let l = logs();
        print_logs(&l);
        let consistent = l.iter().all(|x| *x == l[0]);
        let b_new = whereis("node_b").is_some_and(|p| p != old_b);
        let now_ac = [whereis("node_a"), whereis("node_c")];
        let ac_kept = now_ac == old_ac;
        let ac_all_new = now_ac[0] != old_ac[0] && now_ac[1] != old_ac[1];
        match strategy {
            Strategy::OneForOne => c.check(
                "one_for_one brings node_b back empty while a and c keep the log: inconsistent",
                b_new && ac_kept && !consistent,
            ),
            _ => c.check(
                "one_for_all restarts every node together: the cluster is consistent again",
                b_new && ac_all_new && consistent,
            ),
        }
        cluster.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    }

    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
