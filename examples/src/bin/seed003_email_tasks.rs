//! Seed 003, "Task Supervision": "Running a background job to send email notifications":
//!
//! ```elixir
//! children = [{Task.Supervisor, name: ExampleApp.TaskSupervisor, restart: :transient}]
//! {:ok, pid} = Supervisor.start_link(children, strategy: :one_for_one)
//! {:ok, pid} = Task.Supervisor.start_child(ExampleApp.TaskSupervisor, fn -> send_emails end)
//! ```
//!
//! The mailer is a process that "delivers" each email by noting it. Tasks are temporary
//! children: fire and forget, and a crashed one is not run again, unless started with
//! `restart: :transient`. `async_nolink` gives the caller the task's result, or its crash as
//! an error, never an exit signal.
//!
//! Run with `cargo run -p examples --bin seed003_email_tasks`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use examples::{Checker, banner};
use runtime::{
    Down, Exit, ExitReason, Pid, TaskError, monitor, processes, receive, receive_match_timeout,
    receive_timeout, self_pid, send, trap_exit,
};
use supervisor::{DynamicOpts, Restart, Supervisor, SupervisorOpts, TaskSupervisor, render_tree};

const WAIT: Duration = Duration::from_secs(5);

/// An email handed to the (pretend) mail server: the shell is the mail server here.
#[derive(Debug)]
struct Delivered(String);

/// `send_emails`: delivers one email per address.
fn send_emails(mail_server: Pid, to: &[&str]) {
    for addr in to {
        send(mail_server, Delivered(format!("notification to {addr}")));
    }
}

fn delivered_now() -> Vec<String> {
    let mut v = Vec::new();
    while let Some(Delivered(m)) = receive_timeout(Duration::ZERO) {
        v.push(m);
    }
    v
}

fn main() {
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed003_email_tasks");
    let shell = self_pid();

    banner("A named Task.Supervisor under the application's supervisor");
    let app = Supervisor::start_link(
        vec![
            TaskSupervisor::child_spec(
                "ExampleApp.TaskSupervisor",
                DynamicOpts::new().name("ExampleApp.TaskSupervisor"),
            )
            .restart(Restart::Transient),
        ],
        SupervisorOpts::new(),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> children = [{{Task.Supervisor, name: ExampleApp.TaskSupervisor, restart: :transient}}]"
    );
    println!("iex> {{:ok, pid}} = Supervisor.start_link(children, strategy: :one_for_one)");
    let app_pid = app.pid().unwrap_or_else(|| c.fail("no pid"));
    println!("{{:ok, {app_pid}}}");
    let tasks = TaskSupervisor::named("ExampleApp.TaskSupervisor");
    c.check(
        "the task supervisor runs under its name",
        tasks.pid().is_some(),
    );

    banner("Fire and forget: start_child");
    let job = tasks
        .start_child(move || send_emails(shell, &["ana@example.com", "ben@example.com"]))
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> {{:ok, pid}} = Task.Supervisor.start_child(ExampleApp.TaskSupervisor, fn -> send_emails end)"
    );
    println!("{{:ok, {job}}}");
    let m = monitor(job);
    let down = receive_match_timeout(WAIT, |d: &Down| d.monitor == m);
    let mails = delivered_now();
    for mail in &mails {
        println!("   delivered: {mail}");
    }
    c.check(
        "the job ran in the background and ended normally",
        mails.len() == 2
            && down.is_some_and(|d| matches!(d.reason, ExitReason::Normal | ExitReason::NoProc)),
    );
    c.check(
        "a finished task is no longer a child",
        tasks.children().is_ok_and(|k| k.is_empty()),
    );

    banner("A crashing job does not take the supervisor down, and is not run again");
    let bad = tasks
        .start_child(|| panic!("SMTP server unreachable"))
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let m = monitor(bad);
    let _ = receive_match_timeout(WAIT, |d: &Down| d.monitor == m);
    println!(
        "iex> Task.Supervisor.start_child(ExampleApp.TaskSupervisor, fn -> raise \"SMTP server unreachable\" end)"
    );
    c.check(
        "the task supervisor is still running, with no child",
        tasks.children().is_ok_and(|k| k.is_empty()),
    );

    banner("restart: :transient runs a job again until it ends normally");
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let _flaky = tasks
        .start_child_with(Restart::Transient, move || {
            let n = a.fetch_add(1, Ordering::SeqCst) + 1;
            if n < 3 {
                panic!("attempt {n}: connection reset");
            }
            send_emails(shell, &["cy@example.com"]);
        })
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!(
        "iex> Task.Supervisor.start_child(ExampleApp.TaskSupervisor, &flaky_send/0, restart: :transient)"
    );
    let Delivered(mail) = receive();
    println!(
        "   delivered: {mail}  (after {} attempts)",
        attempts.load(Ordering::SeqCst)
    );
    c.check(
        "the transient job was run until it succeeded, on its third attempt",
        attempts.load(Ordering::SeqCst) == 3,
    );
    print!("{}", render_tree(app_pid));

    banner("async_nolink: the result, or the crash as an error, never an exit signal");
    trap_exit(true);
    let count = tasks
        .async_nolink(|| ["dee@example.com", "eve@example.com"].len())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let sent = count.join();
    println!(
        "iex> task = Task.Supervisor.async_nolink(ExampleApp.TaskSupervisor, fn -> count_recipients end)"
    );
    println!("iex> Task.await(task)\n{sent:?}");
    c.check("async_nolink returned the task's result", sent == Ok(2));
    let failing = tasks
        .async_nolink(|| -> usize { panic!("template missing") })
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let failing_pid = failing.pid();
    let r = failing.join();
    println!(
        "iex> Task.Supervisor.async_nolink(ExampleApp.TaskSupervisor, fn -> raise \"template missing\" end) |> Task.yield()"
    );
    println!("{r:?}");
    c.check(
        "the crash came back as an error",
        matches!(r, Err(TaskError::Exit(ExitReason::Panic(_)))),
    );
    c.check(
        "and no exit signal reached the caller",
        receive_match_timeout(Duration::ZERO, |e: &Exit| e.from == failing_pid).is_none(),
    );
    trap_exit(false);

    banner("Stopping the application");
    app.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Supervisor.stop(pid)\n:ok");
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
