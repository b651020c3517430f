//! Seed 003, "Building a Supervised Customer Support Ticket System": the
//! `SupportSystem.TicketWorker` GenServer, one process per ticket, with the seed's
//! `:assign_agent` and `:resolve` calls:
//!
//! ```elixir
//! def init(ticket), do: {:ok, ticket}
//! def handle_call(:assign_agent, _from, ticket),
//!   do: {:reply, :ok, Map.put(ticket, :status, :assigned)}
//! def handle_call(:resolve, _from, ticket),
//!   do: {:reply, :ok, Map.put(ticket, :status, :resolved)}
//! ```
//!
//! `create_ticket` starts a worker per ticket (the seed does it under a DynamicSupervisor; here
//! the demo process is the parent). The worker also takes the agent's name, and answers
//! `:sys.get_state/1` with a `Ticket` call so the transcript can show each ticket's state.
//!
//! Run with `cargo run -p examples --bin seed003_tickets`.

use std::fmt;

use examples::{Checker, banner};
use runtime::{
    CallError, ExitReason, GenServer, Init, Reply, ReplyTo, Server, StartError, StartOpts,
    gen_server, is_alive, processes, self_pid,
};

/// A ticket's status, as the atoms of the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Open,
    Assigned,
    Resolved,
}

/// `%{id: 1, description: "Login issue", status: :open}`, plus the agent once assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ticket {
    id: u32,
    description: String,
    status: Status,
    agent: Option<String>,
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Status::Open => ":open",
            Status::Assigned => ":assigned",
            Status::Resolved => ":resolved",
        };
        write!(
            f,
            "%{{id: {}, description: {:?}, status: {status}",
            self.id, self.description
        )?;
        if let Some(a) = &self.agent {
            write!(f, ", agent: {a:?}")?;
        }
        f.write_str("}")
    }
}

/// The ticket worker: its state is the ticket.
struct TicketWorker(Ticket);

/// The calls of the seed, plus `Ticket` for `:sys.get_state`.
enum TicketCall {
    /// `:assign_agent`, naming the agent.
    AssignAgent(String),
    /// `:resolve`.
    Resolve,
    /// Reads the ticket.
    Ticket,
}

/// `:ok`, `{:error, reason}`, or the ticket.
#[derive(Debug, PartialEq)]
enum TicketReply {
    Ok,
    Error(&'static str),
    Ticket(Ticket),
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

    fn handle_call(&mut self, req: TicketCall, _from: ReplyTo<TicketReply>) -> Reply<TicketReply> {
        let t = &mut self.0;
        match req {
            TicketCall::AssignAgent(agent) => {
                // The seed assigns unconditionally; a resolved ticket staying resolved is the
                // one rule a real desk would add.
                if t.status == Status::Resolved {
                    return Reply::Reply(TicketReply::Error("already_resolved"));
                }
                t.status = Status::Assigned;
                t.agent = Some(agent);
                Reply::Reply(TicketReply::Ok)
            }
            TicketCall::Resolve => {
                t.status = Status::Resolved;
                Reply::Reply(TicketReply::Ok)
            }
            TicketCall::Ticket => Reply::Reply(TicketReply::Ticket(t.clone())),
        }
    }
}

/// `SupportSystem.TicketSupervisor.create_ticket/1`: one linked worker per ticket.
fn create_ticket(ticket: Ticket) -> Result<Server<TicketWorker>, StartError> {
    gen_server::start_link::<TicketWorker>(ticket, StartOpts::new())
}

fn ticket_of(c: &Checker, s: &Server<TicketWorker>) -> Ticket {
    match s.call(TicketCall::Ticket) {
        Ok(TicketReply::Ticket(t)) => t,
        other => c.fail(&format!("reading the ticket gave {other:?}")),
    }
}

fn say(reply: &Result<TicketReply, CallError>) {
    match reply {
        Ok(TicketReply::Ok) => println!(":ok"),
        Ok(TicketReply::Error(e)) => println!("{{:error, :{e}}}"),
        Ok(TicketReply::Ticket(t)) => println!("{t}"),
        Err(e) => println!("** (exit) {e}"),
    }
}

fn main() {
    let mut c = Checker::new("seed003_tickets");

    banner("Create a ticket");
    println!("iex> ticket_details = %{{id: 1, description: \"Login issue\", status: :open}}");
    println!("iex> {{:ok, pid}} = SupportSystem.TicketSupervisor.create_ticket(ticket_details)");
    let login = create_ticket(Ticket {
        id: 1,
        description: "Login issue".into(),
        status: Status::Open,
        agent: None,
    })
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    let pid = login.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("{{:ok, #PID{pid}}}");
    println!("iex> :sys.get_state(pid)");
    let t = ticket_of(&c, &login);
    println!("{t}");
    c.check("a new ticket is open", t.status == Status::Open);

    banner("Assign an agent to the ticket");
    println!("iex> GenServer.call(pid, {{:assign_agent, \"ana\"}})");
    let r = login.call(TicketCall::AssignAgent("ana".into()));
    say(&r);
    c.check("assign_agent replies :ok", r == Ok(TicketReply::Ok));
    println!("iex> :sys.get_state(pid)");
    let t = ticket_of(&c, &login);
    println!("{t}");
    c.check(
        "the ticket is assigned to ana",
        t.status == Status::Assigned && t.agent.as_deref() == Some("ana"),
    );

    banner("A second ticket is a process of its own");
    println!(
        "iex> {{:ok, pid2}} = SupportSystem.TicketSupervisor.create_ticket(%{{id: 2, description: \"Invoice missing\", status: :open}})"
    );
    let invoice = create_ticket(Ticket {
        id: 2,
        description: "Invoice missing".into(),
        status: Status::Open,
        agent: None,
    })
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    let pid2 = invoice.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("{{:ok, #PID{pid2}}}");
    c.check("each ticket has its own process", pid2 != pid);

    banner("Resolve the first ticket");
    println!("iex> GenServer.call(pid, :resolve)");
    let r = login.call(TicketCall::Resolve);
    say(&r);
    c.check("resolve replies :ok", r == Ok(TicketReply::Ok));
    println!("iex> :sys.get_state(pid)");
    let t = ticket_of(&c, &login);
    println!("{t}");
    c.check("the ticket is resolved", t.status == Status::Resolved);
    println!("iex> :sys.get_state(pid2)");
    let t2 = ticket_of(&c, &invoice);
    println!("{t2}");
    c.check(
        "the other ticket is untouched",
        t2.status == Status::Open && t2.agent.is_none(),
    );
    println!("iex> GenServer.call(pid, {{:assign_agent, \"bo\"}})");
    let r = login.call(TicketCall::AssignAgent("bo".into()));
    say(&r);
    c.check(
        "a resolved ticket cannot be reassigned",
        r == Ok(TicketReply::Error("already_resolved")),
    );

    banner("Closing the desk");
    for (name, s) in [("pid", &login), ("pid2", &invoice)] {
        println!("iex> GenServer.stop({name})");
        let stopped = s.stop(ExitReason::Normal, None);
        println!("{}", if stopped.is_ok() { ":ok" } else { "error" });
        c.check(&format!("{name} stopped"), stopped.is_ok());
    }
    c.check("both workers are gone", !is_alive(pid) && !is_alive(pid2));
    println!("iex> GenServer.call(pid, :resolve)");
    let r = login.call(TicketCall::Resolve);
    say(&r);
    c.check(
        "a call to a stopped worker is NoProc",
        r == Err(CallError::NoProc),
    );
    c.check(
        "no process is left running",
        processes() == vec![self_pid()],
    );

    c.finish();
}
