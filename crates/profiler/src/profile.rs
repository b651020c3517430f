//! The profile builder and the engine behind it: one client process per unit of concurrency,
//! each running the operation, and the caller collecting their results as the seed does.

use std::collections::HashMap;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runtime::{
    Down, ExitReason, Message, Pid, Ref, SpawnOpts, make_ref, receive_match, receive_select,
    self_pid, send,
};

use crate::error::ProfileError;
use crate::histogram::LatencyHistogram;
use crate::outcome::Outcome;
use crate::progress::{self, Progress};
use crate::report::{Report, Sample, Settings};

/// Clients publish their progress (and check whether they were killed) every this many
/// operations, so that the hot loop touches no shared memory.
const PUBLISH_EVERY: u64 = 1024;

/// Below this much time to wait, a paced client yields instead of sleeping (a sleep overshoots
/// by tens of microseconds).
const SPIN_BELOW: Duration = Duration::from_micros(100);

/// The seed's `Profiler.run(function, operations_count, concurrency_level)`: spawns
/// `concurrency` client processes, each running `f` `operations` times, and times the whole,
/// from the first spawn to the last client's report.
///
/// `f` returns `()` or a `Result`; an `Err` or a panic is counted in the report's
/// [`errors`](Report::errors) and the client goes on. [`Report::seed_line`] prints the seed's
/// `"N reqs/sec"`. For warm-up, samples or a fixed rate, use [`Profile`].
///
/// ```
/// let report = profiler::run(|| { std::hint::black_box(2 + 2); }, 1_000, 4).unwrap();
/// assert_eq!(report.operations, 4_000);
/// assert!(report.seed_line().ends_with(" reqs/sec"));
/// ```
///
/// # Errors
/// [`ProfileError`] if `operations` or `concurrency` is zero, or a client cannot be spawned.
pub fn run<F, T>(f: F, operations: u64, concurrency: usize) -> Result<Report, ProfileError>
where
    F: Fn() -> T + Send + Sync + 'static,
    T: Outcome,
{
    Profile::new("run")
        .operations(operations)
        .concurrency(concurrency)
        .run(f)
}

/// A load profile: what to run, how many clients, how often, for how long.
///
/// ```
/// use std::time::Duration;
/// use profiler::Profile;
///
/// let report = Profile::new("add")
///     .operations(2_000)
///     .concurrency(2)
///     .samples(3)
///     .warmup(Duration::from_millis(10))
///     .run(|| { std::hint::black_box(1 + 1); })
///     .unwrap();
/// assert_eq!(report.samples.len(), 3);
/// assert_eq!(report.operations, 3 * 2 * 2_000);
/// assert_eq!(report.latency.count, report.operations);
/// println!("{report}");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Profile {
    name: String,
    settings: Settings,
    progress: bool,
}

impl Profile {
    /// A profile called `name`: 10,000 operations, 1 client, 1 sample, no warm-up, closed
    /// loop, with a progress line on a terminal.
    pub fn new(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            settings: Settings::new(10_000, 1),
            progress: true,
        }
    }

    /// Operations each client runs per sample.
    pub fn operations(mut self, n: u64) -> Self {
        self.settings.operations = n;
        self
    }

    /// Client processes, all running at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.settings.concurrency = n;
        self
    }

    /// Timed samples; the report gives the mean throughput and its spread over them.
    pub fn samples(mut self, n: usize) -> Self {
        self.settings.samples = n;
        self
    }

    /// Before the first sample, every client runs the operation for this long, untimed and
    /// flat out (even in fixed-rate mode), to fill caches and grow the thread pool.
    pub fn warmup(mut self, d: Duration) -> Self {
        self.settings.warmup = d;
        self
    }

    /// Fixed-rate (open-loop) mode at `per_sec` operations per second in total, or the closed
    /// loop with `None`. Each client starts its operations on a fixed schedule, whether or not
    /// the previous one took longer than planned, and measures each latency from the intended
    /// start: a stall shows as the queue of late operations behind it (wrk2's correction of
    /// coordinated omission), not as one slow operation.
    pub fn rate(mut self, per_sec: Option<f64>) -> Self {
        self.settings.rate = per_sec;
        self
    }

    /// Whether to draw a progress line on standard error (only ever on a terminal, and only
    /// after two seconds). On by default.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profile's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs `f` in every client, [`operations`](Self::operations) times per sample.
    ///
    /// # Errors
    /// [`ProfileError`] for settings that cannot run (zero clients, operations or samples, a
    /// rate that is not positive) or a client that cannot be spawned. Failing operations are
    /// counted in the report, not returned as errors.
    pub fn run<F, T>(&self, f: F) -> Result<Report, ProfileError>
    where
        F: Fn() -> T + Send + Sync + 'static,
        T: Outcome,
    {
        self.run_with(|| (), move |_: &mut ()| f())
    }

    /// Like [`run`](Self::run), with per-client state: each client process calls `setup`
    /// once per sample (and once for the warm-up) before its operations, and passes the state
    /// to every call of `f`. The state lives in the client process and is dropped there, so
    /// it may hold process-bound things: a server only this client talks to, a random number
    /// generator, a stop-on-drop guard. Setup time is part of the sample's elapsed time (as a
    /// client's spawn is), not of any latency.
    ///
    /// ```
    /// use profiler::Profile;
    /// use runtime::{receive, self_pid, send, spawn};
    ///
    /// // Ping-pong: every client gets its own echo process, stopped when the state drops.
    /// struct Echo(runtime::Pid);
    /// impl Drop for Echo {
    ///     fn drop(&mut self) {
    ///         send(self.0, None::<runtime::Pid>);
    ///     }
    /// }
    /// let report = Profile::new("ping-pong")
    ///     .operations(1_000)
    ///     .concurrency(2)
    ///     .run_with(
    ///         || Echo(spawn(|| while let Some(from) = receive::<Option<runtime::Pid>>() {
    ///             send(from, ());
    ///         })),
    ///         |echo: &mut Echo| {
    ///             send(echo.0, Some(self_pid()));
    ///             receive::<()>();
    ///         },
    ///     )
    ///     .unwrap();
    /// assert_eq!(report.operations, 2_000);
    /// ```
    ///
    /// # Errors
    /// As [`run`](Self::run).
    pub fn run_with<S, I, F, T>(&self, setup: I, f: F) -> Result<Report, ProfileError>
    where
        I: Fn() -> S + Send + Sync + 'static,
        F: Fn(&mut S) -> T + Send + Sync + 'static,
        T: Outcome,
    {
        let s = &self.settings;
        if s.concurrency == 0 {
            return Err(ProfileError::NoClients);
        }
        if s.operations == 0 {
            return Err(ProfileError::NoOperations);
        }
        if s.samples == 0 {
            return Err(ProfileError::NoSamples);
        }
        let interval = match s.rate {
            None => None,
            Some(r) if r.is_finite() && r > 0.0 => {
                // Each client runs at rate / concurrency: one operation per `interval`.
                let secs = s.concurrency as f64 / r;
                Some(Duration::try_from_secs_f64(secs).map_err(|_| ProfileError::BadRate(r))?)
            }
            Some(r) => return Err(ProfileError::BadRate(r)),
        };
        let job = Arc::new(Job { setup, op: f });
        let per_sample = s.operations_per_sample();
        let mut progress = Progress::new(
            &self.name,
            per_sample.saturating_mul(s.samples as u64),
            self.progress,
        );
        if !s.warmup.is_zero() {
            let plan = Plan::Warmup(s.warmup);
            self.run_sample(&job, plan, &mut progress, "warm-up", None)?;
        }
        let mut samples = Vec::with_capacity(s.samples);
        let mut histogram = LatencyHistogram::new();
        let mut first_error = None;
        for i in 0..s.samples {
            let label = format!("sample {}/{}", i + 1, s.samples);
            let base = per_sample.saturating_mul(i as u64);
            let plan = Plan::Measure {
                operations: s.operations,
                interval,
            };
            let out = self.run_sample(&job, plan, &mut progress, &label, Some(base))?;
            histogram.merge(&out.stats.histogram);
            first_error = first_error.or(out.stats.first_error);
            samples.push(Sample {
                elapsed: out.elapsed,
                operations: out.stats.operations,
                errors: out.stats.errors,
            });
        }
        progress.finish();
        Ok(Report::from_parts(
            self.name.clone(),
            s.clone(),
            samples,
            histogram,
            first_error,
        ))
    }

    /// One round: spawn the clients, wait for each to report `Computed` (or die), then for
    /// each one's `Down`, so that no client outlives the sample.
    fn run_sample<S, I, F, T>(
        &self,
        job: &Arc<Job<I, F>>,
        plan: Plan,
        progress: &mut Progress,
        label: &str,
        progress_base: Option<u64>,
    ) -> Result<SampleOutcome, ProfileError>
    where
        I: Fn() -> S + Send + Sync + 'static,
        F: Fn(&mut S) -> T + Send + Sync + 'static,
        T: Outcome,
    {
        let n = self.settings.concurrency;
        let master = self_pid();
        let run = make_ref();
        let done = Arc::new(AtomicU64::new(0));
        let mut clients: Vec<ClientSeat> = Vec::with_capacity(n);
        let mut by_monitor: HashMap<Ref, usize> = HashMap::with_capacity(n);

        // As in the seed, the clock runs from before the first spawn.
        let started = Instant::now();
        for index in 0..n {
            let slot = Arc::new(Slot::default());
            let body = {
                let (job, slot, done) = (job.clone(), slot.clone(), done.clone());
                move || client(&*job, plan, &slot, &done, master, run, index, n)
            };
            match SpawnOpts::new().monitor().spawn(body) {
                Ok(spawned) => {
                    let Some(monitor) = spawned.monitor else {
                        unreachable!("the spawn asked for a monitor")
                    };
                    by_monitor.insert(monitor, index);
                    clients.push(ClientSeat {
                        pid: spawned.pid,
                        slot,
                        computed: false,
                        down: None,
                    });
                }
                Err(e) => {
                    // Leave nothing behind: end the clients already started.
                    for c in &clients {
                        runtime::exit(c.pid, ExitReason::Kill);
                    }
                    await_downs(&mut clients, &by_monitor);
                    return Err(e.into());
                }
            }
        }
        if let Plan::Measure {
            interval: Some(_), ..
        } = plan
        {
            // Paced clients share one schedule; it starts once they all exist.
            let start = Instant::now() + Duration::from_millis(1);
            for c in &clients {
                send(c.pid, Go { run, start });
            }
        }

        // The seed's loop: one `:computed` per client. A client that dies before it is done
        // is known by its `Down` instead, and counts as finished too.
        let mut finished = 0;
        while finished < n {
            let tick = progress.enabled().then_some(progress::TICK);
            let msg = receive_select(tick, |m: &Message| {
                m.downcast_ref::<Computed>().is_some_and(|c| c.run == run)
                    || m.downcast_ref::<Down>()
                        .is_some_and(|d| by_monitor.contains_key(&d.monitor))
            });
            let Some(msg) = msg else {
                let so_far = progress_base.map(|b| b + done.load(Ordering::Relaxed));
                progress.update(label, so_far);
                continue;
            };
            match msg.downcast::<Computed>() {
                Ok(c) => {
                    if let Some(seat) = clients.get_mut(c.index)
                        && !seat.computed
                        && seat.down.is_none()
                    {
                        seat.computed = true;
                        finished += 1;
                    }
                }
                Err(msg) => {
                    if let Ok(d) = msg.downcast::<Down>()
                        && let Some(&i) = by_monitor.get(&d.monitor)
                    {
                        let seat = &mut clients[i];
                        if !seat.computed && seat.down.is_none() {
                            finished += 1;
                        }
                        seat.down = Some(d.reason);
                    }
                }
            }
        }
        let elapsed = started.elapsed();
        await_downs(&mut clients, &by_monitor);

        let mut stats = ClientStats::default();
        for seat in &clients {
            let mine = seat
                .slot
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default();
            let died = !seat.computed;
            stats.absorb(mine);
            if died && let Plan::Measure { .. } = plan {
                // The operation it died in failed; the rest never ran.
                stats.errors += 1;
                let reason = seat.down.as_ref().map_or("?".to_owned(), |r| r.to_string());
                stats
                    .first_error
                    .get_or_insert_with(|| format!("client {} ended: {reason}", seat.pid));
            }
        }
        Ok(SampleOutcome { elapsed, stats })
    }
}

/// Waits for the `Down` of every client not yet known to be dead.
fn await_downs(clients: &mut [ClientSeat], by_monitor: &HashMap<Ref, usize>) {
    while clients.iter().any(|c| c.down.is_none()) {
        let d: Down = receive_match(|d: &Down| by_monitor.contains_key(&d.monitor));
        if let Some(&i) = by_monitor.get(&d.monitor) {
            clients[i].down = Some(d.reason);
        }
    }
}

/// The setup and the operation, shared by every client.
struct Job<I, F> {
    setup: I,
    op: F,
}

/// What a client does in one round.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Run flat out for this long, recording nothing.
    Warmup(Duration),
    /// Run `operations`, back to back (closed loop) or one per `interval` (fixed rate).
    Measure {
        operations: u64,
        interval: Option<Duration>,
    },
}

/// A client's "I am done" (the seed's `:computed`), tagged with its round.
struct Computed {
    run: Ref,
    index: usize,
}

/// The start of a paced round's schedule.
struct Go {
    run: Ref,
    start: Instant,
}

/// What the master knows of one client.
struct ClientSeat {
    pid: Pid,
    slot: Arc<Slot>,
    computed: bool,
    down: Option<ExitReason>,
}

struct SampleOutcome {
    elapsed: Duration,
    stats: ClientStats,
}

/// What a client measured.
#[derive(Default)]
struct ClientStats {
    operations: u64,
    errors: u64,
    first_error: Option<String>,
    histogram: LatencyHistogram,
}

impl ClientStats {
    fn fail(&mut self, describe: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(describe());
        }
    }

    fn absorb(&mut self, other: ClientStats) {
        self.operations += other.operations;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.histogram.merge(&other.histogram);
    }
}

/// Where a client leaves its figures for the master. Written on the way out, whether the
/// client returns or unwinds, so a client killed mid-run still hands back what it did.
#[derive(Default)]
struct Slot(Mutex<Option<ClientStats>>);

/// Holds a client's figures and puts them in its slot when dropped.
struct Recorder<'a> {
    stats: ClientStats,
    slot: &'a Slot,
    done: &'a AtomicU64,
    unpublished: u64,
}

impl Recorder<'_> {
    /// Counts one finished operation; every [`PUBLISH_EVERY`] of them, tells the progress
    /// line and stops here if the client has been killed.
    #[inline]
    fn finished(&mut self) {
        self.stats.operations += 1;
        self.unpublished += 1;
        if self.unpublished == PUBLISH_EVERY {
            self.publish();
            runtime::checkpoint();
        }
    }

    fn publish(&mut self) {
        self.done.fetch_add(self.unpublished, Ordering::Relaxed);
        self.unpublished = 0;
    }
}

impl Drop for Recorder<'_> {
    fn drop(&mut self) {
        self.publish();
        let stats = mem::take(&mut self.stats);
        *self.slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(stats);
    }
}

/// The body of a client process.
#[allow(clippy::too_many_arguments)] // one call site, all of it the round's context
fn client<S, I, F, T>(
    job: &Job<I, F>,
    plan: Plan,
    slot: &Slot,
    done: &AtomicU64,
    master: Pid,
    run: Ref,
    index: usize,
    clients: usize,
) where
    I: Fn() -> S,
    F: Fn(&mut S) -> T,
    T: Outcome,
{
    let mut rec = Recorder {
        stats: ClientStats::default(),
        slot,
        done,
        unpublished: 0,
    };
    match plan {
        Plan::Warmup(d) => {
            let mut state = (job.setup)();
            let end = Instant::now() + d;
            while Instant::now() < end {
                attempt(&job.op, &mut state, &mut rec.stats);
                runtime::checkpoint();
            }
            rec.stats = ClientStats::default();
        }
        Plan::Measure {
            operations,
            interval: None,
        } => {
            let mut state = (job.setup)();
            // Closed loop: one clock read per operation, the end of one being the start of
            // the next, so the loop itself costs a few nanoseconds per operation.
            let mut last = Instant::now();
            for _ in 0..operations {
                attempt(&job.op, &mut state, &mut rec.stats);
                let now = Instant::now();
                rec.stats.histogram.record(now - last);
                last = now;
                rec.finished();
            }
        }
        Plan::Measure {
            operations,
            interval: Some(interval),
        } => {
            let go: Go = receive_match(|g: &Go| g.run == run);
            let mut state = (job.setup)();
            for k in 0..operations {
                let intended = go.start + scheduled(interval, clients, index, k);
                wait_until(intended);
                attempt(&job.op, &mut state, &mut rec.stats);
                let now = Instant::now();
                rec.stats
                    .histogram
                    .record(now.saturating_duration_since(intended));
                rec.finished();
            }
        }
    }
    drop(rec); // the figures are in the slot before the master hears we are done
    send(master, Computed { run, index });
}

/// When operation `k` of client `index` (of `clients`) is due, from the round's start: one
/// operation per `interval`, the clients staggered evenly over the first interval so that
/// they do not all fire at once.
fn scheduled(interval: Duration, clients: usize, index: usize, k: u64) -> Duration {
    let interval = interval.as_nanos();
    let offset = interval / clients.max(1) as u128 * index as u128;
    let due = offset + interval * u128::from(k);
    Duration::from_nanos(u64::try_from(due).unwrap_or(u64::MAX))
}

/// Sleeps (coarsely) then yields (finely) until `t`.
fn wait_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        let left = t - now;
        if left > SPIN_BELOW {
            std::thread::sleep(left - SPIN_BELOW / 2);
            runtime::checkpoint();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Runs one operation, counting an `Err` or a panic as a failure.
#[inline]
fn attempt<S, F, T>(op: &F, state: &mut S, stats: &mut ClientStats)
where
    F: Fn(&mut S) -> T,
    T: Outcome,
{
    match catch_unwind(AssertUnwindSafe(|| op(state))) {
        Ok(outcome) => {
            if let Err(e) = outcome.into_result() {
                stats.fail(|| format!("Err({e:?})"));
            }
        }
        Err(payload) => {
            // A panic with a message is the operation's failure. Anything else is the runtime
            // unwinding a process that was killed or called exit_self: let it go on.
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned());
            match msg {
                Some(m) if runtime::is_alive(self_pid()) => stats.fail(|| format!("panic: {m}")),
                _ => resume_unwind(payload),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_fixed_and_staggered() {
        let us = Duration::from_micros;
        // 4 clients at 100 µs each: offsets 0, 25, 50, 75 µs, then every 100 µs.
        let due: Vec<Duration> = (0..4).map(|i| scheduled(us(100), 4, i, 0)).collect();
        assert_eq!(due, [us(0), us(25), us(50), us(75)]);
        assert_eq!(scheduled(us(100), 4, 1, 3), us(325));
        assert_eq!(scheduled(us(100), 1, 0, 10_000), Duration::from_secs(1));
    }
}
