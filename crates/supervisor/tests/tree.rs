//! The text view of a live supervision tree ("an overview of the child processes", seed 000).
//!
//! Not an OTP port: OTP's closest tool is observer's application tree, which shows the same
//! facts (ids, pids, kinds); the checks below pin what each line must carry.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use runtime::{ExitReason, self_pid};
use supervisor::{
    ChildSpec, DynamicOpts, DynamicSupervisor, Restart, Strategy, Supervisor, SupervisorOpts,
    render_tree,
};

#[test]
fn the_tree_shows_ids_pids_strategies_restart_types_and_nesting() {
    quiet();
    let me = self_pid();
    let broken = Arc::new(AtomicBool::new(false));
    let b = broken.clone();
    let flaky = ChildSpec::worker("flaky", move || {
        if b.load(Ordering::SeqCst) {
            Err(ExitReason::custom("broken"))
        } else {
            start_worker("flaky", me, false)
        }
    });
    let nested = Supervisor::child_spec(
        "pipeline",
        vec![
            worker("producer", me),
            worker("consumer", me).restart(Restart::Transient),
        ],
        SupervisorOpts::new().strategy(Strategy::RestForOne),
    );
    let rooms = DynamicSupervisor::<()>::child_spec("rooms", DynamicOpts::new().max_children(10));
    let top = Supervisor::start_link(
        vec![worker("db", me), nested, rooms, flaky],
        SupervisorOpts::new()
            .name("tree_test_top")
            .max_restarts(1_000_000)
            .max_seconds(Duration::from_secs(3600)),
    )
    .expect("start");
    let rooms = DynamicSupervisor::<()>::from_pid(child_pid(&top, "rooms"));
    let room = rooms
        .start_child(worker("room", me).restart(Restart::Temporary))
        .expect("room")
        .expect("pid");
    let flaky_pid = child_pid(&top, "flaky");
    broken.store(true, Ordering::SeqCst);
    crash(flaky_pid, ExitReason::custom("boom"));

    let tree = render_tree(top.pid().expect("running"));
    println!("{tree}");
    let lines: Vec<&str> = tree.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "Supervisor {} \"tree_test_top\" one_for_one",
            top.pid().expect("pid")
        )),
        "{tree}"
    );
    let db = child_pid(&top, "db");
    assert!(
        tree.contains(&format!("worker \"db\" {db} permanent")),
        "{tree}"
    );
    assert!(tree.contains("supervisor \"pipeline\""), "{tree}");
    assert!(tree.contains("rest_for_one"), "{tree}");
    assert!(tree.contains("worker \"consumer\""), "{tree}");
    assert!(tree.contains(" transient"), "{tree}");
    assert!(tree.contains("DynamicSupervisor"), "{tree}");
    assert!(tree.contains("1 children (max 10)"), "{tree}");
    assert!(tree.contains(&format!("worker {room} temporary")), "{tree}");
    assert!(
        tree.contains("worker \"flaky\" :restarting permanent"),
        "{tree}"
    );
    // The grandchildren are drawn under their supervisor, indented.
    let pipeline = lines
        .iter()
        .position(|l| l.contains("\"pipeline\""))
        .expect("pipeline line");
    let producer = lines
        .iter()
        .position(|l| l.contains("\"producer\""))
        .expect("producer line");
    assert!(producer > pipeline);
    let indent = |l: &str| l.chars().take_while(|c| !c.is_alphanumeric()).count();
    assert!(indent(lines[producer]) > indent(lines[pipeline]), "{tree}");
    broken.store(false, Ordering::SeqCst);
    stop(&top, &[db, room]);
}

#[test]
fn a_child_marked_supervisor_that_is_not_one_does_not_hang_the_view() {
    // A child of type supervisor whose process does not answer supervisor requests (a plain
    // process, or a server of another kind) is shown as not answering.
    quiet();
    let fake = ChildSpec::supervisor("fake", || {
        runtime::spawn_link(|| {
            let _: () = runtime::receive();
        })
    });
    let top = Supervisor::start_link(vec![fake], SupervisorOpts::new()).expect("start");
    let fake_pid = child_pid(&top, "fake");
    let (tx, rx) = std::sync::mpsc::channel();
    let root = top.pid().expect("running");
    let viewer = runtime::spawn(move || {
        let _ = tx.send(render_tree(root));
    });
    let tree = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("render_tree returned");
    assert!(
        tree.contains(&format!("supervisor \"fake\" {fake_pid}")),
        "{tree}"
    );
    assert!(
        tree.contains(&format!("    └── (supervisor {fake_pid} is not answering)")),
        "{tree}"
    );
    wait_all_end(&[viewer]);
    stop(&top, &[fake_pid]);
}
