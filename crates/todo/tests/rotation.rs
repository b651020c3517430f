//! Log rotation and checkpoints, with a log small enough to rotate often (in a test binary of
//! its own, since the rotation size is set for the whole program).

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected error

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{data_dir, date, exclusive, start};
use runtime::{Down, ExitReason, Task, exit, monitor, receive_match, receive_timeout};
use supervisor::{ChildPid, DynamicSupervisor};
use todo::{Cache, Database, Key, ProcessRegistry, SERVER_SUPERVISOR};

/// A message nobody sends.
struct Never;

#[test]
fn logs_rotate_and_checkpoint_without_losing_a_write() {
    // Change records of ~150 bytes and snapshots of a few KiB (each list's first record in a
    // log) against a 16 KiB log: each worker rotates its log and checkpoints the old one many
    // times, while its lists keep changing; a worker is killed
    // mid-way (its checkpoint dies with it). Every acknowledged entry is then read back by
    // fresh servers, and again after a restart of the whole program.
    let _x = exclusive();
    Database::set_log_rotation(16 << 10);
    let dir = data_dir("rotate");
    let system = start(&dir);
    let acked = Arc::new(AtomicUsize::new(0));
    let title = "x".repeat(100);
    let writers: Vec<Task<Vec<(String, String)>>> = (0..4)
        .map(|w| {
            let (acked, title) = (acked.clone(), title.clone());
            Task::spawn(move || {
                let mut mine = Vec::new();
                for n in 0..150 {
                    let list = format!("list {}", (w + n) % 6);
                    let t = format!("w{w}-{n}-{title}");
                    let ok = Cache::server_process(&list)
                        .and_then(|s| s.add_entry(date("2018-12-19"), t.clone()));
                    if ok.is_ok() {
                        mine.push((list, t));
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                }
                mine
            })
        })
        .collect();
    // Half-way, a worker dies.
    for _ in 0..5_000 {
        if acked.load(Ordering::SeqCst) >= 300 {
            break;
        }
        let _ = receive_timeout::<Never>(std::time::Duration::from_millis(1));
    }
    let victim = ProcessRegistry::whereis(&Key::DatabaseWorker(1)).unwrap();
    let m = monitor(victim);
    exit(victim, ExitReason::Kill);
    let _: Down = receive_match(|d: &Down| d.monitor == m);
    let mut all = Vec::new();
    for t in writers {
        all.extend(t.join().unwrap());
    }
    assert!(all.len() >= 300, "{} writes acknowledged", all.len());

    let check = |all: &[(String, String)]| {
        for c in DynamicSupervisor::<()>::named(SERVER_SUPERVISOR)
            .which_children()
            .unwrap()
        {
            if let ChildPid::Pid(p) = c.pid {
                let m = monitor(p);
                exit(p, ExitReason::Kill);
                let _: Down = receive_match(|d: &Down| d.monitor == m);
            }
        }
        for (list, t) in all {
            let entries = Cache::server_process(list)
                .unwrap()
                .entries(date("2018-12-19"))
                .unwrap();
            assert!(entries.iter().any(|e| &e.title == t), "{list}: {t} is lost");
        }
    };
    check(&all);
    system.stop().unwrap();
    // A stop lets the checkpoints finish and writes what the workers hold: every list has its
    // file, and no old log or temporary file is left.
    assert_eq!(Database::stored_lists(&dir).unwrap().len(), 6);
    let left: Vec<String> = std::fs::read_dir(&*dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".old"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let system = start(&dir);
    check(&all);
    system.stop().unwrap();
}

/// Adds entries `"{n} {title}"` to `server`, counting them in `n`, while `go_on()`; fails with
/// `what` if that takes more than 30 seconds.
fn add_while(
    server: &todo::TodoServer,
    n: &mut usize,
    title: &str,
    what: &str,
    mut go_on: impl FnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while go_on() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        server
            .add_entry(date("2018-12-19"), format!("{n} {title}"))
            .unwrap();
        *n += 1;
    }
}

/// Whether any worker has an old log (a checkpoint not done).
fn old_logs(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().ends_with(".old"))
}

#[test]
fn a_failed_checkpoint_is_tried_again_once_the_disk_lets_it() {
    // A directory where the list `blocked` keeps its file makes every checkpoint of its
    // worker fail (a file cannot be renamed over a directory). Writes are still acknowledged
    // and read back; once the directory is gone, a later rotation point checkpoints again and
    // the old log goes, with no restart.
    let _x = exclusive();
    Database::set_log_rotation(16 << 10);
    let dir = data_dir("retry");
    let system = start(&dir);
    let server = Cache::server_process("blocked").unwrap();
    let title = "y".repeat(100);
    server
        .add_entry(date("2018-12-19"), "first".to_owned())
        .unwrap();
    let obstacle = dir.join("blocked.list");
    std::fs::create_dir_all(obstacle.join("in the way")).unwrap();
    // Each write logs its entry (~150 bytes): a few hundred make several 16 KiB logs, many
    // rotation points, each with a checkpoint that fails.
    for n in 0..300 {
        server
            .add_entry(date("2018-12-19"), format!("{n} {title}"))
            .unwrap();
    }
    assert!(obstacle.is_dir());
    assert!(old_logs(&dir), "the failed checkpoint keeps the old log");
    std::fs::remove_dir_all(&obstacle).unwrap();
    let mut n = 300;
    add_while(
        &server,
        &mut n,
        &title,
        "the checkpoint was never tried again",
        || old_logs(&dir) || !obstacle.is_file(),
    );
    system.stop().unwrap();
    let system = start(&dir);
    let entries = Cache::server_process("blocked")
        .unwrap()
        .entries(date("2018-12-19"))
        .unwrap();
    assert_eq!(entries.len(), n + 1, "every acknowledged entry is there");
    system.stop().unwrap();
}

#[test]
fn a_rotation_that_cannot_make_its_fresh_log_tries_again() {
    // The first rotations fail to make their fresh log, as on a full disk: records go on into
    // the renamed (old) log, which must then outlive every checkpoint. A second later a
    // rotation point makes the fresh log, checkpoints the old one, and removes it, with no
    // restart; every acknowledged entry is there after one.
    let _x = exclusive();
    Database::set_log_rotation(16 << 10);
    let dir = data_dir("fresh");
    let system = start(&dir);
    let server = Cache::server_process("stuck").unwrap();
    let title = "z".repeat(100);
    Database::fail_fresh_logs(2);
    let mut n = 0;
    // Until the rotation has failed: the old log is there.
    add_while(&server, &mut n, &title, "no rotation happened", || {
        !old_logs(&dir)
    });
    // Then until both injected failures are used and the retry succeeded: the old log goes.
    add_while(
        &server,
        &mut n,
        &title,
        "the fresh log was never tried again",
        || old_logs(&dir),
    );
    Database::fail_fresh_logs(0);
    system.stop().unwrap();
    let system = start(&dir);
    let entries = Cache::server_process("stuck")
        .unwrap()
        .entries(date("2018-12-19"))
        .unwrap();
    assert_eq!(entries.len(), n, "every acknowledged entry is there");
    system.stop().unwrap();
}
