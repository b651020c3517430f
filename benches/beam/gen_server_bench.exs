# The BEAM side of `benches/benches/gen_server.rs`: the same workloads, written plainly,
# printing a per-operation figure for each.
#
#   elixir benches/beam/gen_server_bench.exs
#
# Each timed workload runs in a fresh client process against a fresh server, ROUNDS times after
# one warm-up round; the median and the best round are printed.

defmodule Counter do
  use GenServer

  @impl true
  def init(n), do: {:ok, n}

  # Echoes the request; a request of 0 reads the counter.
  @impl true
  def handle_call(0, _from, n), do: {:reply, n, n}
  def handle_call(x, _from, n), do: {:reply, x, n}

  @impl true
  def handle_cast(x, n), do: {:noreply, n + x}
end

defmodule GenServerBench do
  @rounds 7
  @cast_batch 10_000

  # Runs `fun.(n)` (n operations) in a fresh process; returns nanoseconds per operation.
  defp per_op(n, fun) do
    parent = self()

    spawn_link(fn ->
      t0 = :erlang.monotonic_time(:nanosecond)
      fun.(n)
      t1 = :erlang.monotonic_time(:nanosecond)
      send(parent, {:took, t1 - t0})
    end)

    receive do
      {:took, ns} -> ns / n
    end
  end

  def measure(name, n, fun) do
    _warm = per_op(n, fun)
    results = Enum.map(1..@rounds, fn _ -> per_op(n, fun) end) |> Enum.sort()
    median = Enum.at(results, div(@rounds, 2))
    best = hd(results)

    IO.puts(
      String.pad_trailing(name, 40) <>
        "median #{fmt(median)}/op   best #{fmt(best)}/op   (#{n} ops per round)"
    )
  end

  defp fmt(ns) when ns >= 1000, do: "#{Float.round(ns / 1000, 2)} us"
  defp fmt(ns), do: "#{Float.round(ns * 1.0, 1)} ns"

  def call_loop(n) do
    {:ok, s} = GenServer.start(Counter, 0)
    GenServer.call(s, 1)
    Enum.each(1..n, fn i -> GenServer.call(s, i) end)
    GenServer.stop(s)
  end

  def cast_loop(n) do
    {:ok, s} = GenServer.start(Counter, 0)
    GenServer.call(s, 1)
    Enum.each(1..n, fn _ -> GenServer.cast(s, 1) end)
    ^n = GenServer.call(s, 0)
    GenServer.stop(s)
  end

  def agent_loop(n) do
    {:ok, a} = Agent.start(fn -> 7 end)
    Enum.each(1..n, fn _ -> Agent.get(a, & &1) end)
    Agent.stop(a)
  end

  def run do
    IO.puts("BEAM #{System.otp_release()} / Elixir #{System.version()}, " <>
      "#{System.schedulers_online()} schedulers")
    measure("GenServer call round trip", 200_000, &call_loop/1)
    measure("GenServer cast (10k casts + 1 call)", @cast_batch * 20, &cast_loop/1)
    measure("Agent get round trip", 200_000, &agent_loop/1)
  end
end

GenServerBench.run()
