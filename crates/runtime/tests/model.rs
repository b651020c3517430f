//! A model-based test of exit signals, links and monitors.
//!
//! Random graphs of a few processes (random trap_exit flags, random links and monitors, with
//! duplicates and self-links) are hit by random exits: `exit/2` sent from the test, `exit/1`
//! (`exit_self`) or `exit/2` sent by a process to itself, with random reasons. Every
//! process's fate and every survivor's Exit and Down messages are checked against a model of
//! OTP's rules (Reference Manual, Processes, "Receiving Exit Signals", "Links", "Monitors";
//! otp-semantics.md 1.2 to 1.4).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{WAIT, assert_all_end};
use proptest::prelude::*;
use runtime::{
    CrashCapture, Down, Exit, ExitReason, Pid, Ref, SpawnOpts, exit, exit_self, link, monitor,
    receive_match_timeout, receive_select, recv, self_pid, send,
};

#[derive(Clone, Copy, Debug)]
enum How {
    /// `exit(pid, reason)` from the test (another process).
    Signal,
    /// The process calls `exit_self(reason)` (`exit/1`).
    ExitSelf,
    /// The process calls `exit(self_pid(), reason)` (`exit/2` to itself).
    SignalSelf,
}

#[derive(Clone, Debug)]
struct Case {
    traps: Vec<bool>,
    links: Vec<(usize, usize)>,
    /// (watcher, target)
    monitors: Vec<(usize, usize)>,
    steps: Vec<(usize, ExitReason, How)>,
}

fn reason() -> impl Strategy<Value = ExitReason> {
    prop_oneof![
        Just(ExitReason::Normal),
        Just(ExitReason::Shutdown),
        Just(ExitReason::shutdown_with("x")),
        Just(ExitReason::Kill),
        Just(ExitReason::Killed),
        Just(ExitReason::custom("boom")),
    ]
}

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        Just(How::Signal),
        Just(How::ExitSelf),
        Just(How::SignalSelf)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=5).prop_flat_map(|n| {
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec((0..n, 0..n), 0..=7),
            prop::collection::vec((0..n, 0..n), 0..=6),
            prop::collection::vec((0..n, reason(), how()), 1..=4),
        )
            .prop_map(|(traps, links, monitors, steps)| Case {
                traps,
                links,
                monitors,
                steps,
            })
    })
}

// ---------------------------------------------------------------------------------------------
// The model.

/// Who sent an exit signal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Src {
    Test,
    Node(usize),
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Note {
    Exit(Src, ExitReason),
    Down(usize, ExitReason),
}

struct Model {
    traps: Vec<bool>,
    fate: Vec<Option<ExitReason>>,
    links: BTreeSet<(usize, usize)>,
    /// (watcher, target), one entry per monitor call.
    monitors: Vec<(usize, usize)>,
    notes: Vec<Vec<Note>>,
}

impl Model {
    fn new(case: &Case) -> Model {
        let n = case.traps.len();
        let mut links = BTreeSet::new();
        for &(a, b) in &case.links {
            if a != b {
                links.insert((a.min(b), a.max(b))); // one link per pair; self-links do nothing
            }
        }
        Model {
            traps: case.traps.clone(),
            fate: vec![None; n],
            links,
            monitors: case.monitors.clone(),
            notes: vec![Vec::new(); n],
        }
    }

    fn alive(&self, i: usize) -> bool {
        self.fate[i].is_none()
    }

    /// Applies one step; returns the processes that died in it.
    fn step(&mut self, target: usize, reason: &ExitReason, how: How) -> Vec<usize> {
        if !self.alive(target) {
            return Vec::new();
        }
        let from = match how {
            How::ExitSelf => return self.die(target, reason.clone()),
            How::Signal => Src::Test,
            How::SignalSelf => Src::Node(target),
        };
        // exit/2: the table of "Receiving Exit Signals", without the link flag.
        match reason {
            ExitReason::Kill => self.die(target, ExitReason::Killed),
            _ if self.traps[target] => {
                self.notes[target].push(Note::Exit(from, reason.clone()));
                Vec::new()
            }
            ExitReason::Normal if from == Src::Test => Vec::new(),
            r => self.die(target, r.clone()),
        }
    }

    /// `p` dies with `reason`, taking along linked processes that do not trap (the same reason
    /// travels along links: kill stays kill, killed stays killed; normal kills nobody).
    fn die(&mut self, p: usize, reason: ExitReason) -> Vec<usize> {
        let mut dead = Vec::new();
        let mut work = vec![p];
        self.fate[p] = Some(reason.clone());
        while let Some(p) = work.pop() {
            dead.push(p);
            let linked: Vec<usize> = self
                .links
                .iter()
                .filter(|&&(a, b)| a == p || b == p)
                .map(|&(a, b)| if a == p { b } else { a })
                .collect();
            self.links.retain(|&(a, b)| a != p && b != p);
            for q in linked {
                if !self.alive(q) {
                    continue;
                }
                if self.traps[q] {
                    self.notes[q].push(Note::Exit(Src::Node(p), reason.clone()));
                } else if !reason.is_normal() {
                    self.fate[q] = Some(reason.clone());
                    work.push(q);
                }
            }
            let fired: Vec<usize> = self
                .monitors
                .iter()
                .filter(|&&(w, t)| t == p && w != p)
                .map(|&(w, _)| w)
                .collect();
            self.monitors.retain(|&(w, t)| t != p && w != p);
            for w in fired {
                if self.alive(w) {
                    self.notes[w].push(Note::Down(p, reason.clone()));
                }
            }
        }
        dead
    }
}

// ---------------------------------------------------------------------------------------------
// The processes.

enum Cmd {
    Link(Pid),
    Monitor(Pid),
    ExitSelf(ExitReason),
    SignalSelf(ExitReason),
    /// Reply with every Exit and Down received, once there are at least this many.
    Report(usize),
    Stop,
}

struct Ack(Pid);
struct Reported(Pid, Vec<Notified>);

#[derive(Debug)]
enum Notified {
    Exit(Exit),
    Down(Down),
}

fn node(test: Pid) {
    let me = self_pid();
    let mut notes = Vec::new();
    loop {
        let m = recv();
        let m = match m.downcast::<Exit>() {
            Ok(e) => {
                notes.push(Notified::Exit(e));
                continue;
            }
            Err(m) => m,
        };
        let m = match m.downcast::<Down>() {
            Ok(d) => {
                notes.push(Notified::Down(d));
                continue;
            }
            Err(m) => m,
        };
        match m.downcast::<Cmd>() {
            Ok(Cmd::Link(p)) => {
                link(p).expect("all alive during setup");
                send(test, Ack(me));
            }
            Ok(Cmd::Monitor(p)) => {
                monitor(p);
                send(test, Ack(me));
            }
            Ok(Cmd::ExitSelf(r)) => exit_self(r),
            Ok(Cmd::SignalSelf(r)) => {
                exit(me, r);
                send(test, Ack(me)); // only if still alive
            }
            Ok(Cmd::Report(n)) => {
                let deadline = Instant::now() + WAIT;
                while notes.len() < n {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let Some(m) = receive_select(Some(left), |m| m.is::<Exit>() || m.is::<Down>())
                    else {
                        break; // too few: the comparison will say so
                    };
                    notes.push(match m.downcast::<Exit>() {
                        Ok(e) => Notified::Exit(e),
                        Err(m) => Notified::Down(m.downcast::<Down>().expect("Exit or Down")),
                    });
                }
                // Anything extra that has already arrived is reported too.
                while let Some(m) =
                    receive_select(Some(Duration::ZERO), |m| m.is::<Exit>() || m.is::<Down>())
                {
                    notes.push(match m.downcast::<Exit>() {
                        Ok(e) => Notified::Exit(e),
                        Err(m) => Notified::Down(m.downcast::<Down>().expect("Exit or Down")),
                    });
                }
                send(test, Reported(me, std::mem::take(&mut notes)));
            }
            Ok(Cmd::Stop) => return,
            Err(m) => panic!("unexpected {m:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running a case against the model.

fn wait_ack(pid: Pid) {
    receive_match_timeout::<Ack>(WAIT, |a| a.0 == pid).expect("ack");
}

/// Notes as comparable strings, sorted: messages from different senders have no order.
fn sorted(v: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().collect();
    v.sort();
    v
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let me = self_pid();
    let n = case.traps.len();
    let mut pids = Vec::new();
    let mut refs: Vec<Ref> = Vec::new();
    for &trap in &case.traps {
        let opts = if trap {
            SpawnOpts::new().trap_exit()
        } else {
            SpawnOpts::new()
        };
        let s = opts.monitor().spawn(move || node(me)).expect("spawn");
        pids.push(s.pid);
        refs.push(s.monitor.expect("monitor"));
    }
    for &(a, b) in &case.links {
        send(pids[a], Cmd::Link(pids[b]));
        wait_ack(pids[a]);
    }
    for &(w, t) in &case.monitors {
        send(pids[w], Cmd::Monitor(pids[t]));
        wait_ack(pids[w]);
    }

    let mut model = Model::new(case);
    for (k, (target, reason, how)) in case.steps.iter().enumerate() {
        let (target, how) = (*target, *how);
        if !model.alive(target) {
            continue;
        }
        let died = model.step(target, reason, how);
        let pid = pids[target];
        match how {
            How::Signal => exit(pid, reason.clone()),
            How::ExitSelf => send(pid, Cmd::ExitSelf(reason.clone())),
            How::SignalSelf => send(pid, Cmd::SignalSelf(reason.clone())),
        }
        if matches!(how, How::SignalSelf) && model.alive(target) {
            wait_ack(pid);
        }
        for &i in &died {
            let d = receive_match_timeout::<Down>(WAIT, |d| d.monitor == refs[i]);
            let d = d.ok_or_else(|| {
                TestCaseError::fail(format!("step {k}: node {i} should have died"))
            })?;
            prop_assert_eq!(
                Some(&d.reason),
                model.fate[i].as_ref(),
                "step {}: fate of node {}",
                k,
                i
            );
        }
        // Nobody else died (for signals from the test, the death procedure is complete).
        let others: Vec<Ref> = (0..n)
            .filter(|i| !died.contains(i))
            .map(|i| refs[i])
            .collect();
        if let Some(d) =
            receive_match_timeout::<Down>(Duration::ZERO, |d| others.contains(&d.monitor))
        {
            return Err(TestCaseError::fail(format!(
                "step {k}: unexpected death {d:?}"
            )));
        }
    }

    // Survivors report what they were told.
    let name = |f: Src| match f {
        Src::Test => me,
        Src::Node(i) => pids[i],
    };
    for i in (0..n).filter(|&i| model.alive(i)) {
        send(pids[i], Cmd::Report(model.notes[i].len()));
        let m = receive_select(Some(WAIT), |m| {
            m.downcast_ref::<Reported>().is_some_and(|r| r.0 == pids[i])
                || m.downcast_ref::<Down>()
                    .is_some_and(|d| d.monitor == refs[i])
        })
        .expect("a report or a Down");
        let got = match m.downcast::<Reported>() {
            Ok(r) => r.1,
            Err(m) => {
                return Err(TestCaseError::fail(format!(
                    "node {i} should be alive: {m:?}"
                )));
            }
        };
        let got = sorted(got.iter().map(|n| match n {
            Notified::Exit(e) => format!("Exit from {} {}", e.from, e.reason),
            Notified::Down(d) => format!("Down of {} {}", d.pid, d.reason),
        }));
        let want = sorted(model.notes[i].iter().map(|n| match n {
            Note::Exit(f, r) => format!("Exit from {} {}", name(*f), r),
            Note::Down(t, r) => format!("Down of {} {}", pids[*t], r),
        }));
        prop_assert_eq!(got, want, "notes of node {}", i);
    }
    // Then stop normally: each survivor must still be alive to do so.
    for i in (0..n).filter(|&i| model.alive(i)) {
        send(pids[i], Cmd::Stop);
        let d = receive_match_timeout::<Down>(WAIT, |d| d.monitor == refs[i]).expect("Down");
        prop_assert_eq!(d.reason, ExitReason::Normal, "node {} at the end", i);
    }
    assert_all_end(&pids);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn exit_signals_links_and_monitors_follow_the_model(case in case()) {
        // Crash reports of the processes that exit abnormally are not the point here.
        let _quiet = CrashCapture::start();
        run(&case)?;
    }
}

/// The model itself, on the matrix rows it encodes (so a wrong model cannot agree with a
/// wrong runtime by accident).
#[test]
fn the_model_follows_the_matrix() {
    let case = |traps: Vec<bool>, links: Vec<(usize, usize)>| Case {
        traps,
        links,
        monitors: vec![(2, 0)],
        steps: vec![],
    };
    // kill from the test: killed, propagated as killed to a non-trapping link.
    let mut m = Model::new(&case(vec![false, false, false], vec![(0, 1)]));
    assert_eq!(m.step(0, &ExitReason::Kill, How::Signal), vec![0, 1]);
    assert_eq!(m.fate[1], Some(ExitReason::Killed));
    assert_eq!(m.notes[2], vec![Note::Down(0, ExitReason::Killed)]);
    // exit(kill) by the process itself: kill travels as kill; trapping gets a message.
    let mut m = Model::new(&case(vec![false, true, false], vec![(0, 1)]));
    assert_eq!(m.step(0, &ExitReason::Kill, How::ExitSelf), vec![0]);
    assert_eq!(m.notes[1], vec![Note::Exit(Src::Node(0), ExitReason::Kill)]);
    // normal from the test: ignored, or a message when trapping; to itself: dies or message.
    let mut m = Model::new(&case(vec![false, true, false], vec![]));
    assert!(m.step(0, &ExitReason::Normal, How::Signal).is_empty());
    assert!(m.step(1, &ExitReason::Normal, How::SignalSelf).is_empty());
    assert_eq!(
        m.notes[1],
        vec![Note::Exit(Src::Node(1), ExitReason::Normal)]
    );
    assert_eq!(m.step(0, &ExitReason::Normal, How::SignalSelf), vec![0]);
    // A self-link does nothing; duplicates are one link.
    let m = Model::new(&case(
        vec![false, false, false],
        vec![(1, 1), (0, 1), (1, 0)],
    ));
    assert_eq!(m.links.len(), 1);
}
