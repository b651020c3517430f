//! Seed 003, "Exercise: Building a Supervised Customer Support Ticket System", the whole
//! application: `SupportSystem.Application` starts a one_for_one top supervisor
//! (`SupportSystem.Supervisor`) whose one child is `SupportSystem.TicketSupervisor`, a named
//! `DynamicSupervisor` that starts a `TicketWorker` per ticket:
//!
//! ```elixir
//! children = [SupportSystem.TicketSupervisor]
//! opts = [strategy: :one_for_one, name: SupportSystem.Supervisor]
//! Supervisor.start_link(children, opts)
//!
//! def create_ticket(ticket_details) do
//!   spec = {SupportSystem.TicketWorker, ticket_details}
//!   DynamicSupervisor.start_child(__MODULE__, spec)
//! end
//! ```
//!
//! Then the seed's IEx session (create, `:assign_agent`, `:resolve`), and what supervision adds:
//! a ticket whose worker crashes is restarted without touching the others, and a crash of the
//! ticket supervisor itself is repaired by the top supervisor. (`seed003_tickets` is the worker
//! alone.)
//!
//! Run with `cargo run -p examples --bin seed003_ticket_system`.

use std::fmt;
use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Pid, Reply, ReplyTo, Server, exit, monitor,
    processes, receive_match_timeout, self_pid, whereis,
};
use supervisor::{
    Child, ChildPid, DynamicOpts, DynamicSupervisor, Strategy, Supervisor, SupervisorOpts,
    render_tree,
};

const WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Open,
    Assigned,
    Resolved,
}

/// `%{id: 1, description: "Login issue", status: :open}`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ticket {
    id: u32,
    description: &'static str,
    status: Status,
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Status::Open => "open",
            Status::Assigned => "assigned",
            Status::Resolved => "resolved",
        };
        write!(
            f,
            "%{{id: {}, description: {:?}, status: :{status}}}",
            self.id, self.description
        )
    }
}

fn ticket(id: u32, description: &'static str) -> Ticket {
    Ticket {
        id,
        description,
        status: Status::Open,
    }
}

/// `SupportSystem.TicketWorker`: its state is the ticket.
struct TicketWorker(Ticket);

enum TicketCall {
    /// `:assign_agent`
    AssignAgent,
    /// `:resolve`
    Resolve,
    /// `:sys.get_state(pid)`
    GetState,
    /// A request the worker has no clause for: in Elixir a `FunctionClauseError` crashes it.
    Escalate,
}

#[derive(Debug, PartialEq)]
enum TicketReply {
    Ok,
    State(Ticket),
}

impl GenServer for TicketWorker {
    type Arg = Ticket;
    type Call = TicketCall;
    type Reply = TicketReply;
    type Cast = ();
    type Continue = ();

    fn init(ticket: Ticket) -> Init<Self> {
        Init::Ok(TicketWorker(ticket))
    }

    fn handle_call(&mut self, req: TicketCall, _: ReplyTo<TicketReply>) -> Reply<TicketReply> {
        match req {
            TicketCall::AssignAgent => {
                self.0.status = Status::Assigned;
                Reply::Reply(TicketReply::Ok)
            }
            TicketCall::Resolve => {
                self.0.status = Status::Resolved;
                Reply::Reply(TicketReply::Ok)
            }
            TicketCall::GetState => Reply::Reply(TicketReply::State(self.0.clone())),
            TicketCall::Escalate => panic!("no function clause matching in handle_call/3"),
        }
    }
}

// `use GenServer`: the default child spec, a permanent worker started with start_link(ticket).
impl Child for TicketWorker {}

/// `SupportSystem.TicketSupervisor`.
struct TicketSupervisor;

impl TicketSupervisor {
    const NAME: &'static str = "SupportSystem.TicketSupervisor";

    fn sup() -> DynamicSupervisor {
        DynamicSupervisor::named(Self::NAME)
    }

    /// `create_ticket(ticket_details)`.
    fn create_ticket(details: Ticket) -> Result<Pid, String> {
        match Self::sup().start_child(TicketWorker::child_spec(details)) {
            Ok(Some(pid)) => Ok(pid),
            other => Err(format!("{other:?}")),
        }
    }

    fn tickets() -> Vec<Pid> {
        Self::sup()
            .which_children()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| match c.pid {
                ChildPid::Pid(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

/// `SupportSystem.Application.start/2`.
fn application_start() -> Result<Supervisor, String> {
    let children = vec![DynamicSupervisor::<()>::child_spec(
        "SupportSystem.TicketSupervisor",
        DynamicOpts::new().name(TicketSupervisor::NAME),
    )];
    let opts = SupervisorOpts::new()
        .strategy(Strategy::OneForOne)
        .name("SupportSystem.Supervisor");
    Supervisor::start_link(children, opts).map_err(|e| e.to_string())
}

fn call(pid: Pid, req: TicketCall) -> Result<TicketReply, CallError> {
    Server::<TicketWorker>::from_pid(pid).call(req)
}

fn state(c: &Checker, pid: Pid) -> Ticket {
    match call(pid, TicketCall::GetState) {
        Ok(TicketReply::State(t)) => t,
        other => c.fail(&format!("get_state({pid}): {other:?}")),
    }
}

fn iex(r: &Result<TicketReply, CallError>) -> String {
    match r {
        Ok(TicketReply::Ok) => ":ok".into(),
        Ok(TicketReply::State(t)) => t.to_string(),
        Err(e) => format!("** (exit) {e}"),
    }
}

fn main() {
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed003_ticket_system");
    let shell = self_pid();

    banner("iex -S mix: the application starts its supervision tree");
    let app = application_start().unwrap_or_else(|e| c.fail(&e));
    let app_pid = app.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("iex> Supervisor.which_children(SupportSystem.Supervisor)");
    for ch in app.which_children().unwrap_or_default() {
        println!(
            "[{{{}, {}, :{}, [DynamicSupervisor]}}]",
            ch.id.unwrap_or_default(),
            ch.pid,
            ch.kind
        );
    }
    c.check(
        "the top supervisor and the ticket supervisor run under their names",
        whereis("SupportSystem.Supervisor") == Some(app_pid)
            && whereis(TicketSupervisor::NAME).is_some(),
    );

    banner("Create a ticket, assign an agent, resolve it");
    println!("iex> ticket_details = %{{id: 1, description: \"Login issue\", status: :open}}");
    let pid =
        TicketSupervisor::create_ticket(ticket(1, "Login issue")).unwrap_or_else(|e| c.fail(&e));
    println!("iex> {{:ok, pid}} = SupportSystem.TicketSupervisor.create_ticket(ticket_details)");
    println!("{{:ok, {pid}}}");
    c.check(
        "the ticket's worker is a child of the ticket supervisor",
        TicketSupervisor::tickets() == vec![pid],
    );
    let r = call(pid, TicketCall::AssignAgent);
    println!("iex> GenServer.call(pid, :assign_agent)\n{}", iex(&r));
    c.check(
        "assigned",
        r == Ok(TicketReply::Ok) && state(&c, pid).status == Status::Assigned,
    );
    let r = call(pid, TicketCall::Resolve);
    println!("iex> GenServer.call(pid, :resolve)\n{}", iex(&r));
    println!("iex> :sys.get_state(pid)\n{}", state(&c, pid));
    c.check(
        "resolved",
        r == Ok(TicketReply::Ok) && state(&c, pid).status == Status::Resolved,
    );

    banner("More tickets, each a process of its own");
    let pid2 = TicketSupervisor::create_ticket(ticket(2, "Invoice missing"))
        .unwrap_or_else(|e| c.fail(&e));
    let pid3 =
        TicketSupervisor::create_ticket(ticket(3, "Password reset")).unwrap_or_else(|e| c.fail(&e));
    println!(
        "iex> {{:ok, pid2}} = create_ticket(%{{id: 2, description: \"Invoice missing\", status: :open}})\n{{:ok, {pid2}}}"
    );
    println!(
        "iex> {{:ok, pid3}} = create_ticket(%{{id: 3, description: \"Password reset\", status: :open}})\n{{:ok, {pid3}}}"
    );
    let _ = call(pid2, TicketCall::AssignAgent);
    let _ = call(pid3, TicketCall::AssignAgent);
    print!("{}", render_tree(app_pid));

    banner("A crashing ticket is restarted without touching the others");
    let m = monitor(pid2);
    let r = call(pid2, TicketCall::Escalate);
    let d = receive_match_timeout(WAIT, |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail("ticket 2 did not exit"));
    println!("iex> GenServer.call(pid2, :escalate)\n{}", iex(&r));
    c.check(
        "the caller got the worker's crash",
        matches!(r, Err(CallError::Exit(ExitReason::Panic(_)))) && d.pid == pid2,
    );
    let now = TicketSupervisor::tickets();
    println!("iex> DynamicSupervisor.which_children(SupportSystem.TicketSupervisor)");
    for p in &now {
        println!("   {{:undefined, {p}, :worker, [SupportSystem.TicketWorker]}}");
    }
    let new2 = now
        .iter()
        .copied()
        .find(|p| *p != pid && *p != pid3)
        .unwrap_or_else(|| c.fail("ticket 2 was not restarted"));
    c.check(
        "ticket 2 runs again as a new process; tickets 1 and 3 kept their processes",
        now.len() == 3 && now.contains(&pid) && now.contains(&pid3) && !now.contains(&pid2),
    );
    println!("iex> :sys.get_state({new2})\n{}", state(&c, new2));
    println!("iex> :sys.get_state(pid)\n{}", state(&c, pid));
    println!("iex> :sys.get_state(pid3)\n{}", state(&c, pid3));
    c.check(
        "the others kept their state (1 resolved, 3 assigned)",
        state(&c, pid).status == Status::Resolved && state(&c, pid3).status == Status::Assigned,
    );
    // The restart calls start_link(ticket_details) again: what the worker had learned since
    // (the assignment) lived only in the crashed process. Seed 004's demo keeps state in ETS.
    c.check(
        "the restarted ticket starts over from its creation details (status :open)",
        state(&c, new2) == ticket(2, "Invoice missing"),
    );
    let stale = call(pid2, TicketCall::GetState);
    println!("iex> :sys.get_state(pid2)   # the old pid\n{}", iex(&stale));
    c.check(
        "the old pid is dead: callers must ask the supervisor (or a name) for the new one",
        stale == Err(CallError::NoProc),
    );

    banner("The top supervisor repairs the ticket supervisor");
    let old_sup = whereis(TicketSupervisor::NAME).unwrap_or_else(|| c.fail("no ticket supervisor"));
    let all = TicketSupervisor::tickets();
    let m = monitor(old_sup);
    exit(old_sup, ExitReason::Kill);
    let _ = receive_match_timeout(WAIT, |d: &Down| d.monitor == m);
    println!("iex> Process.exit(Process.whereis(SupportSystem.TicketSupervisor), :kill)");
    // Answered once the top supervisor has handled the exit and restarted its child.
    let _ = app.count_children();
    let new_sup = whereis(TicketSupervisor::NAME);
    println!(
        "iex> Process.whereis(SupportSystem.TicketSupervisor)\n{}",
        new_sup.map_or(":undefined".into(), |p| p.to_string())
    );
    c.check(
        "a new ticket supervisor runs under the same name",
        new_sup.is_some_and(|p| p != old_sup),
    );
    c.check(
        "its tickets went down with it, and the new one starts empty (dynamic children are not remembered)",
        all.iter().all(|p| !runtime::is_alive(*p)) && TicketSupervisor::tickets().is_empty(),
    );
    let pid4 = TicketSupervisor::create_ticket(ticket(4, "Refund")).unwrap_or_else(|e| c.fail(&e));
    println!(
        "iex> create_ticket(%{{id: 4, description: \"Refund\", status: :open}})\n{{:ok, {pid4}}}"
    );
    c.check(
        "create_ticket works again, by name",
        runtime::is_alive(pid4),
    );
    print!("{}", render_tree(app_pid));

    banner("Stopping the application");
    app.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Application.stop(:support_system)\n:ok");
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
