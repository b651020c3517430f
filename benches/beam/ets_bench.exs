# The BEAM side of `benches/benches/ets.rs`: the same ETS workloads, written plainly.
#
#   elixir benches/beam/ets_bench.exs
#
# A public table (write_concurrency and read_concurrency on, as a tuned BEAM program would have
# it) is prefilled with {K, K} for every K in 0..99_999. Each client process picks keys uniformly
# at random and looks them up or inserts {K, V} over them. Each workload runs with 1, 2 and 64
# client processes started together; the figure is total operations per second (best of 3).

defmodule EtsBench do
  @keys 100_000
  @ops 2_000_000
  @rounds 3

  defp table(type) do
    t = :ets.new(:bench, [type, :public, {:write_concurrency, true}, {:read_concurrency, true}])
    :ets.insert(t, for(k <- 0..(@keys - 1), do: {k, k}))
    t
  end

  defp client(parent, go, n, op) do
    spawn_link(fn ->
      receive do
        ^go -> :ok
      end

      run(n, op)
      send(parent, {:done, self()})
    end)
  end

  defp run(0, _op), do: :ok

  defp run(n, op) do
    op.(:rand.uniform(@keys) - 1)
    run(n - 1, op)
  end

  defp round(clients, op) do
    go = make_ref()
    per = div(@ops, clients)
    pids = for _ <- 1..clients, do: client(self(), go, per, op)
    t0 = :erlang.monotonic_time(:nanosecond)
    Enum.each(pids, &send(&1, go))
    Enum.each(pids, fn p -> receive do: ({:done, ^p} -> :ok) end)
    t1 = :erlang.monotonic_time(:nanosecond)
    per * clients / ((t1 - t0) / 1.0e9)
  end

  def measure(name, type, op_fun) do
    t = table(type)
    op = op_fun.(t)

    for clients <- [1, 2, 64] do
      best = Enum.max(for _ <- 1..@rounds, do: round(clients, op))
      IO.puts(String.pad_trailing("#{name}, #{clients} clients", 40) <> "#{Float.round(best / 1.0e6, 2)} M ops/s")
    end

    :ets.delete(t)
  end
end

EtsBench.measure("set lookup", :set, fn t -> fn k -> :ets.lookup(t, k) end end)
EtsBench.measure("set insert", :set, fn t -> fn k -> :ets.insert(t, {k, k + 1}) end end)
EtsBench.measure("ordered_set insert", :ordered_set, fn t -> fn k -> :ets.insert(t, {k, k + 1}) end end)
