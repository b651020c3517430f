# The BEAM side of the benchmark table (`cargo xtask bench --beam`): seed 002's Profiler, and
# the workloads of `benches/src/bin/bench_table/workloads.rs` written the same way, measured
# the same way as crates/profiler measures ours.
#
#   elixir benches/beam/profiler.exs                      # the table's workloads
#   elixir benches/beam/profiler.exs --out beam.tsv       # ... and their figures, for xtask
#   elixir benches/beam/profiler.exs --quick              # a tenth of the operations
#   elixir benches/beam/profiler.exs --seed               # only the seed's two Profiler.run lines
#
# Each workload has the same key, clients, operations, samples and warm-up as ours. The
# `--out` file has one line per workload:
#   key <TAB> clients <TAB> ops/s (mean over samples) <TAB> relative stddev % <TAB> p50 ns
#   <TAB> p99 ns <TAB> p99.9 ns <TAB> max ns

# Seed 002's profiler (Saša Jurić's, as the seed modifies it): spawn `concurrency_level`
# clients, each runs `function` `operations_count` times, time the whole, print reqs/sec.
defmodule Profiler do
  def run(function, operations_count, concurrency_level \\ 1) do
    time = execution_time(function, operations_count, concurrency_level)
    projected_rate = round(1_000_000 * operations_count * concurrency_level / time)
    IO.puts("#{projected_rate} reqs/sec\n")
  end

  defp execution_time(fun, operations_count, concurrency_level) do
    {time, _} =
      :timer.tc(fn ->
        me = self()

        for _ <- 1..concurrency_level do
          spawn(fn ->
            for _ <- 1..operations_count, do: fun.()
            send(me, :computed)
          end)
        end

        for _ <- 1..concurrency_level do
          receive do
            :computed -> :ok
          end
        end
      end)

    time
  end
end

# What crates/profiler adds to the seed's profiler, done the same way so the two columns
# compare: per-client setup and teardown inside the timed span, one clock read per operation
# (the end of one is the start of the next), failures caught and counted, an untimed
# warm-up, repeated samples; percentiles by nearest rank.
defmodule Profile do
  def measure(w) do
    if w.warmup_ms > 0, do: round_of(w, {:warmup, w.warmup_ms})

    results = for _ <- 1..w.samples, do: round_of(w, :measure)
    rates = Enum.map(results, fn {rate, _lat} -> rate end)
    latencies = results |> Enum.flat_map(fn {_rate, lat} -> lat end) |> Enum.sort() |> List.to_tuple()
    mean = Enum.sum(rates) / length(rates)

    %{
      rate: mean,
      rel_stddev: rel_stddev(rates, mean),
      p50: rank(latencies, 0.50),
      p99: rank(latencies, 0.99),
      p999: rank(latencies, 0.999),
      max: rank(latencies, 1.0)
    }
  end

  defp round_of(w, plan) do
    me = self()
    run = make_ref()
    t0 = :erlang.monotonic_time(:nanosecond)

    for _ <- 1..w.clients do
      spawn(fn ->
        state = w.setup.()

        lat =
          case plan do
            {:warmup, ms} ->
              warm(w.op, state, :erlang.monotonic_time(:nanosecond) + ms * 1_000_000)
              []

            :measure ->
              loop(w.op, state, w.ops, :erlang.monotonic_time(:nanosecond), [])
          end

        w.teardown.(state)
        send(me, {:computed, run, lat})
      end)
    end

    lat = collect(run, w.clients, [])
    t1 = :erlang.monotonic_time(:nanosecond)
    {w.ops * w.clients * 1.0e9 / (t1 - t0), lat}
  end

  defp collect(_run, 0, acc), do: acc

  defp collect(run, n, acc) do
    receive do
      {:computed, ^run, lat} -> collect(run, n - 1, lat ++ acc)
    end
  end

  defp loop(_op, _state, 0, _last, acc), do: acc

  defp loop(op, state, n, last, acc) do
    attempt(op, state)
    now = :erlang.monotonic_time(:nanosecond)
    loop(op, state, n - 1, now, [now - last | acc])
  end

  defp warm(op, state, deadline) do
    if :erlang.monotonic_time(:nanosecond) < deadline do
      attempt(op, state)
      warm(op, state, deadline)
    end
  end

  defp attempt(op, state) do
    try do
      op.(state)
    catch
      _kind, _reason -> :error
    end
  end

  defp rank(sorted, q) do
    n = tuple_size(sorted)
    if n == 0, do: 0, else: elem(sorted, max(ceil(q * n), 1) - 1)
  end

  defp rel_stddev(rates, mean) when length(rates) > 1 do
    ss = rates |> Enum.map(fn r -> (r - mean) * (r - mean) end) |> Enum.sum()
    100 * :math.sqrt(ss / (length(rates) - 1)) / mean
  end

  defp rel_stddev(_rates, _mean), do: 0.0
end

# The server of the GenServer call workloads: replies to every call at once.
defmodule Lookup do
  use GenServer
  def init(_), do: {:ok, 0}
  def handle_call(key, _from, served), do: {:reply, key * 2_654_435_761, served + 1}
end

defmodule Workloads do
  @none &Workloads.nothing/1

  def nothing(_), do: :ok

  # The same list, keys and figures as `workloads()` in benches/src/bin/bench_table/workloads.rs.
  # `scale` is 1.0, or 0.1 with --quick.
  def all(scale) do
    {:ok, server} = GenServer.start(Lookup, nil)
    table = ets_table()

    [
      w("empty_op", 1, 1_000_000, scale, fn -> nil end, fn _ -> :ok end, @none),
      w("gen_server_call", 1, 100_000, scale, fn -> nil end, fn _ -> GenServer.call(server, 7) end, @none),
      w("gen_server_call_100", 100, 500, scale, fn -> nil end, fn _ -> GenServer.call(server, 7) end, @none, 3),
      w("send", 1, 500_000, scale, &sink/0, fn sink -> send(sink, :msg) end, &stop/1),
      w("spawn_monitor_down", 1, 50_000, scale, fn -> nil end, &spawn_monitor_down/1, @none),
      w("ping_pong", 1, 100_000, scale, &echo/0, &ping/1, &stop/1),
      w("ets_set_lookup", 1, 1_000_000, scale, &ets_reader/0, fn _ -> ets_lookup(table) end, @none),
      w("ets_set_lookup_2", 2, 500_000, scale, &ets_reader/0, fn _ -> ets_lookup(table) end, @none)
    ] ++ cache_perf(scale)
  end

  # Seed 002's cache perf test: the seed's two caches, defined in cache_perf.exs (loaded as
  # a library: its own Profiler.run lines do not run).
  defp cache_perf(scale) do
    Process.put(:cache_perf_library, true)
    Code.require_file("cache_perf.exs", __DIR__)
    apply(CachePerf, :workloads, [scale])
  end

  defp w(key, clients, ops, scale, setup, op, teardown, samples \\ 5) do
    %{
      key: key,
      clients: clients,
      ops: max(round(ops * scale), 1),
      samples: samples,
      warmup_ms: 100,
      setup: setup,
      op: op,
      teardown: teardown
    }
  end

  # one-way send: a sink per client drains the messages; stopping it waits until it has
  # taken every one, so the sample's time includes the receiving side.
  defp sink do
    spawn(fn -> sink_loop() end)
  end

  defp sink_loop do
    receive do
      :msg -> sink_loop()
      {:stop, from, ref} -> send(from, {:stopped, ref})
    end
  end

  # ping-pong: an echo process per client.
  defp echo do
    spawn(fn -> echo_loop() end)
  end

  defp echo_loop do
    receive do
      {:ping, from} ->
        send(from, :pong)
        echo_loop()

      {:stop, from, ref} ->
        send(from, {:stopped, ref})
    end
  end

  defp ping(echo) do
    send(echo, {:ping, self()})

    receive do
      :pong -> :ok
    end
  end

  defp stop(pid) do
    ref = make_ref()
    send(pid, {:stop, self(), ref})

    receive do
      {:stopped, ^ref} -> :ok
    end
  end

  defp spawn_monitor_down(_) do
    {_pid, ref} = spawn_monitor(fn -> :ok end)

    receive do
      {:DOWN, ^ref, :process, _, _} -> :ok
    end
  end

  # ETS set lookups: one public set of {K, K} for K in 0..999 (read_concurrency, as a
  # tuned BEAM program would have it), shared by every client; each client looks up the keys
  # in turn (its own counter, in its process dictionary).
  defp ets_table do
    t = :ets.new(:bench_set, [:set, :public, read_concurrency: true])
    for k <- 0..999, do: :ets.insert(t, {k, k})
    t
  end

  defp ets_reader, do: Process.put(:next_key, 0)

  defp ets_lookup(t) do
    k = Process.get(:next_key)
    Process.put(:next_key, rem(k + 1, 1000))
    [{^k, _}] = :ets.lookup(t, k)
  end
end

{opts, _, _} = OptionParser.parse(System.argv(), strict: [out: :string, quick: :boolean, seed: :boolean])
scale = if opts[:quick], do: 0.1, else: 1.0

IO.puts("BEAM: Erlang/OTP #{System.otp_release()}, Elixir #{System.version()}, #{System.schedulers_online()} schedulers")

# The seed's own two lines, on a trivial workload and on a GenServer call.
{:ok, seed_server} = GenServer.start(Lookup, nil)
IO.puts("\niex> Profiler.run(fn -> :ok end, 100_000)")
Profiler.run(fn -> :ok end, 100_000)
IO.puts("iex> Profiler.run(fn -> GenServer.call(server, 7) end, 100_000)")
Profiler.run(fn -> GenServer.call(seed_server, 7) end, 100_000)

unless opts[:seed] do
  IO.puts(String.pad_trailing("workload", 22) <> "clients        ops/s    ±%      p50      p99    p99.9")

  rows =
    for w <- Workloads.all(scale) do
      r = Profile.measure(w)

      IO.puts(
        String.pad_trailing(w.key, 22) <>
          String.pad_leading("#{w.clients}", 7) <>
          String.pad_leading(:erlang.float_to_binary(r.rate / 1, decimals: 0), 13) <>
          String.pad_leading(:erlang.float_to_binary(r.rel_stddev / 1, decimals: 1), 6) <>
          String.pad_leading("#{r.p50}", 9) <>
          String.pad_leading("#{r.p99}", 9) <> String.pad_leading("#{r.p999}", 9)
      )

      Enum.join(
        [w.key, w.clients, :erlang.float_to_binary(r.rate / 1, decimals: 1),
         :erlang.float_to_binary(r.rel_stddev / 1, decimals: 2), r.p50, r.p99, r.p999, r.max],
        "\t"
      )
    end

  if opts[:out] do
    File.mkdir_p!(Path.dirname(opts[:out]))
    File.write!(opts[:out], Enum.join(rows, "\n") <> "\n")
    IO.puts("wrote #{opts[:out]}")
  end
end
