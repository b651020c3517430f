//! The supervisor process: one `GenServer` for both `Supervisor` (static children, three
//! strategies) and `DynamicSupervisor` (children started on demand, keyed by pid).
//!
//! Children live in a map ordered by start sequence: start order, reverse shutdown order and
//! rest_for_one's "children started after this one" are walks over it. Lookups by id and by
//! pid are hash maps, so handling a child's exit costs the same whatever the history.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime::{
    Down, Exit, ExitReason, GenServer, Init, Message, Next, Pid, Reply, ReplyTo, exit, monitor,
    receive_match, receive_match_timeout, self_pid, send, unlink_flush,
};

use crate::api::{
    AutoShutdown, ChildInfo, ChildPid, ChildRef, Counts, Strategy, SupervisorDescription,
};
use crate::error::{ChildError, StartChildError};
use crate::intensity::Intensity;
use crate::spec::{ChildSpec, ChildType, Extra, Restart, Shutdown};

/// How the supervisor keeps its children.
pub(crate) enum Mode {
    /// `Supervisor`: children by id, in start order, with a strategy.
    Static,
    /// `DynamicSupervisor`: children by pid, one_for_one, a cap and extra start arguments.
    Dynamic { max_children: Option<usize> },
}

/// Everything `init` needs.
pub(crate) struct SupInit {
    pub(crate) mode: Mode,
    pub(crate) strategy: Strategy,
    pub(crate) max_restarts: u32,
    pub(crate) max_seconds: Duration,
    pub(crate) auto_shutdown: AutoShutdown,
    pub(crate) extra: Arc<Extra>,
    pub(crate) name: Option<String>,
    /// Builds the initial children, in the supervisor's process (a callback module's `init/1`).
    pub(crate) children: Box<dyn FnOnce() -> Result<Vec<ChildSpec>, ExitReason> + Send>,
    /// Where to report a child that failed to start during init (see `Supervisor::start`).
    pub(crate) report_to: Pid,
}

/// Invalid child specs found during init, sent to the starter before the supervisor stops (so
/// that it can tell them from an error returned by the children function).
pub(crate) struct InvalidSpecs(pub(crate) String);

/// A failed start during init, sent to the starter before the supervisor stops.
pub(crate) struct FailedToStart {
    pub(crate) id: String,
    pub(crate) reason: ExitReason,
}

struct ChildEntry {
    spec: ChildSpec,
    pid: Option<Pid>,
    restarting: bool,
}

/// The requests a supervisor answers.
pub(crate) enum SupCall {
    StartChild(ChildSpec),
    TerminateChild(ChildRef),
    RestartChild(String),
    DeleteChild(String),
    WhichChildren,
    CountChildren,
    GetChildspec(String),
    Describe,
}

/// The replies, one variant per request.
pub(crate) enum SupReply {
    Started(Result<Option<Pid>, StartChildError>),
    Done(Result<(), ChildError>),
    Restarted(Result<Option<Pid>, ChildError>),
    Children(Vec<ChildInfo>),
    Counts(Counts),
    Spec(Result<ChildSpec, ChildError>),
    Description(SupervisorDescription),
}

/// A failed restart to try again (OTP's `{try_again_restart, Id}` cast to itself).
struct TryAgain(u64);

pub(crate) struct SupServer {
    mode: Mode,
    strategy: Strategy,
    auto_shutdown: AutoShutdown,
    intensity: Intensity,
    extra: Arc<Extra>,
    name: Option<String>,
    children: BTreeMap<u64, ChildEntry>,
    by_id: HashMap<String, u64>,
    by_pid: HashMap<Pid, u64>,
    next_seq: u64,
}

impl GenServer for SupServer {
    type Arg = SupInit;
    type Call = SupCall;
    type Reply = SupReply;
    type Cast = ();
    type Continue = ();

    fn init(arg: SupInit) -> Init<Self> {
        runtime::trap_exit(true);
        let mut sup = SupServer {
            mode: arg.mode,
            strategy: arg.strategy,
            auto_shutdown: arg.auto_shutdown,
            intensity: Intensity::new(arg.max_restarts, arg.max_seconds),
            extra: arg.extra,
            name: arg.name,
            children: BTreeMap::new(),
            by_id: HashMap::new(),
            by_pid: HashMap::new(),
            next_seq: 0,
        };
        let specs = match (arg.children)() {
            Ok(specs) => specs,
            Err(reason) => return Init::Stop(reason),
        };
        if let Err(e) = sup.check_specs(&specs) {
            send(arg.report_to, InvalidSpecs(e.clone()));
            return Init::Stop(ExitReason::custom(e));
        }
        for spec in specs {
            let id = spec.id.clone();
            let restart = spec.restart;
            match (spec.start)(&*sup.extra) {
                Ok(pid) => {
                    if pid.is_none() && restart == Restart::Temporary {
                        continue;
                    }
                    sup.insert(spec, pid);
                }
                Err(reason) => {
                    // Children started so far are stopped in reverse order, and the starter
                    // learns which child failed and why.
                    sup.terminate_all();
                    send(arg.report_to, FailedToStart { id, reason });
                    return Init::Stop(ExitReason::shutdown_with("failed_to_start_child"));
                }
            }
        }
        Init::Ok(sup)
    }

    fn handle_call(&mut self, req: SupCall, _from: ReplyTo<SupReply>) -> Reply<SupReply> {
        let reply = match req {
            SupCall::StartChild(spec) => SupReply::Started(self.start_child(spec)),
            SupCall::TerminateChild(r) => SupReply::Done(self.terminate_child(r)),
            SupCall::RestartChild(id) => SupReply::Restarted(self.restart_child(&id)),
            SupCall::DeleteChild(id) => SupReply::Done(self.delete_child(&id)),
            SupCall::WhichChildren => SupReply::Children(self.which_children()),
            SupCall::CountChildren => SupReply::Counts(self.count_children()),
            SupCall::GetChildspec(id) => SupReply::Spec(self.get_childspec(&id)),
            SupCall::Describe => SupReply::Description(self.describe()),
        };
        Reply::Reply(reply)
    }

    fn handle_info(&mut self, msg: Message) -> Next {
        let msg = match msg.downcast::<Exit>() {
            Ok(e) => return self.child_exited(e.from, e.reason),
            Err(m) => m,
        };
        if let Ok(TryAgain(seq)) = msg.downcast::<TryAgain>() {
            return self.try_again(seq);
        }
        Next::Wait
    }

    fn terminate(&mut self, _reason: &ExitReason) {
        self.terminate_all();
    }
}

impl SupServer {
    fn is_dynamic(&self) -> bool {
        matches!(self.mode, Mode::Dynamic { .. })
    }

    fn check_specs(&self, specs: &[ChildSpec]) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for s in specs {
            if !seen.insert(s.id.as_str()) {
                return Err(format!("duplicate_child_name {:?}", s.id));
            }
            self.check_spec(s)?;
        }
        Ok(())
    }

    fn check_spec(&self, s: &ChildSpec) -> Result<(), String> {
        if s.significant && s.restart == Restart::Permanent {
            return Err(format!(
                "child {:?}: a significant child cannot be permanent",
                s.id
            ));
        }
        if s.significant && self.auto_shutdown == AutoShutdown::Never {
            return Err(format!(
                "child {:?}: significant children need auto_shutdown other than never",
                s.id
            ));
        }
        Ok(())
    }

    fn insert(&mut self, spec: ChildSpec, pid: Option<Pid>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if !self.is_dynamic() {
            self.by_id.insert(spec.id.clone(), seq);
        }
        if let Some(p) = pid {
            self.by_pid.insert(p, seq);
        }
        self.children.insert(
            seq,
            ChildEntry {
                spec,
                pid,
                restarting: false,
            },
        );
        seq
    }

    fn remove(&mut self, seq: u64) {
        if let Some(c) = self.children.remove(&seq) {
            if self.by_id.get(&c.spec.id) == Some(&seq) {
                self.by_id.remove(&c.spec.id);
            }
            if let Some(p) = c.pid {
                self.by_pid.remove(&p);
            }
        }
    }

    // ---- starting -------------------------------------------------------------------------

    /// Starts the child at `seq`; on failure it is left `restarting`.
    fn start_seq(&mut self, seq: u64) -> Result<Option<Pid>, ExitReason> {
        let Some(c) = self.children.get(&seq) else {
            return Ok(None);
        };
        let start = c.spec.start.clone();
        let result = start(&*self.extra);
        if matches!(result, Ok(None)) && self.is_dynamic() {
            // Elixir's DynamicSupervisor forgets a child whose restart returns :ignore; kept,
            // it would linger without a pid and count against max_children for ever.
            self.remove(seq);
            return result;
        }
        let Some(c) = self.children.get_mut(&seq) else {
            return result;
        };
        match &result {
            Ok(pid) => {
                c.pid = *pid;
                c.restarting = false;
                if let Some(p) = pid {
                    self.by_pid.insert(*p, seq);
                }
            }
            Err(_) => {
                c.pid = None;
                c.restarting = true;
            }
        }
        result
    }

    fn start_child(&mut self, spec: ChildSpec) -> Result<Option<Pid>, StartChildError> {
        if let Mode::Dynamic { max_children } = self.mode {
            if spec.significant {
                // As Elixir's DynamicSupervisor: it has no auto_shutdown for them to trigger.
                return Err(StartChildError::InvalidSpec(format!(
                    "child {:?}: a dynamic supervisor takes no significant children",
                    spec.id
                )));
            }
            if max_children.is_some_and(|m| self.children.len() >= m) {
                return Err(StartChildError::MaxChildren);
            }
            return match (spec.start)(&*self.extra) {
                Ok(Some(pid)) => {
                    self.insert(spec, Some(pid));
                    Ok(Some(pid))
                }
                Ok(None) => Ok(None),
                Err(r) => Err(StartChildError::Failed(r)),
            };
        }
        self.check_spec(&spec)
            .map_err(StartChildError::InvalidSpec)?;
        if let Some(&seq) = self.by_id.get(&spec.id) {
            return Err(match self.children.get(&seq).and_then(|c| c.pid) {
                Some(pid) => StartChildError::AlreadyStarted(pid),
                None => StartChildError::AlreadyPresent,
            });
        }
        match (spec.start)(&*self.extra) {
            Ok(pid) => {
                if pid.is_some() || spec.restart != Restart::Temporary {
                    self.insert(spec, pid);
                }
                Ok(pid)
            }
            Err(r) => Err(StartChildError::Failed(r)),
        }
    }

    // ---- API ------------------------------------------------------------------------------

    fn find(&self, r: &ChildRef) -> Option<u64> {
        match r {
            ChildRef::Id(id) => self.by_id.get(id).copied(),
            ChildRef::Pid(p) => self.by_pid.get(p).copied(),
        }
    }

    fn terminate_child(&mut self, r: ChildRef) -> Result<(), ChildError> {
        let seq = self.find(&r).ok_or(ChildError::NotFound)?;
        self.stop_seq(seq);
        let temporary = self
            .children
            .get(&seq)
            .is_some_and(|c| c.spec.restart == Restart::Temporary);
        if self.is_dynamic() || temporary {
            self.remove(seq);
        } else if let Some(c) = self.children.get_mut(&seq) {
            c.restarting = false;
        }
        Ok(())
    }

    fn restart_child(&mut self, id: &str) -> Result<Option<Pid>, ChildError> {
        if self.is_dynamic() {
            return Err(ChildError::NotSupported);
        }
        let seq = *self.by_id.get(id).ok_or(ChildError::NotFound)?;
        let c = &self.children[&seq];
        if c.pid.is_some() {
            return Err(ChildError::Running);
        }
        if c.restarting {
            return Err(ChildError::Restarting);
        }
        self.start_seq(seq).map_err(|r| {
            if let Some(c) = self.children.get_mut(&seq) {
                c.restarting = false;
            }
            ChildError::StartFailed(r)
        })
    }

    fn delete_child(&mut self, id: &str) -> Result<(), ChildError> {
        if self.is_dynamic() {
            return Err(ChildError::NotSupported);
        }
        let seq = *self.by_id.get(id).ok_or(ChildError::NotFound)?;
        let c = &self.children[&seq];
        if c.pid.is_some() {
            return Err(ChildError::Running);
        }
        if c.restarting {
            return Err(ChildError::Restarting);
        }
        self.remove(seq);
        Ok(())
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        let dynamic = self.is_dynamic();
        self.children
            .values()
            .map(|c| ChildInfo {
                id: (!dynamic).then(|| c.spec.id.clone()),
                pid: match (c.pid, c.restarting) {
                    (Some(p), _) => ChildPid::Pid(p),
                    (None, true) => ChildPid::Restarting,
                    (None, false) => ChildPid::Undefined,
                },
                kind: c.spec.kind,
                restart: c.spec.restart,
            })
            .collect()
    }

    fn count_children(&self) -> Counts {
        let mut n = Counts {
            specs: 0,
            active: 0,
            supervisors: 0,
            workers: 0,
        };
        for c in self.children.values() {
            n.specs += 1;
            if c.pid.is_some_and(runtime::is_alive) {
                n.active += 1;
            }
            match c.spec.kind {
                ChildType::Supervisor => n.supervisors += 1,
                ChildType::Worker => n.workers += 1,
            }
        }
        n
    }

    fn get_childspec(&self, id: &str) -> Result<ChildSpec, ChildError> {
        if self.is_dynamic() {
            return Err(ChildError::NotSupported);
        }
        let seq = self.by_id.get(id).ok_or(ChildError::NotFound)?;
        Ok(self.children[seq].spec.clone())
    }

    fn describe(&self) -> SupervisorDescription {
        SupervisorDescription {
            pid: self_pid(),
            name: self.name.clone(),
            strategy: self.strategy,
            dynamic: self.is_dynamic(),
            max_restarts: self.intensity.max(),
            max_seconds: self.intensity.period(),
            restarts_in_window: self.intensity.in_window(Instant::now()),
            max_children: match self.mode {
                Mode::Dynamic { max_children } => max_children,
                Mode::Static => None,
            },
        }
    }

    // ---- exits and restarts ---------------------------------------------------------------

    fn child_exited(&mut self, pid: Pid, reason: ExitReason) -> Next {
        let Some(seq) = self.by_pid.remove(&pid) else {
            return Next::Wait; // not a child (any more): ignored, as OTP does
        };
        let Some(c) = self.children.get_mut(&seq) else {
            return Next::Wait;
        };
        c.pid = None;
        let restart = c.spec.restart;
        let significant = c.spec.significant;
        let restart_it = match restart {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_clean(),
            Restart::Temporary => false,
        };
        if !restart_it {
            if restart == Restart::Temporary || self.is_dynamic() {
                self.remove(seq);
            }
            if significant && self.auto_shutdown_due() {
                return Next::Stop(ExitReason::Shutdown);
            }
            return Next::Wait;
        }
        self.restart(seq)
    }

    fn auto_shutdown_due(&self) -> bool {
        match self.auto_shutdown {
            AutoShutdown::Never => false,
            AutoShutdown::AnySignificant => true,
            AutoShutdown::AllSignificant => !self
                .children
                .values()
                .any(|c| c.spec.significant && c.pid.is_some()),
        }
    }

    /// Counts a restart against the intensity and restarts per the strategy.
    fn restart(&mut self, seq: u64) -> Next {
        if !self.intensity.add_restart(Instant::now()) {
            // reached_max_restart_intensity: the supervisor gives up; terminate stops the
            // remaining children in reverse order.
            if let Some(c) = self.children.get_mut(&seq) {
                c.restarting = false;
            }
            return Next::Stop(ExitReason::Shutdown);
        }
        let group: Vec<u64> = match (self.strategy, self.is_dynamic()) {
            (_, true) | (Strategy::OneForOne, _) => vec![seq],
            (Strategy::OneForAll, _) => self.children.keys().copied().collect(),
            (Strategy::RestForOne, _) => self.children.range(seq..).map(|(k, _)| *k).collect(),
        };
        // Stop the rest of the group (reverse start order); temporary ones are not restarted.
        for &s in group.iter().rev() {
            if s != seq {
                self.stop_seq(s);
                if self
                    .children
                    .get(&s)
                    .is_some_and(|c| c.spec.restart == Restart::Temporary)
                {
                    self.remove(s);
                }
            }
        }
        self.start_group(
            group
                .into_iter()
                .filter(|s| self.children.contains_key(s))
                .collect(),
        )
    }

    /// Starts the group's children in order; at the first failure the rest wait, and the
    /// failed one is retried through a message to self (so other requests get in between).
    fn start_group(&mut self, group: Vec<u64>) -> Next {
        for (i, &s) in group.iter().enumerate() {
            if self.children.get(&s).is_some_and(|c| c.pid.is_some()) {
                continue;
            }
            if self.start_seq(s).is_err() {
                for &later in &group[i + 1..] {
                    if let Some(c) = self.children.get_mut(&later)
                        && c.pid.is_none()
                    {
                        c.restarting = true;
                    }
                }
                send(self_pid(), TryAgain(s));
                return Next::Wait;
            }
        }
        Next::Wait
    }

    fn try_again(&mut self, seq: u64) -> Next {
        if !self.children.get(&seq).is_some_and(|c| c.restarting) {
            return Next::Wait;
        }
        if !self.intensity.add_restart(Instant::now()) {
            return Next::Stop(ExitReason::Shutdown);
        }
        let group: Vec<u64> = match (self.strategy, self.is_dynamic()) {
            (_, true) | (Strategy::OneForOne, _) => vec![seq],
            _ => self
                .children
                .range(seq..)
                .filter(|(_, c)| c.restarting)
                .map(|(k, _)| *k)
                .collect(),
        };
        self.start_group(group)
    }

    // ---- shutdown ---------------------------------------------------------------------------

    /// Stops the running child at `seq` with its shutdown protocol and forgets its pid.
    fn stop_seq(&mut self, seq: u64) {
        let Some(c) = self.children.get_mut(&seq) else {
            return;
        };
        let Some(pid) = c.pid.take() else { return };
        c.restarting = false;
        let shutdown = c.spec.shutdown;
        self.by_pid.remove(&pid);
        shutdown_child(pid, shutdown);
    }

    /// Stops every child: in reverse start order for a `Supervisor`, all at once for a
    /// `DynamicSupervisor` (as Elixir does).
    fn terminate_all(&mut self) {
        if self.is_dynamic() {
            let children: Vec<(Pid, Shutdown)> = self
                .children
                .values()
                .filter_map(|c| c.pid.map(|p| (p, c.spec.shutdown)))
                .collect();
            shutdown_parallel(&children);
            self.children.clear();
            self.by_pid.clear();
            return;
        }
        let seqs: Vec<u64> = self.children.keys().rev().copied().collect();
        for seq in seqs {
            self.stop_seq(seq);
        }
    }
}

/// OTP's shutdown of one child: monitor it, unlink (dropping a queued Exit), send `shutdown`
/// (or `kill`), wait for the Down, and kill it if the shutdown time runs out. Waiting on the
/// monitor, not the link, means a child that unlinked itself cannot hang the supervisor.
pub(crate) fn shutdown_child(pid: Pid, shutdown: Shutdown) -> ExitReason {
    let r = monitor(pid);
    unlink_flush(pid);
    match shutdown {
        Shutdown::BrutalKill => exit(pid, ExitReason::Kill),
        Shutdown::Timeout(_) | Shutdown::Infinity => exit(pid, ExitReason::Shutdown),
    }
    let down = match shutdown {
        Shutdown::Timeout(t) => receive_match_timeout(t, |d: &Down| d.monitor == r),
        Shutdown::BrutalKill | Shutdown::Infinity => Some(receive_match(|d: &Down| d.monitor == r)),
    };
    match down {
        Some(d) => d.reason,
        None => {
            exit(pid, ExitReason::Kill);
            let d = receive_match(|d: &Down| d.monitor == r);
            d.reason
        }
    }
}

/// Stops many children at once: monitor and signal them all, then wait for every Down, killing
/// each child whose own shutdown time has run out.
pub(crate) fn shutdown_parallel(children: &[(Pid, Shutdown)]) {
    let start = Instant::now();
    let mut waiting: HashMap<runtime::Ref, (Pid, Option<Instant>)> = HashMap::new();
    for &(pid, shutdown) in children {
        let r = monitor(pid);
        unlink_flush(pid);
        let deadline = match shutdown {
            Shutdown::BrutalKill => {
                exit(pid, ExitReason::Kill);
                None
            }
            Shutdown::Timeout(t) => {
                exit(pid, ExitReason::Shutdown);
                Some(start + t)
            }
            Shutdown::Infinity => {
                exit(pid, ExitReason::Shutdown);
                None
            }
        };
        waiting.insert(r, (pid, deadline));
    }
    while !waiting.is_empty() {
        let next_deadline = waiting.values().filter_map(|(_, d)| *d).min();
        let timeout = next_deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let got = match timeout {
            Some(t) => receive_match_timeout(t, |d: &Down| waiting.contains_key(&d.monitor)),
            None => Some(receive_match(|d: &Down| waiting.contains_key(&d.monitor))),
        };
        match got {
            Some(d) => {
                waiting.remove(&d.monitor);
            }
            None => {
                let now = Instant::now();
                for (pid, deadline) in waiting.values_mut() {
                    if deadline.is_some_and(|d| d <= now) {
                        *deadline = None;
                        exit(*pid, ExitReason::Kill);
                    }
                }
            }
        }
    }
}
