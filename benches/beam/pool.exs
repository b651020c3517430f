# The BEAM side of `benches/benches/pool.rs`: the same workloads against a poolboy-like pool
# written in plain Elixir below. THIS IS NOT POOLBOY ITSELF (poolboy comes from Hex, which the
# build machine cannot reach); it follows poolboy 1.5's checkout path step for step (a client
# reference per checkout, a monitor per consumer kept in a private ETS table as
# {worker, cref, mref}, a queue of waiters, checkin as a cast, cancel_waiting on a timeout),
# without overflow (the benches use max_overflow 0), so its figures are a stand-in for
# poolboy's on the same machine and at the same moment as the Rust figures.
#
#   elixir benches/beam/pool.exs
#
# Workloads (pool size 10, echo GenServer workers):
#   - checkout+checkin by 1 client;
#   - checkout+checkin by 100 clients started together (total operations / wall time);
#   - a transaction whose function makes one GenServer.call on the worker.
# Each runs ROUNDS times after one warm-up round, against a fresh pool; the median and the best
# round are printed.

defmodule Echo do
  use GenServer
  @impl true
  def init(_), do: {:ok, nil}
  @impl true
  def handle_call(x, _from, s), do: {:reply, x, s}
end

defmodule MiniPool do
  use GenServer

  def start(size), do: GenServer.start(__MODULE__, size)

  def checkout(pool, block \\ true, timeout \\ 5000) do
    cref = make_ref()

    try do
      GenServer.call(pool, {:checkout, cref, block}, timeout)
    catch
      class, reason ->
        GenServer.cast(pool, {:cancel_waiting, cref})
        :erlang.raise(class, reason, __STACKTRACE__)
    end
  end

  def checkin(pool, worker), do: GenServer.cast(pool, {:checkin, worker})

  def transaction(pool, fun, timeout \\ 5000) do
    worker = checkout(pool, true, timeout)

    try do
      fun.(worker)
    after
      checkin(pool, worker)
    end
  end

  @impl true
  def init(size) do
    Process.flag(:trap_exit, true)
    workers = for _ <- 1..size, do: elem(GenServer.start_link(Echo, nil), 1)
    monitors = :ets.new(:monitors, [:private])
    {:ok, %{workers: :queue.from_list(workers), monitors: monitors, waiting: :queue.new()}}
  end

  @impl true
  def handle_call({:checkout, cref, block}, {from_pid, _} = from, state) do
    case :queue.out_r(state.workers) do
      {{:value, pid}, left} ->
        mref = Process.monitor(from_pid)
        true = :ets.insert(state.monitors, {pid, cref, mref})
        {:reply, pid, %{state | workers: left}}

      {:empty, _} when not block ->
        {:reply, :full, state}

      {:empty, _} ->
        mref = Process.monitor(from_pid)
        {:noreply, %{state | waiting: :queue.in({from, cref, mref}, state.waiting)}}
    end
  end

  @impl true
  def handle_cast({:checkin, pid}, state) do
    case :ets.lookup(state.monitors, pid) do
      [{^pid, _, mref}] ->
        true = Process.demonitor(mref)
        true = :ets.delete(state.monitors, pid)
        {:noreply, handle_checkin(pid, state)}

      [] ->
        {:noreply, state}
    end
  end

  def handle_cast({:cancel_waiting, cref}, state) do
    case :ets.match(state.monitors, {:"$1", cref, :"$2"}) do
      [[pid, mref]] ->
        Process.demonitor(mref, [:flush])
        true = :ets.delete(state.monitors, pid)
        {:noreply, handle_checkin(pid, state)}

      [] ->
        waiting = :queue.filter(fn {_, c, _} -> c != cref end, state.waiting)
        {:noreply, %{state | waiting: waiting}}
    end
  end

  @impl true
  def handle_info({:DOWN, mref, _, _, _}, state) do
    case :ets.match(state.monitors, {:"$1", :_, mref}) do
      [[pid]] ->
        true = :ets.delete(state.monitors, pid)
        {:noreply, handle_checkin(pid, state)}

      [] ->
        waiting = :queue.filter(fn {_, _, r} -> r != mref end, state.waiting)
        {:noreply, %{state | waiting: waiting}}
    end
  end

  def handle_info(_, state), do: {:noreply, state}

  defp handle_checkin(pid, state) do
    case :queue.out(state.waiting) do
      {{:value, {from, cref, mref}}, left} ->
        true = :ets.insert(state.monitors, {pid, cref, mref})
        GenServer.reply(from, pid)
        %{state | waiting: left}

      {:empty, _} ->
        %{state | workers: :queue.in(pid, state.workers)}
    end
  end
end

defmodule PoolBench do
  @rounds 7
  @size 10
  @clients 100

  # Runs `fun.(pool, n)` (n operations) in a fresh process against a fresh pool; returns
  # nanoseconds per operation.
  defp per_op(n, fun) do
    parent = self()
    {:ok, pool} = MiniPool.start(@size)

    spawn_link(fn ->
      t0 = :erlang.monotonic_time(:nanosecond)
      fun.(pool, n)
      t1 = :erlang.monotonic_time(:nanosecond)
      send(parent, {:took, t1 - t0})
    end)

    ns =
      receive do
        {:took, ns} -> ns / n
      end

    GenServer.stop(pool)
    ns
  end

  def measure(name, n, fun) do
    _warm = per_op(n, fun)
    results = Enum.map(1..@rounds, fn _ -> per_op(n, fun) end) |> Enum.sort()
    median = Enum.at(results, div(@rounds, 2))
    best = hd(results)

    IO.puts(
      String.pad_trailing(name, 48) <>
        "median #{fmt(median)}/op (#{kps(median)})   best #{fmt(best)}/op (#{kps(best)})"
    )
  end

  defp fmt(ns) when ns >= 1000, do: "#{Float.round(ns / 1000, 2)} us"
  defp fmt(ns), do: "#{Float.round(ns * 1.0, 1)} ns"
  defp kps(ns), do: "#{round(1.0e6 / ns)} k/s"

  def one_client(pool, n) do
    Enum.each(1..n, fn _ ->
      w = MiniPool.checkout(pool)
      MiniPool.checkin(pool, w)
    end)
  end

  def many_clients(pool, n) do
    me = self()
    per = div(n, @clients)

    clients =
      for _ <- 1..@clients do
        spawn_link(fn ->
          receive do
            :go -> :ok
          end

          one_client(pool, per)
          send(me, :done)
        end)
      end

    Enum.each(clients, &send(&1, :go))
    Enum.each(clients, fn _ -> receive do: (:done -> :ok) end)
  end

  def transactions(pool, n) do
    Enum.each(1..n, fn i ->
      ^i = MiniPool.transaction(pool, fn w -> GenServer.call(w, i) end)
    end)
  end

  def run do
    IO.puts(
      "BEAM #{System.otp_release()} / Elixir #{System.version()}, " <>
        "#{System.schedulers_online()} schedulers; a poolboy-like pool in plain Elixir, NOT poolboy"
    )

    measure("checkout+checkin, 1 client", 200_000, &one_client/2)
    measure("checkout+checkin, 100 clients", 200_000, &many_clients/2)
    measure("transaction with one call, 1 client", 100_000, &transactions/2)
  end
end

PoolBench.run()
