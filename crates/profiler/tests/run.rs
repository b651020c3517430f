//! Running profiles: the clients are processes, every operation runs exactly once per client
//! per sample, failures are counted and never fatal, and no client outlives the run.
//! Nothing here asserts on time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use profiler::{Profile, ProfileError, run};
use runtime::{ExitReason, Pid, is_alive, self_pid};

/// Records which processes ran the operation and how many times in all.
#[derive(Clone, Default)]
struct Tally {
    calls: Arc<AtomicUsize>,
    pids: Arc<Mutex<HashSet<Pid>>>,
}

impl Tally {
    fn hit(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.pids.lock().expect("not poisoned").insert(self_pid());
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    fn pids(&self) -> HashSet<Pid> {
        self.pids.lock().expect("not poisoned").clone()
    }

    /// No process that ran the operation is alive any more.
    fn none_alive(&self) -> bool {
        self.pids().into_iter().all(|p| !is_alive(p))
    }
}

mod the_seed_run {
    use super::*;

    #[test]
    fn spawns_concurrency_processes_each_running_operations_times() {
        let tally = Tally::default();
        let t = tally.clone();
        let report = run(move || t.hit(), 250, 8).expect("runs");
        assert_eq!(tally.calls(), 250 * 8);
        let pids = tally.pids();
        assert_eq!(pids.len(), 8, "one distinct process per client");
        assert!(!pids.contains(&self_pid()), "the caller runs no operation");
        assert!(tally.none_alive(), "no client outlives run()");
        assert_eq!(report.operations, 2_000);
        assert_eq!(report.errors, 0);
        assert_eq!(report.latency.count, 2_000);
        assert_eq!(report.samples.len(), 1);
        assert_eq!(
            (report.settings.operations, report.settings.concurrency),
            (250, 8)
        );
        assert!(report.seed_line().ends_with(" reqs/sec"));
    }

    #[test]
    fn a_single_client_is_the_default_shape() {
        let tally = Tally::default();
        let t = tally.clone();
        run(move || t.hit(), 1_000, 1).expect("runs");
        assert_eq!((tally.calls(), tally.pids().len()), (1_000, 1));
    }

    #[test]
    fn leaves_no_message_behind() {
        let me = self_pid();
        run(|| (), 100, 4).expect("runs");
        let info = runtime::process_info(me).expect("the test process is alive");
        assert_eq!(info.message_queue_len, 0);
        assert!(info.monitors.is_empty(), "every client monitor is gone");
    }

    #[test]
    fn refuses_settings_that_cannot_run() {
        assert_eq!(run(|| (), 0, 1).err(), Some(ProfileError::NoOperations));
        assert_eq!(run(|| (), 1, 0).err(), Some(ProfileError::NoClients));
        let p = Profile::new("p").samples(0);
        assert_eq!(p.run(|| ()).err(), Some(ProfileError::NoSamples));
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            let p = Profile::new("p").rate(Some(bad));
            assert!(matches!(p.run(|| ()), Err(ProfileError::BadRate(_))));
        }
    }
}

mod failures {
    use super::*;

    #[test]
    fn an_err_is_counted_and_the_client_goes_on() {
        let tally = Tally::default();
        let t = tally.clone();
        let report = run(
            move || {
                t.hit();
                // Every third call fails.
                if t.calls().is_multiple_of(3) {
                    Err("backend unavailable")
                } else {
                    Ok(7)
                }
            },
            300,
            1,
        )
        .expect("runs despite failures");
        assert_eq!(tally.calls(), 300);
        assert_eq!(report.operations, 300);
        assert_eq!(report.errors, 100);
        assert_eq!(
            report.first_error.as_deref(),
            Some("Err(\"backend unavailable\")")
        );
        assert!(tally.none_alive());
    }

    #[test]
    fn a_panic_is_counted_and_the_client_goes_on() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let report = Profile::new("panicky")
            .operations(100)
            .concurrency(3)
            .samples(2)
            .run(move || {
                if c.fetch_add(1, Ordering::Relaxed).is_multiple_of(10) {
                    panic!("boom");
                }
            })
            .expect("runs despite panics");
        assert_eq!(calls.load(Ordering::Relaxed), 2 * 3 * 100);
        assert_eq!(report.operations, 600);
        assert_eq!(report.errors, 60);
        assert_eq!(report.first_error.as_deref(), Some("panic: boom"));
        assert_eq!(report.latency.count, 600, "failed operations are timed too");
    }

    #[test]
    fn a_client_killed_mid_run_is_counted_and_the_run_completes() {
        let tally = Tally::default();
        let t = tally.clone();
        let report = run(
            move || {
                t.hit();
                if t.calls() == 50 {
                    // One client kills itself; its next runtime call ends its thread.
                    runtime::exit(self_pid(), ExitReason::Kill);
                }
            },
            100,
            2,
        )
        .expect("runs");
        assert!(report.errors >= 1);
        let first = report.first_error.expect("the death is reported");
        assert!(first.contains("killed"), "{first}");
        assert!(report.operations < 200, "the dead client did not finish");
        assert!(tally.none_alive());
    }
}

mod profiles {
    use super::*;

    #[test]
    fn samples_and_warm_up_run_the_operation_but_only_samples_count() {
        let tally = Tally::default();
        let t = tally.clone();
        let report = Profile::new("sampled")
            .operations(200)
            .concurrency(2)
            .samples(3)
            .warmup(Duration::from_millis(1))
            .progress(false)
            .run(move || t.hit())
            .expect("runs");
        assert_eq!(report.samples.len(), 3);
        assert_eq!(report.operations, 3 * 2 * 200);
        assert_eq!(report.throughput.samples, 3);
        assert!(tally.calls() >= 1_200, "the warm-up runs the operation too");
        // Each round has its own clients: 2 per sample, at least 1 more for the warm-up.
        assert!(tally.pids().len() >= 7);
        assert!(tally.none_alive());
    }

    #[test]
    fn per_client_state_is_set_up_in_each_client() {
        let setups = Arc::new(Mutex::new(Vec::new()));
        let s = setups.clone();
        let report = Profile::new("stateful")
            .operations(50)
            .concurrency(4)
            .run_with(
                move || {
                    s.lock().expect("not poisoned").push(self_pid());
                    0u64
                },
                |n: &mut u64| {
                    *n += 1;
                    // The state is the client's own: it counts only this client's calls.
                    if *n > 50 { Err(*n) } else { Ok(()) }
                },
            )
            .expect("runs");
        let setups = setups.lock().expect("not poisoned").clone();
        assert_eq!(setups.len(), 4);
        assert_eq!(setups.iter().collect::<HashSet<_>>().len(), 4);
        assert_eq!((report.operations, report.errors), (200, 0));
    }

    #[test]
    fn fixed_rate_runs_every_operation_and_times_them() {
        let tally = Tally::default();
        let t = tally.clone();
        // 400 operations at 200,000/s in all: about 2 ms of schedule.
        let report = Profile::new("paced")
            .operations(100)
            .concurrency(4)
            .rate(Some(200_000.0))
            .run(move || t.hit())
            .expect("runs");
        assert_eq!(tally.calls(), 400);
        assert_eq!(tally.pids().len(), 4);
        assert_eq!((report.operations, report.latency.count), (400, 400));
        assert_eq!(report.settings.rate, Some(200_000.0));
        assert!(report.to_json().contains("\"rate_per_s\": 200000.0"));
        assert!(tally.none_alive());
    }

    #[test]
    fn a_gen_server_call_workload() {
        use runtime::gen_server::{self, GenServer, Init, Reply, ReplyTo, StartOpts};

        struct Counter(u64);
        impl GenServer for Counter {
            type Arg = ();
            type Call = ();
            type Reply = u64;
            type Cast = ();
            type Continue = ();
            fn init(_: ()) -> Init<Self> {
                Init::Ok(Counter(0))
            }
            fn handle_call(&mut self, _: (), _: ReplyTo<u64>) -> Reply<u64> {
                self.0 += 1;
                Reply::Reply(self.0)
            }
        }

        let server = gen_server::start::<Counter>((), StartOpts::new()).expect("starts");
        let client = server.clone();
        let report = run(move || client.call(()), 500, 4).expect("runs");
        assert_eq!((report.operations, report.errors), (2_000, 0));
        assert_eq!(server.call(()).expect("alive"), 2_001);
        server.stop(ExitReason::Normal, None).expect("stops");
    }
}
