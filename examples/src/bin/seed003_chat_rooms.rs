//! Seed 003, "Dynamic Supervision": "A chat application where each user connection spawns a
//! new supervised process":
//!
//! ```elixir
//! options = [name: ChatApp.Supervisor, strategy: :one_for_one]
//! DynamicSupervisor.start_link(options)
//! {:ok, pid} = DynamicSupervisor.start_child(ChatApp.Supervisor, ChatHandler)
//! ```
//!
//! `ChatHandler` is a GenServer with the default child spec (`use GenServer`, here the
//! `Child` trait): a permanent worker. Handlers come and go as users connect and disconnect
//! (`terminate_child` by pid); one that crashes is replaced; the supervisor caps the number of
//! connections (`max_children`).
//!
//! Run with `cargo run -p examples --bin seed003_chat_rooms`.

use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, GenServer, Init, Pid, Reply, ReplyTo, Server, monitor, processes, receive_match_timeout,
    self_pid,
};
use supervisor::{Child, ChildPid, DynamicOpts, DynamicSupervisor, StartChildError, render_tree};

/// One user's connection to the chat room.
struct ChatHandler {
    user: String,
    seen: Vec<String>,
}

/// What a handler is asked.
enum Ask {
    /// Post a line (an empty line crashes the handler, the bug of this demo).
    Post(String),
    /// The lines posted through this connection.
    History,
}

impl GenServer for ChatHandler {
    type Arg = String;
    type Call = Ask;
    type Reply = Vec<String>;
    type Cast = ();
    type Continue = ();

    fn init(user: String) -> Init<Self> {
        Init::Ok(ChatHandler {
            user,
            seen: Vec::new(),
        })
    }

    fn handle_call(&mut self, ask: Ask, _: ReplyTo<Vec<String>>) -> Reply<Vec<String>> {
        match ask {
            Ask::Post(line) => {
                assert!(!line.is_empty(), "empty line from {}", self.user);
                self.seen.push(format!("{}: {line}", self.user));
                Reply::Reply(Vec::new())
            }
            Ask::History => Reply::Reply(self.seen.clone()),
        }
    }
}

// `use GenServer` gives ChatHandler a child_spec/1: a permanent worker started with
// start_link(arg).
impl Child for ChatHandler {}

fn handlers(sup: &DynamicSupervisor) -> Vec<Pid> {
    sup.which_children()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| match c.pid {
            ChildPid::Pid(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn connect(sup: &DynamicSupervisor, user: &str) -> Result<Pid, StartChildError> {
    sup.start_child(ChatHandler::child_spec(user.to_owned()))
        .map(|p| p.unwrap_or_else(|| panic!("a chat handler does not ignore")))
}

fn main() {
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed003_chat_rooms");

    banner("Start the dynamic supervisor, then a handler per connection");
    let _started = DynamicSupervisor::start_link(
        DynamicOpts::new()
            .name("ChatApp.Supervisor")
            .max_children(3),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> DynamicSupervisor.start_link(name: ChatApp.Supervisor, strategy: :one_for_one, max_children: 3)"
    );
    let sup = DynamicSupervisor::<()>::named("ChatApp.Supervisor");
    let sup_pid = sup.pid().unwrap_or_else(|| c.fail("not registered"));
    println!("{{:ok, {sup_pid}}}");
    let mut users = Vec::new();
    for user in ["alice", "bob"] {
        let pid = connect(&sup, user).unwrap_or_else(|e| c.fail(&e.to_string()));
        println!(
            "iex> {{:ok, pid}} = DynamicSupervisor.start_child(ChatApp.Supervisor, {{ChatHandler, {user:?}}})"
        );
        println!("{{:ok, {pid}}}");
        users.push(pid);
    }
    c.check(
        "each connection has its own supervised handler",
        handlers(&sup) == users,
    );
    let alice = Server::<ChatHandler>::from_pid(users[0]);
    let _ = alice.call(Ask::Post("hello, room".into()));
    let _ = alice.call(Ask::Post("anyone here?".into()));
    let history = alice.call(Ask::History).unwrap_or_default();
    println!("iex> GenServer.call(alice, :history)\n{history:?}");
    c.check("alice's handler keeps her lines", history.len() == 2);

    banner("Connections are capped by max_children");
    let carol = connect(&sup, "carol").unwrap_or_else(|e| c.fail(&e.to_string()));
    let dave = connect(&sup, "dave");
    println!("iex> DynamicSupervisor.start_child(ChatApp.Supervisor, {{ChatHandler, \"dave\"}})");
    println!("{dave:?}");
    c.check(
        "the fourth connection is refused with max_children",
        dave == Err(StartChildError::MaxChildren),
    );
    print!("{}", render_tree(sup_pid));

    banner("A handler that crashes is replaced; the others are untouched");
    let bob = Server::<ChatHandler>::from_pid(users[1]);
    let m = monitor(users[1]);
    let crashed = bob.call(Ask::Post(String::new()));
    let _ = receive_match_timeout(Duration::from_secs(5), |d: &Down| d.monitor == m);
    println!("iex> GenServer.call(bob, {{:post, \"\"}})\n** (exit) {crashed:?}");
    let now = handlers(&sup);
    println!("iex> DynamicSupervisor.which_children(ChatApp.Supervisor)");
    for p in &now {
        println!("   {{:undefined, {p}, :worker, [ChatHandler]}}");
    }
    c.check(
        "bob's handler was restarted as a new process; alice's and carol's kept running",
        now.len() == 3
            && !now.contains(&users[1])
            && now.contains(&users[0])
            && now.contains(&carol),
    );

    banner("A user disconnects: terminate_child by pid");
    let r = sup.terminate_child(carol);
    println!("iex> DynamicSupervisor.terminate_child(ChatApp.Supervisor, {carol})\n{r:?}");
    let counts = sup
        .count_children()
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> DynamicSupervisor.count_children(ChatApp.Supervisor)\n%{{active: {}, specs: {}, supervisors: {}, workers: {}}}",
        counts.active, counts.specs, counts.supervisors, counts.workers
    );
    c.check(
        "carol's handler is gone and its place is free",
        r.is_ok() && !runtime::is_alive(carol) && counts.active == 2,
    );
    let again = sup.terminate_child(carol);
    println!("iex> DynamicSupervisor.terminate_child(ChatApp.Supervisor, {carol})\n{again:?}");
    c.check(
        "terminating it again is {:error, :not_found}",
        again == Err(supervisor::ChildError::NotFound),
    );
    c.check("dave can connect now", connect(&sup, "dave").is_ok());

    banner("Shutting the chat down stops every handler");
    let all = handlers(&sup);
    sup.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> DynamicSupervisor.stop(ChatApp.Supervisor)\n:ok");
    c.check(
        "no handler survived the supervisor",
        all.iter().all(|p| !runtime::is_alive(*p))
            && runtime::whereis("ChatApp.Supervisor").is_none(),
    );
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == self_pid()),
    );
    c.finish();
}
