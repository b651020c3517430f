# Seed 002's cache perf test on the BEAM: the seed's to-do cache in its two versions, a
# registry-based one (every lookup a GenServer call to the process registry, the book's
# chapter 9 `Todo.ProcessRegistry`) and the ETS one (the client reads `:ets_todo_cache`
# itself), with `Todo.Cache.server_process("list #{:rand.uniform(100)}")` as the operation.
#
#   elixir benches/beam/cache_perf.exs          # the seed's Profiler.run lines, both caches
#
# `benches/beam/profiler.exs` loads this file for the benchmark table's BEAM column (keys
# `cache_registry_1`, `cache_registry_100`, `cache_ets_1`, `cache_ets_100`, the same clients,
# operations, samples and warm-up as `benches/src/bin/bench_table/cache.rs`); then only the
# modules below are defined and nothing runs.
#
# What stands for the to-do system: the registry, a dynamic supervisor of servers (each
# registered through the registry under {:todo_server, name}, as in the seed), the two
# caches, under a rest_for_one supervisor. The servers do nothing: the test measures lookups.

defmodule CachePerf.ProcessRegistry do
  # The book's hand-written registry (1st edition, ch09): a map in a GenServer, monitoring
  # registrants; usable in {:via, ...} names.
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: :cache_perf_registry)

  def register_name(key, pid), do: GenServer.call(:cache_perf_registry, {:register_name, key, pid})
  def unregister_name(key), do: GenServer.call(:cache_perf_registry, {:unregister_name, key})
  def whereis_name(key), do: GenServer.call(:cache_perf_registry, {:whereis_name, key})

  def send(key, message) do
    case whereis_name(key) do
      :undefined -> {:badarg, {key, message}}
      pid -> Kernel.send(pid, message)
    end
  end

  @impl true
  def init(_), do: {:ok, %{}}

  @impl true
  def handle_call({:register_name, key, pid}, _, registry) do
    case Map.get(registry, key) do
      nil ->
        Process.monitor(pid)
        {:reply, :yes, Map.put(registry, key, pid)}

      _ ->
        {:reply, :no, registry}
    end
  end

  def handle_call({:unregister_name, key}, _, registry), do: {:reply, key, Map.delete(registry, key)}
  def handle_call({:whereis_name, key}, _, registry), do: {:reply, Map.get(registry, key, :undefined), registry}

  @impl true
  def handle_info({:DOWN, _, :process, pid, _}, registry) do
    {:noreply, for({k, p} <- registry, p != pid, into: %{}, do: {k, p})}
  end
end

defmodule CachePerf.Server do
  # Stands for Todo.Server: registers itself through the registry, as in the seed.
  use GenServer, restart: :temporary

  def start_link(name) do
    GenServer.start_link(__MODULE__, name, name: {:via, CachePerf.ProcessRegistry, {:todo_server, name}})
  end

  def whereis(name), do: CachePerf.ProcessRegistry.whereis_name({:todo_server, name})

  @impl true
  def init(name), do: {:ok, name}
end

defmodule CachePerf.RegistryCache do
  # The seed's server_process before ETS: look the server up in the registry (a call), and
  # only on a miss call the cache, which looks again and starts the server.
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: :cache_perf_registry_cache)

  def server_process(name) do
    case CachePerf.Server.whereis(name) do
      :undefined -> GenServer.call(:cache_perf_registry_cache, {:server_process, name})
      pid -> pid
    end
  end

  @impl true
  def init(_), do: {:ok, nil}

  @impl true
  def handle_call({:server_process, name}, _, state) do
    pid =
      case CachePerf.Server.whereis(name) do
        :undefined ->
          {:ok, pid} = DynamicSupervisor.start_child(:cache_perf_servers, {CachePerf.Server, name})
          pid

        pid ->
          pid
      end

    {:reply, pid, state}
  end
end

defmodule CachePerf.EtsCache do
  # The seed's ETS cache: a protected named table read by the clients; misses go through the
  # cache process, which looks again before starting the server.
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: :cache_perf_ets_cache)

  def server_process(name) do
    case :ets.lookup(:ets_todo_cache, name) do
      [{^name, pid}] -> pid
      _ -> GenServer.call(:cache_perf_ets_cache, {:server_process, name})
    end
  end

  @impl true
  def init(_) do
    :ets.new(:ets_todo_cache, [:set, :named_table, :protected])
    {:ok, nil}
  end

  @impl true
  def handle_call({:server_process, name}, _, state) do
    pid =
      case :ets.lookup(:ets_todo_cache, name) do
        [{^name, pid}] ->
          pid

        _ ->
          pid =
            case CachePerf.Server.whereis(name) do
              :undefined ->
                {:ok, pid} = DynamicSupervisor.start_child(:cache_perf_servers, {CachePerf.Server, name})
                pid

              pid ->
                pid
            end

          :ets.insert(:ets_todo_cache, {name, pid})
          pid
      end

    {:reply, pid, state}
  end
end

defmodule CachePerf do
  @lists 100

  # Starts the tree once (idempotent) and the seed's 100 lists.
  def start do
    unless Process.whereis(:cache_perf_registry) do
      children = [
        CachePerf.ProcessRegistry,
        {DynamicSupervisor, name: :cache_perf_servers, strategy: :one_for_one},
        CachePerf.RegistryCache,
        CachePerf.EtsCache
      ]

      {:ok, sup} = Supervisor.start_link(children, strategy: :rest_for_one)
      Process.unlink(sup)

      for n <- 1..@lists do
        CachePerf.RegistryCache.server_process("list #{n}")
        CachePerf.EtsCache.server_process("list #{n}")
      end
    end

    :ok
  end

  # `func` of the seed, for each cache.
  def registry_op, do: CachePerf.RegistryCache.server_process("list #{:rand.uniform(@lists)}")
  def ets_op, do: CachePerf.EtsCache.server_process("list #{:rand.uniform(@lists)}")

  # The benchmark table's twins (see benches/src/bin/bench_table/cache.rs), in the form of
  # profiler.exs's workloads.
  def workloads(scale) do
    start()

    [
      w("cache_registry_1", 1, 100_000, scale, fn _ -> registry_op() end),
      w("cache_registry_100", 100, 1_000, scale, fn _ -> registry_op() end),
      w("cache_ets_1", 1, 1_000_000, scale, fn _ -> ets_op() end),
      w("cache_ets_100", 100, 10_000, scale, fn _ -> ets_op() end)
    ]
  end

  defp w(key, clients, ops, scale, op) do
    %{
      key: key,
      clients: clients,
      ops: max(round(ops * scale), 1),
      samples: 5,
      warmup_ms: 100,
      setup: fn -> nil end,
      op: op,
      teardown: fn _ -> :ok end
    }
  end
end

defmodule CachePerf.Profiler do
  # Seed 002's Profiler.run, as the seed prints it.
  def run(function, operations_count, concurrency_level \\ 1) do
    {time, _} =
      :timer.tc(fn ->
        me = self()

        for _ <- 1..concurrency_level do
          spawn(fn ->
            for _ <- 1..operations_count, do: function.()
            send(me, :computed)
          end)
        end

        for _ <- 1..concurrency_level do
          receive do
            :computed -> :ok
          end
        end
      end)

    projected_rate = round(1_000_000 * operations_count * concurrency_level / time)
    IO.puts("#{projected_rate} reqs/sec\n")
  end
end

unless Process.get(:cache_perf_library) do
  IO.puts("BEAM: Erlang/OTP #{System.otp_release()}, Elixir #{System.version()}, #{System.schedulers_online()} schedulers")
  IO.puts("seed 002 cache perf test: Todo.Cache.server_process(\"list \#{:rand.uniform(100)}\")\n")
  CachePerf.start()

  for {title, op, ops_100} <- [
        {"registry cache", &CachePerf.registry_op/0, 10_000},
        {"ETS cache", &CachePerf.ets_op/0, 100_000}
      ] do
    IO.puts("# #{title}")
    IO.puts("iex> Profiler.run(func, 100_000)")
    CachePerf.Profiler.run(op, 100_000)
    IO.puts("iex> Profiler.run(func, #{ops_100}, 100)")
    CachePerf.Profiler.run(op, ops_100, 100)
  end
end
