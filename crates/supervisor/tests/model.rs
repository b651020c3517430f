//! Model-based test: random two-level trees, random crash sequences, and after each step the
//! live children, their start counts, the restart counts and whether a supervisor gave up
//! must match a model of `supervisor.erl`'s restart algorithm.
//!
//! The model is a transcription of `supervisor.erl`'s `restart/2,3`, `add_restart/1` and
//! `terminate_children/2` (OTP 26), with Elixir's flag names: a permanent child is always
//! restarted, a transient one unless its reason is clean, a temporary one never (and its spec
//! is dropped); each restart counts once against the intensity and one more than
//! `max_restarts` makes the supervisor stop all its children and exit `shutdown`, which its
//! parent handles as the exit of a child; one_for_all and rest_for_one stop the other
//! children of the group (dropping temporary ones) and start every remaining child of the
//! group in order, whether it was running or not. The window is an hour, so only the count
//! matters.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{WAIT, quiet, wait_down};
use proptest::prelude::*;
use proptest::sample::Index;
use runtime::{ExitReason, Pid, SpawnOpts, demonitor_flush, exit, exit_self, monitor, recv, send};
use supervisor::{
    ChildPid, ChildSpec, Restart, Strategy as SupStrategy, Supervisor, SupervisorOpts,
};

type Counts = Arc<Mutex<BTreeMap<String, usize>>>;

/// Tells a model-test worker to exit with a reason.
struct Die(ExitReason);

fn bump(counts: &Counts, id: &str) {
    let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
    *c.entry(id.to_owned()).or_default() += 1;
}

fn worker_spec(id: &str, restart: Restart, counts: &Counts) -> ChildSpec {
    let counts = counts.clone();
    let name = id.to_owned();
    ChildSpec::worker(id, move || {
        bump(&counts, &name);
        SpawnOpts::new()
            .link()
            .spawn(|| {
                loop {
                    if let Ok(Die(r)) = recv().downcast::<Die>() {
                        exit_self(r);
                    }
                }
            })
            .map(|s| s.pid)
            .map_err(|e| ExitReason::custom(e.to_string()))
    })
    .restart(restart)
}

fn opts(strategy: SupStrategy, max: u32) -> SupervisorOpts {
    SupervisorOpts::new()
        .strategy(strategy)
        .max_restarts(max)
        .max_seconds(Duration::from_secs(3600))
}

// ---- the generated input -----------------------------------------------------------------

#[derive(Clone, Debug)]
struct NestedSpec {
    strategy: SupStrategy,
    max: u32,
    workers: Vec<Restart>,
}

#[derive(Clone, Debug)]
enum NodeSpec {
    Worker(Restart),
    Sup(Restart, NestedSpec),
}

#[derive(Clone, Debug)]
struct TreeSpec {
    strategy: SupStrategy,
    max: u32,
    children: Vec<NodeSpec>,
}

#[derive(Clone, Copy, Debug)]
enum Reason {
    Normal,
    Shutdown,
    ShutdownWith,
    Abnormal,
    Kill,
}

impl Reason {
    /// The reason the child ends with.
    fn exit_reason(self) -> ExitReason {
        match self {
            Reason::Normal => ExitReason::Normal,
            Reason::Shutdown => ExitReason::Shutdown,
            Reason::ShutdownWith => ExitReason::shutdown_with("done"),
            Reason::Abnormal => ExitReason::custom("boom"),
            Reason::Kill => ExitReason::Killed,
        }
    }
}

#[derive(Clone, Debug)]
struct Step {
    /// Which live target, among the live workers (or nested supervisors if `at_sup`).
    target: Index,
    reason: Reason,
    /// Kill a nested supervisor instead of ending a worker (when one runs).
    at_sup: bool,
}

fn restart_type() -> impl Strategy<Value = Restart> {
    prop_oneof![
        Just(Restart::Permanent),
        Just(Restart::Transient),
        Just(Restart::Temporary)
    ]
}

fn sup_strategy() -> impl Strategy<Value = SupStrategy> {
    prop_oneof![
        Just(SupStrategy::OneForOne),
        Just(SupStrategy::OneForAll),
        Just(SupStrategy::RestForOne)
    ]
}

fn node() -> impl Strategy<Value = NodeSpec> {
    prop_oneof![
        2 => restart_type().prop_map(NodeSpec::Worker),
        1 => (restart_type(), sup_strategy(), 0..4u32, prop::collection::vec(restart_type(), 1..4))
            .prop_map(|(r, strategy, max, workers)| {
                NodeSpec::Sup(r, NestedSpec { strategy, max, workers })
            }),
    ]
}

fn tree() -> impl Strategy<Value = TreeSpec> {
    (sup_strategy(), 1..7u32, prop::collection::vec(node(), 1..6)).prop_map(
        |(strategy, max, children)| TreeSpec {
            strategy,
            max,
            children,
        },
    )
}

fn reason() -> impl Strategy<Value = Reason> {
    prop_oneof![
        1 => Just(Reason::Normal),
        1 => Just(Reason::Shutdown),
        1 => Just(Reason::ShutdownWith),
        2 => Just(Reason::Abnormal),
        2 => Just(Reason::Kill),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (any::<Index>(), reason(), prop::bool::weighted(0.15)).prop_map(
            |(target, reason, at_sup)| Step {
                target,
                reason,
                at_sup,
            },
        ),
        1..20,
    )
}

// ---- the model ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Kind {
    Worker,
    Sup(NestedSpec, Option<Level>),
}

#[derive(Clone, Debug)]
struct MChild {
    id: String,
    restart: Restart,
    kind: Kind,
    running: bool,
}

#[derive(Clone, Debug)]
struct Level {
    strategy: SupStrategy,
    max: u32,
    restarts: usize,
    children: Vec<MChild>,
}

type MCounts = BTreeMap<String, usize>;

fn nested_level(id: &str, spec: &NestedSpec, counts: &mut MCounts) -> Level {
    let mut level = Level {
        strategy: spec.strategy,
        max: spec.max,
        restarts: 0,
        children: spec
            .workers
            .iter()
            .enumerate()
            .map(|(j, r)| MChild {
                id: format!("{id}/w{j}"),
                restart: *r,
                kind: Kind::Worker,
                running: false,
            })
            .collect(),
    };
    for c in &mut level.children {
        start_child(c, counts);
    }
    level
}

fn start_child(c: &mut MChild, counts: &mut MCounts) {
    *counts.entry(c.id.clone()).or_default() += 1;
    c.running = true;
    if let Kind::Sup(spec, inst) = &mut c.kind {
        *inst = Some(nested_level(&c.id, spec, counts));
    }
}

fn stop_child(c: &mut MChild) {
    c.running = false;
    if let Kind::Sup(_, inst) = &mut c.kind {
        *inst = None;
    }
}

impl Level {
    /// The child at `idx` exited with `reason`. Returns `true` if this supervisor gives up.
    fn child_exited(&mut self, idx: usize, reason: &ExitReason, counts: &mut MCounts) -> bool {
        stop_child(&mut self.children[idx]);
        let restart = match self.children[idx].restart {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_clean(),
            Restart::Temporary => false,
        };
        if !restart {
            if self.children[idx].restart == Restart::Temporary {
                self.children.remove(idx);
            }
            return false;
        }
        self.restarts += 1;
        if self.restarts > self.max as usize {
            for c in &mut self.children {
                stop_child(c);
            }
            return true;
        }
        let group: Vec<usize> = match self.strategy {
            SupStrategy::OneForOne => vec![idx],
            SupStrategy::OneForAll => (0..self.children.len()).collect(),
            SupStrategy::RestForOne => (idx..self.children.len()).collect(),
        };
        // Stop the others in reverse order, dropping temporary ones; then start the rest of
        // the group in order.
        let mut ids = Vec::new();
        for &j in group.iter().rev() {
            if j != idx {
                stop_child(&mut self.children[j]);
                if self.children[j].restart == Restart::Temporary {
                    self.children.remove(j);
                    continue;
                }
            }
            ids.push(self.children[j].id.clone());
        }
        ids.reverse();
        for id in ids {
            if let Some(c) = self.children.iter_mut().find(|c| c.id == id) {
                start_child(c, counts);
            }
        }
        false
    }

    fn shape(&self) -> Vec<(String, bool)> {
        self.children
            .iter()
            .map(|c| (c.id.clone(), c.running))
            .collect()
    }
}

struct Model {
    top: Level,
    top_dead: bool,
    counts: MCounts,
}

/// A live target: a worker of the top, a worker of a nested supervisor, or a nested
/// supervisor (by index in the model's lists).
#[derive(Clone, Copy, Debug)]
enum Target {
    TopWorker(usize),
    NestedWorker(usize, usize),
    NestedSup(usize),
}

impl Model {
    fn new(spec: &TreeSpec) -> Model {
        let mut counts = MCounts::new();
        let mut top = Level {
            strategy: spec.strategy,
            max: spec.max,
            restarts: 0,
            children: spec
                .children
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let (restart, kind) = match n {
                        NodeSpec::Worker(r) => (*r, Kind::Worker),
                        NodeSpec::Sup(r, s) => (*r, Kind::Sup(s.clone(), None)),
                    };
                    MChild {
                        id: format!("c{i}"),
                        restart,
                        kind,
                        running: false,
                    }
                })
                .collect(),
        };
        for c in &mut top.children {
            start_child(c, &mut counts);
        }
        Model {
            top,
            top_dead: false,
            counts,
        }
    }

    fn workers(&self) -> Vec<Target> {
        let mut v = Vec::new();
        for (i, c) in self.top.children.iter().enumerate() {
            match &c.kind {
                Kind::Worker if c.running => v.push(Target::TopWorker(i)),
                Kind::Sup(_, Some(level)) => {
                    for (j, w) in level.children.iter().enumerate() {
                        if w.running {
                            v.push(Target::NestedWorker(i, j));
                        }
                    }
                }
                _ => {}
            }
        }
        v
    }

    fn sups(&self) -> Vec<Target> {
        self.top
            .children
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c.kind, Kind::Sup(_, Some(_))))
            .map(|(i, _)| Target::NestedSup(i))
            .collect()
    }

    fn apply(&mut self, target: Target, reason: &ExitReason) {
        let gave_up = match target {
            Target::TopWorker(i) | Target::NestedSup(i) => {
                self.top.child_exited(i, reason, &mut self.counts)
            }
            Target::NestedWorker(i, j) => {
                let Kind::Sup(_, Some(level)) = &mut self.top.children[i].kind else {
                    unreachable!("a nested worker's supervisor runs")
                };
                if level.child_exited(j, reason, &mut self.counts) {
                    // The nested supervisor gave up: its parent sees it exit `shutdown`.
                    self.top
                        .child_exited(i, &ExitReason::Shutdown, &mut self.counts)
                } else {
                    false
                }
            }
        };
        if gave_up {
            self.top_dead = true;
        }
    }
}

// ---- the real tree -----------------------------------------------------------------------

fn real_tree(spec: &TreeSpec, counts: &Counts) -> Supervisor {
    let children = spec
        .children
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let id = format!("c{i}");
            match n {
                NodeSpec::Worker(r) => worker_spec(&id, *r, counts),
                NodeSpec::Sup(r, s) => {
                    let workers: Vec<ChildSpec> = s
                        .workers
                        .iter()
                        .enumerate()
                        .map(|(j, wr)| worker_spec(&format!("{id}/w{j}"), *wr, counts))
                        .collect();
                    let counts = counts.clone();
                    let sid = id.clone();
                    let o = opts(s.strategy, s.max);
                    ChildSpec::supervisor(&id, move || {
                        bump(&counts, &sid);
                        Supervisor::start_link(workers.clone(), o.clone())
                    })
                    .restart(*r)
                }
            }
        })
        .collect();
    // Not linked to the test: the top may give up, and the test must not die with it.
    Supervisor::start(children, opts(spec.strategy, spec.max)).expect("start the tree")
}

/// `(id, running, pid)` of each child, or `None` if the supervisor does not answer.
fn shape(sup: &Supervisor) -> Option<Vec<(String, bool, Option<Pid>)>> {
    let rows = sup.which_children().ok()?;
    Some(
        rows.into_iter()
            .map(|c| {
                let pid = match c.pid {
                    ChildPid::Pid(p) => Some(p),
                    _ => None,
                };
                (c.id.unwrap_or_default(), pid.is_some(), pid)
            })
            .collect(),
    )
}

fn pid_at(sup: &Supervisor, idx: usize) -> Pid {
    shape(sup).expect("answers")[idx]
        .2
        .expect("the model says it runs")
}

/// Ends a process as the step says and waits until it is gone. Its exit signal reaches its
/// supervisor before the `Down` reaches the test.
fn end(pid: Pid, reason: Reason) {
    let m = monitor(pid);
    match reason {
        Reason::Kill => exit(pid, ExitReason::Kill),
        r => send(pid, Die(r.exit_reason())),
    }
    runtime::receive_match_timeout(WAIT, |d: &runtime::Down| d.monitor == m)
        .expect("the target ended");
}

/// Checks the real tree against the model, collecting every pid seen.
fn compare(top: &Supervisor, model: &Model, counts: &Counts, seen: &mut Vec<Pid>) {
    let real_counts = || counts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if model.top_dead {
        let pid = top.pid().expect("a pid handle");
        assert!(
            matches!(wait_down(pid), ExitReason::NoProc | ExitReason::Shutdown),
            "the top gave up"
        );
        assert_eq!(real_counts(), model.counts, "start counts");
        return;
    }
    // Asking the top first makes sure it has handled the step (restarts included).
    let rows = shape(top).expect("the top supervisor runs");
    assert_eq!(real_counts(), model.counts, "start counts");
    let real: Vec<(String, bool)> = rows.iter().map(|r| (r.0.clone(), r.1)).collect();
    assert_eq!(real, model.top.shape(), "top children");
    assert_eq!(
        top.describe().expect("describe").restarts_in_window,
        model.top.restarts,
        "top restarts"
    );
    for (row, c) in rows.iter().zip(&model.top.children) {
        seen.extend(row.2);
        if let (Kind::Sup(_, Some(level)), Some(pid)) = (&c.kind, row.2) {
            let nested = Supervisor::from_pid(pid);
            let nrows = shape(&nested).expect("the nested supervisor runs");
            let real: Vec<(String, bool)> = nrows.iter().map(|r| (r.0.clone(), r.1)).collect();
            assert_eq!(real, level.shape(), "children of {}", c.id);
            assert_eq!(
                nested.describe().expect("describe").restarts_in_window,
                level.restarts,
                "restarts of {}",
                c.id
            );
            seen.extend(nrows.iter().filter_map(|r| r.2));
        }
    }
}

fn run_case(spec: &TreeSpec, steps: &[Step]) {
    let counts: Counts = Arc::default();
    let mut model = Model::new(spec);
    let top = real_tree(spec, &counts);
    let top_pid = top.pid().expect("running");
    let mut seen = vec![top_pid];
    compare(&top, &model, &counts, &mut seen);
    for step in steps {
        if model.top_dead {
            break;
        }
        let sups = model.sups();
        let workers = model.workers();
        let target = if step.at_sup && !sups.is_empty() {
            sups[step.target.index(sups.len())]
        } else if !workers.is_empty() {
            workers[step.target.index(workers.len())]
        } else {
            break;
        };
        let reason = if matches!(target, Target::NestedSup(_)) {
            Reason::Kill
        } else {
            step.reason
        };
        match target {
            Target::TopWorker(i) | Target::NestedSup(i) => end(pid_at(&top, i), reason),
            Target::NestedWorker(i, j) => {
                let nested_pid = pid_at(&top, i);
                let nested = Supervisor::from_pid(nested_pid);
                // Monitored before the step: if the nested supervisor gives up, this Down
                // comes after its exit reached the top. A call cannot tell: made while the
                // supervisor is dying, it fails at once, possibly before that exit is sent.
                let m = monitor(nested_pid);
                end(pid_at(&nested, j), reason);
                // Let the nested supervisor handle the exit first: it answers, or it gave up
                // and then its own exit reached the top before its Down reached the test.
                if nested.which_children().is_ok() {
                    demonitor_flush(m);
                } else {
                    runtime::receive_match_timeout(WAIT, |d: &runtime::Down| d.monitor == m)
                        .expect("the nested supervisor ended");
                }
            }
        }
        model.apply(target, &reason.exit_reason());
        compare(&top, &model, &counts, &mut seen);
    }
    if !model.top_dead {
        top.stop().expect("stop the tree");
    }
    for p in seen {
        assert_eq!(wait_down(p), ExitReason::NoProc, "{p} outlived the tree");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_tree_behaves_like_the_model(spec in tree(), steps in steps()) {
        quiet();
        run_case(&spec, &steps);
    }
}
