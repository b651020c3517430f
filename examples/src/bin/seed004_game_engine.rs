//! Seed 004, "Process Supervision for Recovery" (notes on *Functional Web Development with
//! Elixir, OTP and Phoenix*, ch. 6): the IslandsEngine's supervision tree.
//!
//! - `[IslandsEngine.Supervisor] -> [GameSupervisor] -> some [Game]`: an application-style top
//!   supervisor, a `DynamicSupervisor` of games (the seed's `:simple_one_for_one`, deprecated
//!   since Elixir 1.6), one `Game` GenServer per game, registered under its first player's name.
//! - `Game.child_spec("Kusama")`, printed with the five fields the seed lists.
//! - `start_game`, `stop_game`, and a game that times out when idle.
//! - The three restart types side by side: permanent, temporary, transient, after a normal and
//!   after an abnormal exit.
//! - Recovering state after a crash: every change is saved in the public ETS table
//!   `:game_state`; a restarted game reads it back.
//! - Loading the saved state without blocking the supervisor: `init/1` returns
//!   `{:ok, state, {:continue, :load}}` (the seed sends itself a message; `handle_continue` is
//!   the modern form and runs before any other message, the caveat the seed notes).
//!
//! Run with `cargo run -p examples --bin seed004_game_engine`.

use std::fmt;
use std::time::Duration;

use ets::{Options, TypedTable};
use examples::{Checker, banner};
use runtime::{
    CallError, Down, ExitReason, GenServer, Init, Next, Pid, Reply, ReplyTo, Server, StartOpts,
    exit, gen_server, monitor, processes, receive_match_timeout, receive_timeout, self_pid, send,
    spawn, whereis,
};
use supervisor::{
    Child, ChildPid, ChildSpec, DynamicOpts, DynamicSupervisor, Restart, Strategy, Supervisor,
    SupervisorOpts, render_tree, short_type_name,
};

const WAIT: Duration = Duration::from_secs(5);
/// The book's `@timeout`: a game idle for a day stops.
const ONE_DAY: Duration = Duration::from_secs(24 * 60 * 60);
/// `:ets.new(:game_state, [:public, :named_table])`.
const TABLE: &str = "game_state";

/// The rules' stage, as the book's `Rules` state machine names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Initialized,
    PlayersSet,
}

/// A game's state: the players and the guesses so far.
#[derive(Clone, Debug, PartialEq)]
struct GameState {
    player1: String,
    player2: Option<String>,
    stage: Stage,
    guesses: Vec<(u8, u8)>,
}

impl GameState {
    fn fresh(name: &str) -> Self {
        GameState {
            player1: name.to_owned(),
            player2: None,
            stage: Stage::Initialized,
            guesses: Vec::new(),
        }
    }
}

impl fmt::Display for GameState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p2 = self
            .player2
            .as_ref()
            .map_or("nil".to_owned(), |n| format!("{n:?}"));
        let stage = match self.stage {
            Stage::Initialized => ":initialized",
            Stage::PlayersSet => ":players_set",
        };
        write!(
            f,
            "%{{player1: {:?}, player2: {p2}, rules: {stage}, guesses: [{}]}}",
            self.player1,
            self.guesses
                .iter()
                .map(|(r, c)| format!("{{{r}, {c}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// A row of `:game_state`: `{player1_name, state}`.
type Saved = (String, GameState);

fn table() -> TypedTable<Saved> {
    TypedTable::whereis(TABLE).unwrap_or_else(|| panic!("no :game_state table"))
}

/// Where a game loads its saved state: in `init` (blocks whoever starts it) or in
/// `handle_continue` (the start returns at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LoadIn {
    Init,
    Continue,
}

/// `Game.start_link(name)`'s argument. `disk` stands for slow storage: when set, loading first
/// asks that process, which answers only when the demo lets it.
#[derive(Clone, Debug)]
struct GameArg {
    name: String,
    load_in: LoadIn,
    disk: Option<Pid>,
    idle: Duration,
}

impl GameArg {
    fn new(name: &str) -> Self {
        GameArg {
            name: name.to_owned(),
            load_in: LoadIn::Continue,
            disk: None,
            idle: ONE_DAY,
        }
    }
}

/// `IslandsEngine.Game`.
struct Game {
    state: GameState,
    idle: Duration,
}

enum GameCall {
    AddPlayer(String),
    Guess(u8, u8),
    State,
    /// Ends the game normally (`{:stop, :normal, :ok, state}`).
    Quit,
}

#[derive(Debug, PartialEq)]
enum GameReply {
    Ok,
    Error(&'static str),
    State(GameState),
}

/// The `{:continue, :load}` step.
struct Load(GameArg);

/// Reads the saved state, or saves a fresh one (the book's `handle_info({:set_state, name})`).
fn load(arg: &GameArg) -> GameState {
    if let Some(disk) = arg.disk {
        let _ = Server::<Disk>::from_pid(disk).call_timeout((), None);
    }
    let t = table();
    match t.get(&arg.name) {
        Ok(Some((_, saved))) => saved,
        _ => {
            let fresh = GameState::fresh(&arg.name);
            let _ = t.insert((arg.name.clone(), fresh.clone()));
            fresh
        }
    }
}

impl Game {
    fn via(name: &str) -> String {
        format!("game:{name}")
    }

    /// `Game.start_link(name)`: registered under the first player's name.
    fn start_link(arg: GameArg) -> Result<Server<Game>, runtime::StartError> {
        let name = Game::via(&arg.name);
        gen_server::start_link::<Game>(arg, StartOpts::new().name(name))
    }

    /// `reply_success`: save the new state, reply, and wait at most `idle` for the next message.
    fn save_and_reply(&mut self, r: GameReply) -> Reply<GameReply, Load> {
        let _ = table().insert((self.state.player1.clone(), self.state.clone()));
        Reply::ReplyThen(r, Next::WaitTimeout(self.idle))
    }
}

impl GenServer for Game {
    type Arg = GameArg;
    type Call = GameCall;
    type Reply = GameReply;
    type Cast = ();
    type Continue = Load;

    fn init(arg: GameArg) -> Init<Self> {
        let idle = arg.idle;
        match arg.load_in {
            // The blocking way: the supervisor waits in start_child until this returns.
            LoadIn::Init => Init::Ok(Game {
                state: load(&arg),
                idle,
            }),
            // {:ok, fresh_state(name), {:continue, :load}}
            LoadIn::Continue => Init::OkThen(
                Game {
                    state: GameState::fresh(&arg.name),
                    idle,
                },
                Next::Continue(Load(arg)),
            ),
        }
    }

    fn handle_continue(&mut self, Load(arg): Load) -> Next<Load> {
        self.state = load(&arg);
        Next::WaitTimeout(self.idle)
    }

    fn handle_call(&mut self, req: GameCall, _: ReplyTo<GameReply>) -> Reply<GameReply, Load> {
        match req {
            GameCall::AddPlayer(name) => {
                if self.state.player2.is_some() {
                    return Reply::ReplyThen(
                        GameReply::Error("full"),
                        Next::WaitTimeout(self.idle),
                    );
                }
                self.state.player2 = Some(name);
                self.state.stage = Stage::PlayersSet;
                self.save_and_reply(GameReply::Ok)
            }
            GameCall::Guess(row, col) => {
                // The bug that crashes a game: the board is 10 x 10.
                assert!(row <= 10 && col <= 10, "no such coordinate ({row}, {col})");
                self.state.guesses.push((row, col));
                self.save_and_reply(GameReply::Ok)
            }
            GameCall::State => Reply::ReplyThen(
                GameReply::State(self.state.clone()),
                Next::WaitTimeout(self.idle),
            ),
            GameCall::Quit => Reply::ReplyThen(GameReply::Ok, Next::Stop(ExitReason::Normal)),
        }
    }

    /// `handle_info(:timeout, state)`: `{:stop, {:shutdown, :timeout}, state}`.
    fn handle_timeout(&mut self) -> Next<Load> {
        Next::Stop(ExitReason::shutdown_with("timeout"))
    }

    /// `terminate({:shutdown, :timeout}, state)`: the game is over, forget it.
    fn terminate(&mut self, reason: &ExitReason) {
        if *reason == ExitReason::shutdown_with("timeout") {
            let _ = table().delete(&self.state.player1);
        }
    }
}

// `use GenServer` gives Game a child_spec/1 that calls `Game.start_link(arg)`. The `Child`
// trait's default starts the server with `gen_server::start_link` and no name, so Game
// overrides it with the same fields and its own start_link, which registers the game.
impl Child for Game {
    fn child_spec(arg: GameArg) -> ChildSpec {
        ChildSpec::worker(short_type_name::<Game>(), move || {
            Game::start_link(arg.clone())
        })
    }
}

/// Slow storage: holds every read until released, and tells `notify` when a read starts.
struct Disk {
    notify: Pid,
    held: Vec<ReplyTo<()>>,
    open: bool,
}

/// A read is waiting at the disk.
#[derive(Debug)]
struct ReadStarted;

/// Lets the held reads (and all later ones) through.
struct Release;

impl GenServer for Disk {
    type Arg = Pid;
    type Call = ();
    type Reply = ();
    type Cast = Release;
    type Continue = ();

    fn init(notify: Pid) -> Init<Self> {
        Init::Ok(Disk {
            notify,
            held: Vec::new(),
            open: false,
        })
    }

    fn handle_call(&mut self, _: (), from: ReplyTo<()>) -> Reply<()> {
        if self.open {
            return Reply::Reply(());
        }
        send(self.notify, ReadStarted);
        self.held.push(from);
        Reply::NoReply(Next::Wait)
    }

    fn handle_cast(&mut self, _: Release) -> Next {
        self.open = true;
        for r in self.held.drain(..) {
            r.reply(());
        }
        Next::Wait
    }
}

/// `IslandsEngine.GameSupervisor`.
struct GameSupervisor;

impl GameSupervisor {
    const NAME: &'static str = "GameSupervisor";

    fn sup() -> DynamicSupervisor {
        DynamicSupervisor::named(Self::NAME)
    }

    /// The game's spec as the book writes it: `use GenServer, restart: :transient`.
    fn spec(arg: GameArg) -> ChildSpec {
        Game::child_spec(arg).restart(Restart::Transient)
    }

    /// `GameSupervisor.start_game(name)`.
    fn start_game(arg: GameArg) -> Result<Pid, String> {
        Self::start_with(Self::spec(arg))
    }

    fn start_with(spec: ChildSpec) -> Result<Pid, String> {
        match Self::sup().start_child(spec) {
            Ok(Some(pid)) => Ok(pid),
            other => Err(format!("{other:?}")),
        }
    }

    /// `GameSupervisor.stop_game(name)`: forget its state, then stop it.
    fn stop_game(name: &str) -> Result<(), String> {
        let _ = table().delete(&name.to_owned());
        let pid = whereis(&Game::via(name)).ok_or("no such game")?;
        Self::sup().terminate_child(pid).map_err(|e| e.to_string())
    }
}

/// A child spec the way `child_spec/1` prints it in IEx. The start is a closure here; the
/// demo names what it calls.
fn show_spec(spec: &ChildSpec, arg: &str) -> String {
    format!(
        "%{{\n  id: {},\n  restart: :{},\n  shutdown: {},\n  start: {{{}, :start_link, [{arg:?}]}},\n  type: :{}\n}}",
        spec.id(),
        spec.restart_type(),
        spec.shutdown_type(),
        spec.id(),
        spec.child_type()
    )
}

/// Prints a call's result the way IEx would.
fn iex(r: &Result<GameReply, CallError>) -> String {
    match r {
        Ok(GameReply::Ok) => ":ok".into(),
        Ok(GameReply::Error(e)) => format!("{{:error, :{e}}}"),
        Ok(GameReply::State(s)) => s.to_string(),
        Err(e) => format!("** (exit) {e}"),
    }
}

fn game(name: &str) -> Server<Game> {
    Server::named(Game::via(name))
}

fn state_of(c: &Checker, name: &str) -> GameState {
    match game(name).call(GameCall::State) {
        Ok(GameReply::State(s)) => s,
        other => c.fail(&format!("state of {name}: {other:?}")),
    }
}

/// Waits for the Down of monitor `m`.
fn down(c: &Checker, m: runtime::Ref) -> Down {
    receive_match_timeout(WAIT, |d: &Down| d.monitor == m)
        .unwrap_or_else(|| c.fail("no Down within 5 s"))
}

/// Runs `f` in a process of its own and returns its result, failing the demo if it takes
/// longer than 5 s (so a blocked supervisor fails the demo instead of hanging it).
fn within<T: Send + 'static>(c: &Checker, f: impl FnOnce() -> T + Send + 'static) -> T {
    struct Done<T>(T);
    let me = self_pid();
    spawn(move || send(me, Done(f())));
    receive_timeout::<Done<T>>(WAIT)
        .unwrap_or_else(|| c.fail("no answer within 5 s"))
        .0
}

fn main() {
    runtime::set_crash_handler(|r| println!("   [crash report] {} exited: {}", r.pid, r.reason));
    let mut c = Checker::new("seed004_game_engine");
    let shell = self_pid();

    banner("Starting the supervision tree: IslandsEngine.Supervisor -> GameSupervisor");
    // IslandsEngine.Application.start/2 creates the table, then starts the top supervisor.
    let _table: TypedTable<Saved> = TypedTable::new(TABLE, Options::set().public().named_table())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> :ets.new(:game_state, [:public, :named_table])");
    let app = Supervisor::start_link(
        vec![DynamicSupervisor::<()>::child_spec(
            "GameSupervisor",
            // The demo crashes games on purpose, more than Elixir's default 3 restarts in 5 s
            // would allow (the seed001_restart_frequency demo shows that limit).
            DynamicOpts::new()
                .name(GameSupervisor::NAME)
                .max_restarts(20),
        )],
        SupervisorOpts::new()
            .strategy(Strategy::OneForOne)
            .name("IslandsEngine.Supervisor"),
    )
    .unwrap_or_else(|e| c.fail(&e.to_string()));
    let app_pid = app.pid().unwrap_or_else(|| c.fail("no pid"));
    println!(
        "iex> Supervisor.start_link([GameSupervisor], strategy: :one_for_one, name: IslandsEngine.Supervisor)"
    );
    println!("{{:ok, {app_pid}}}");
    c.check(
        "the game supervisor runs under the top supervisor",
        whereis(GameSupervisor::NAME).is_some(),
    );

    banner("The child specification");
    let spec = Game::child_spec(GameArg::new("Kusama"));
    println!("iex> Game.child_spec(\"Kusama\")");
    println!("{}", show_spec(&spec, "Kusama"));
    c.check(
        "the default spec: id Game, permanent, 5000 ms, worker",
        spec.id() == "Game"
            && spec.restart_type() == Restart::Permanent
            && spec.shutdown_type().to_string() == "5000"
            && spec.child_type() == supervisor::ChildType::Worker,
    );
    println!("iex> # with `use GenServer, restart: :transient`, as the book's Game has it:");
    let transient = GameSupervisor::spec(GameArg::new("Kusama"));
    println!("{}", show_spec(&transient, "Kusama"));
    c.check(
        "the book's Game is transient",
        transient.restart_type() == Restart::Transient,
    );

    banner("Starting and stopping games");
    for name in ["Kusama", "Morandi"] {
        let pid = GameSupervisor::start_game(GameArg::new(name)).unwrap_or_else(|e| c.fail(&e));
        println!("iex> GameSupervisor.start_game({name:?})\n{{:ok, {pid}}}");
    }
    println!("iex> Game.add_player(via(\"Morandi\"), \"Hokusai\")");
    let r = game("Morandi").call(GameCall::AddPlayer("Hokusai".into()));
    println!("{}", iex(&r));
    let r2 = game("Morandi").call(GameCall::Guess(1, 1));
    println!(
        "iex> Game.guess_coordinate(via(\"Morandi\"), :player1, 1, 1)\n{}",
        iex(&r2)
    );
    c.check(
        "the game took a second player and a guess",
        r == Ok(GameReply::Ok) && r2 == Ok(GameReply::Ok),
    );
    print!("{}", render_tree(app_pid));
    let kusama = whereis(&Game::via("Kusama")).unwrap_or_else(|| c.fail("no Kusama"));
    let r = GameSupervisor::stop_game("Kusama");
    println!(
        "iex> GameSupervisor.stop_game(\"Kusama\")\n{}",
        if r.is_ok() { ":ok" } else { "error" }
    );
    c.check(
        "a stopped game is gone, with its name and its saved state",
        r.is_ok()
            && !runtime::is_alive(kusama)
            && whereis(&Game::via("Kusama")).is_none()
            && table().get(&"Kusama".to_owned()).ok() == Some(None),
    );
    c.check(
        "the other game is untouched",
        GameSupervisor::sup()
            .count_children()
            .is_ok_and(|n| n.active == 1),
    );

    banner("Recovering state after a crash (ETS)");
    println!("iex> :sys.get_state(via(\"Morandi\"))");
    let before = state_of(&c, "Morandi");
    println!("{before}");
    println!("iex> :ets.lookup(:game_state, \"Morandi\")");
    let row = table().lookup(&"Morandi".to_owned()).unwrap_or_default();
    println!(
        "[{{\"Morandi\", {}}}]",
        row.first().map(|r| r.1.to_string()).unwrap_or_default()
    );
    c.check(
        "every change was saved in ETS",
        row.len() == 1 && row[0].1 == before,
    );
    let old = whereis(&Game::via("Morandi")).unwrap_or_else(|| c.fail("no Morandi"));
    let m = monitor(old);
    exit(old, ExitReason::custom("kaboom"));
    let d = down(&c, m);
    println!(
        "iex> Process.exit(via(\"Morandi\"), :kaboom)   # {} exited: {}",
        d.pid, d.reason
    );
    // The supervisor had the exit before our Down; this request waits for the restart.
    let _ = GameSupervisor::sup().count_children();
    let new = whereis(&Game::via("Morandi"));
    println!(
        "iex> :sys.get_state(via(\"Morandi\"))   # now {}",
        new.map_or(":undefined".into(), |p| p.to_string())
    );
    let after = state_of(&c, "Morandi");
    println!("{after}");
    c.check(
        "the game was restarted as a new process under the same name",
        new.is_some_and(|p| p != old),
    );
    c.check("and read its state back from ETS", after == before);
    // A crash inside the game (a panic) is recovered the same way.
    let old = whereis(&Game::via("Morandi")).unwrap_or_else(|| c.fail("no Morandi"));
    let m = monitor(old);
    let r = game("Morandi").call(GameCall::Guess(11, 1));
    down(&c, m);
    println!(
        "iex> Game.guess_coordinate(via(\"Morandi\"), :player1, 11, 1)\n{}",
        iex(&r)
    );
    let _ = GameSupervisor::sup().count_children();
    let again = state_of(&c, "Morandi");
    c.check(
        "after a panic too the restarted game has its players and guesses",
        matches!(r, Err(CallError::Exit(ExitReason::Panic(_)))) && again == before,
    );

    banner("Three restart types side by side");
    println!("restart      after :normal             after :kaboom");
    let mut table_ok = true;
    for restart in [Restart::Permanent, Restart::Temporary, Restart::Transient] {
        let mut cells = Vec::new();
        for abnormal in [false, true] {
            let name = format!("{restart}-{}", if abnormal { "kaboom" } else { "normal" });
            let spec = Game::child_spec(GameArg::new(&name)).restart(restart);
            let pid = GameSupervisor::start_with(spec).unwrap_or_else(|e| c.fail(&e));
            let m = monitor(pid);
            if abnormal {
                exit(pid, ExitReason::custom("kaboom"));
            } else {
                let _ = game(&name).call(GameCall::Quit);
            }
            down(&c, m);
            let _ = GameSupervisor::sup().count_children();
            let now = whereis(&Game::via(&name));
            let restarted = now.is_some();
            let expected = match restart {
                Restart::Permanent => true,
                Restart::Temporary => false,
                Restart::Transient => abnormal,
            };
            table_ok &= restarted == expected && now != Some(pid);
            cells.push(match now {
                Some(p) => format!("restarted as {p}"),
                None => "not restarted".to_owned(),
            });
            if let Some(p) = now {
                let _ = GameSupervisor::sup().terminate_child(p);
            }
        }
        println!(":{:<11} {:<25} {}", restart.to_string(), cells[0], cells[1]);
    }
    c.check(
        "permanent always, temporary never, transient only after an abnormal exit",
        table_ok,
    );

    banner("An idle game times out: {:stop, {:shutdown, :timeout}, state}");
    let idle = GameArg {
        idle: Duration::from_millis(50),
        ..GameArg::new("Dali")
    };
    let pid = GameSupervisor::start_game(idle).unwrap_or_else(|e| c.fail(&e));
    let m = monitor(pid);
    println!("iex> GameSupervisor.start_game(\"Dali\")   # with a 50 ms @timeout");
    let d = down(&c, m);
    println!("   {} exited: {}", d.pid, d.reason);
    let _ = GameSupervisor::sup().count_children();
    c.check(
        "the game stopped with {shutdown, timeout}, was not restarted (transient), and its state is gone",
        d.reason == ExitReason::shutdown_with("timeout")
            && whereis(&Game::via("Dali")).is_none()
            && table().get(&"Dali".to_owned()).ok() == Some(None),
    );

    banner("Loading in init/1 blocks the supervisor");
    let _ = table().insert((
        "Klimt".to_owned(),
        GameState {
            player2: Some("Schiele".into()),
            stage: Stage::PlayersSet,
            ..GameState::fresh("Klimt")
        },
    ));
    let disk = gen_server::start::<Disk>(shell, StartOpts::new())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    #[derive(Debug)]
    struct Started(Result<Pid, String>);
    #[derive(Debug)]
    struct Counted(bool);
    let slow = GameArg {
        load_in: LoadIn::Init,
        disk: disk.pid(),
        ..GameArg::new("Klimt")
    };
    spawn(move || send(shell, Started(GameSupervisor::start_game(slow))));
    println!(
        "iex> spawn(fn -> GameSupervisor.start_game(\"Klimt\") end)   # init/1 reads slow storage"
    );
    receive_timeout::<ReadStarted>(WAIT).unwrap_or_else(|| c.fail("the load never started"));
    spawn(move || {
        send(
            shell,
            Counted(GameSupervisor::sup().count_children().is_ok()),
        )
    });
    println!("iex> DynamicSupervisor.count_children(GameSupervisor)   # while the load waits");
    let answered = receive_timeout::<Counted>(Duration::from_millis(200));
    println!(
        "   {}",
        if answered.is_some() {
            "answered"
        } else {
            "no answer: the supervisor is stuck in start_child"
        }
    );
    c.check(
        "the supervisor cannot answer while a child's init loads",
        answered.is_none(),
    );
    disk.cast(Release);
    let started = receive_timeout::<Started>(WAIT).unwrap_or_else(|| c.fail("no start"));
    let counted = receive_timeout::<Counted>(WAIT).unwrap_or_else(|| c.fail("no count"));
    println!(
        "   the storage answers; then start_game returns {}, then the count is answered",
        started
            .0
            .as_ref()
            .map_or_else(|e| e.clone(), |p| format!("{{:ok, {p}}}"))
    );
    c.check(
        "once the load is done, both go through",
        started.0.is_ok() && counted.0,
    );
    GameSupervisor::stop_game("Klimt").unwrap_or_else(|e| c.fail(&e));
    let _ = disk.stop(ExitReason::Normal, None);

    banner("Loading in handle_continue does not");
    let _ = table().insert((
        "Klimt".to_owned(),
        GameState {
            player2: Some("Schiele".into()),
            stage: Stage::PlayersSet,
            ..GameState::fresh("Klimt")
        },
    ));
    let disk = gen_server::start::<Disk>(shell, StartOpts::new())
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    let quick = GameArg {
        load_in: LoadIn::Continue,
        disk: disk.pid(),
        ..GameArg::new("Klimt")
    };
    let started = within(&c, move || GameSupervisor::start_game(quick));
    println!(
        "iex> GameSupervisor.start_game(\"Klimt\")   # init/1: {{:ok, fresh, {{:continue, :load}}}}\n{}",
        started
            .as_ref()
            .map_or_else(|e| e.clone(), |p| format!("{{:ok, {p}}}"))
    );
    receive_timeout::<ReadStarted>(WAIT).unwrap_or_else(|| c.fail("the load never started"));
    let counts = within(&c, || GameSupervisor::sup().count_children());
    println!(
        "iex> DynamicSupervisor.count_children(GameSupervisor)   # while the load waits\n{}",
        counts.as_ref().map_or_else(
            |e| e.to_string(),
            |n| format!(
                "%{{active: {}, specs: {}, supervisors: {}, workers: {}}}",
                n.active, n.specs, n.supervisors, n.workers
            )
        )
    );
    c.check(
        "start_game returned and the supervisor answers while the game loads",
        started.is_ok() && counts.is_ok(),
    );
    #[derive(Debug)]
    struct Seen(Result<GameReply, CallError>);
    spawn(move || send(shell, Seen(game("Klimt").call(GameCall::State))));
    println!("iex> :sys.get_state(via(\"Klimt\"))   # sent before the load is done");
    let early = receive_timeout::<Seen>(Duration::from_millis(200));
    c.check(
        "the call waits: handle_continue runs before any message",
        early.is_none(),
    );
    disk.cast(Release);
    let seen = receive_timeout::<Seen>(WAIT).unwrap_or_else(|| c.fail("no state"));
    println!("{}", iex(&seen.0));
    c.check(
        "and is answered from the loaded state, not the fresh one",
        matches!(&seen.0, Ok(GameReply::State(s)) if s.player2.as_deref() == Some("Schiele")),
    );
    let _ = disk.stop(ExitReason::Normal, None);

    banner("Stopping the application");
    let games: Vec<Pid> = GameSupervisor::sup()
        .which_children()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|ch| match ch.pid {
            ChildPid::Pid(p) => Some(p),
            _ => None,
        })
        .collect();
    app.stop().unwrap_or_else(|e| c.fail(&e.to_string()));
    println!("iex> Application.stop(:islands_engine)\n:ok");
    table()
        .delete_table()
        .unwrap_or_else(|e| c.fail(&e.to_string()));
    c.check(
        "every game stopped with the tree",
        games.iter().all(|p| !runtime::is_alive(*p)),
    );
    c.check(
        "no process is left running",
        processes().iter().all(|p| *p == shell),
    );
    c.finish();
}
