//! Child specs: defaults, the `Child` trait (Elixir's `child_spec/1`), and GenServer, Agent
//! and supervisor children.
//!
//! Ported from Elixir's `Supervisor` docs ("Child specification", "use GenServer defines
//! child_spec/1") and `supervisor.erl`'s child spec table: id required, restart `permanent`,
//! shutdown 5000 for workers and `infinity` for supervisors, type `worker`, significant false.

mod common;

use std::time::Duration;

use common::*;
use runtime::{Agent, ExitReason, GenServer, Init, Reply, ReplyTo, Server, StartOpts, gen_server};
use supervisor::{Child, ChildSpec, ChildType, Restart, Shutdown, Supervisor, SupervisorOpts};

/// Seed 003's SimpleQueue: a GenServer holding a queue, started with its initial contents.
struct SimpleQueue(Vec<u32>);

impl GenServer for SimpleQueue {
    type Arg = Vec<u32>;
    type Call = ();
    type Reply = Option<u32>;
    type Cast = u32;
    type Continue = ();
    fn init(q: Vec<u32>) -> Init<Self> {
        Init::Ok(SimpleQueue(q))
    }
    fn handle_call(&mut self, _: (), _: ReplyTo<Option<u32>>) -> Reply<Option<u32>> {
        Reply::Reply(if self.0.is_empty() {
            None
        } else {
            Some(self.0.remove(0))
        })
    }
    fn handle_cast(&mut self, n: u32) -> runtime::Next {
        if n == 0 {
            panic!("zero is not allowed");
        }
        self.0.push(n);
        runtime::Next::Wait
    }
}

impl Child for SimpleQueue {}

/// A server with its own child spec (a transient worker under a fixed id, registered).
struct Registered;

impl GenServer for Registered {
    type Arg = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();
    fn init(_: ()) -> Init<Self> {
        Init::Ok(Registered)
    }
}

impl Child for Registered {
    fn child_spec(_: ()) -> ChildSpec {
        ChildSpec::worker("registered", || {
            gen_server::start_link::<Registered>((), StartOpts::new().name("child_spec_registered"))
        })
        .restart(Restart::Transient)
    }
}

#[test]
fn the_default_child_spec_of_a_gen_server() {
    let spec = SimpleQueue::child_spec(vec![1, 2, 3]);
    assert_eq!(spec.id(), "SimpleQueue");
    assert_eq!(spec.restart_type(), Restart::Permanent);
    assert_eq!(
        spec.shutdown_type(),
        Shutdown::Timeout(Duration::from_millis(5000))
    );
    assert_eq!(spec.child_type(), ChildType::Worker);
    assert!(!spec.is_significant());
    assert_eq!(
        spec.to_string(),
        "%{id: \"SimpleQueue\", restart: :permanent, shutdown: 5000, type: :worker}"
    );
}

#[test]
fn a_gen_server_child_is_restarted_with_its_initial_argument() {
    // Seed 003, Example 2: children = [{SimpleQueue, [1, 2, 3]}]; "If it crashes, the
    // Supervisor would restart it as if nothing had happened."
    quiet();
    let sup = Supervisor::start_link(
        vec![SimpleQueue::child_spec(vec![1, 2, 3])],
        SupervisorOpts::new(),
    )
    .expect("start");
    let pid = child_pid(&sup, "SimpleQueue");
    let q = Server::<SimpleQueue>::from_pid(pid);
    assert_eq!(q.call(()), Ok(Some(1)));
    let down = runtime::monitor(pid);
    q.cast(0); // crashes it
    let _ = runtime::receive_match_timeout(WAIT, |d: &runtime::Down| d.monitor == down);
    let q = Server::<SimpleQueue>::from_pid(child_pid(&sup, "SimpleQueue"));
    assert_eq!(
        q.call(()),
        Ok(Some(1)),
        "a fresh queue from the initial argument"
    );
    stop(&sup, &[pid]);
}

#[test]
fn an_overridden_child_spec_and_a_registered_server() {
    quiet();
    let sup = Supervisor::start_link(vec![Registered::child_spec(())], SupervisorOpts::new())
        .expect("start");
    let spec = sup.get_childspec("registered").expect("spec");
    assert_eq!(spec.restart_type(), Restart::Transient);
    let pid = runtime::whereis("child_spec_registered").expect("registered");
    assert_eq!(child_pid(&sup, "registered"), pid);
    kill(pid);
    // Asked after the kill, the supervisor answers once it has restarted the server.
    let again = child_pid(&sup, "registered");
    assert_ne!(again, pid);
    assert_eq!(runtime::whereis("child_spec_registered"), Some(again));
    // Stopped normally, a transient server stays stopped.
    Server::<Registered>::from_pid(again)
        .stop(ExitReason::Normal, None)
        .expect("stop");
    assert_eq!(child(&sup, "registered"), supervisor::ChildPid::Undefined);
    assert_eq!(runtime::whereis("child_spec_registered"), None);
    stop(&sup, &[]);
}

#[test]
fn agents_and_gen_servers_returning_ignore_or_errors_as_children() {
    quiet();
    struct Refuses;
    impl GenServer for Refuses {
        type Arg = bool;
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Continue = ();
        fn init(ignore: bool) -> Init<Self> {
            if ignore {
                Init::Ignore
            } else {
                Init::Stop(ExitReason::custom("refused"))
            }
        }
    }
    let sup = Supervisor::start_link(
        vec![
            ChildSpec::worker("agent", || Agent::start_link(|| 0u32, StartOpts::new())),
            ChildSpec::worker("ignored", || {
                gen_server::start_link::<Refuses>(true, StartOpts::new())
            }),
        ],
        SupervisorOpts::new(),
    )
    .expect("start");
    assert!(matches!(child(&sup, "agent"), supervisor::ChildPid::Pid(_)));
    assert_eq!(child(&sup, "ignored"), supervisor::ChildPid::Undefined);
    assert_eq!(
        sup.start_child(ChildSpec::worker("refused", || {
            gen_server::start_link::<Refuses>(false, StartOpts::new())
        })),
        Err(supervisor::StartChildError::Failed(ExitReason::custom(
            "refused"
        )))
    );
    let agent = child_pid(&sup, "agent");
    stop(&sup, &[agent]);
}

#[test]
fn builder_methods_and_the_supervisor_default_shutdown() {
    let s = Supervisor::child_spec("sub", vec![], SupervisorOpts::new());
    assert_eq!(s.child_type(), ChildType::Supervisor);
    assert_eq!(s.shutdown_type(), Shutdown::Infinity);
    let w = ChildSpec::worker("w", || runtime::spawn_link(|| {}))
        .restart(Restart::Temporary)
        .shutdown(Shutdown::BrutalKill)
        .with_id("renamed");
    assert_eq!(w.id(), "renamed");
    assert_eq!(
        w.to_string(),
        "%{id: \"renamed\", restart: :temporary, shutdown: :brutal_kill, type: :worker}"
    );
}
