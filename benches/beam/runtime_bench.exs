# The BEAM side of `benches/benches/runtime.rs` and `benches/src/bin/idle_processes.rs`: the same
# workloads, written plainly, printing a per-operation figure for each.
#
#   elixir benches/beam/runtime_bench.exs            # all workloads, 20,000 idle processes
#   elixir benches/beam/runtime_bench.exs 50000      # another number of idle processes
#
# Each timed workload runs in a fresh process (so no mailbox is left over from the one before),
# ROUNDS times after one warm-up round; the median and the best round are printed.

defmodule RuntimeBench do
  @rounds 7

  # Times `fun.(n)` (which does n operations) and returns nanoseconds per operation.
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
      String.pad_trailing(name, 48) <>
        "median #{fmt(median)}/op   best #{fmt(best)}/op   (#{n} ops per round)"
    )
  end

  defp fmt(ns) when ns >= 1000, do: :io_lib.format("~.3f us", [ns / 1000]) |> to_string()
  defp fmt(ns), do: :io_lib.format("~.1f ns", [ns / 1]) |> to_string()

  # spawn + monitor + wait for DOWN
  def spawn_monitor_down(0), do: :ok

  def spawn_monitor_down(n) do
    {_pid, ref} = spawn_monitor(fn -> :ok end)

    receive do
      {:DOWN, ^ref, :process, _, _} -> :ok
    end

    spawn_monitor_down(n - 1)
  end

  # ping-pong round trip
  def ping_pong(n) do
    echo = spawn_link(&echo/0)
    ping_loop(echo, n)
    send(echo, :stop)
  end

  defp echo do
    receive do
      {:ping, from} ->
        send(from, :pong)
        echo()

      :stop ->
        :ok
    end
  end

  defp ping_loop(_echo, 0), do: :ok

  defp ping_loop(echo, n) do
    send(echo, {:ping, self()})

    receive do
      :pong -> :ok
    end

    ping_loop(echo, n - 1)
  end

  # one-way send: a sender sends n messages to a receiver that counts them
  def one_way(n) do
    me = self()
    counter = spawn_link(fn -> count(n, me) end)
    sender = spawn_link(fn -> send_many(counter, 0, n) end)
    _ = sender

    receive do
      :counted -> :ok
    end
  end

  defp count(0, parent), do: send(parent, :counted)

  defp count(left, parent) do
    receive do
      i when is_integer(i) -> count(left - 1, parent)
    end
  end

  defp send_many(_to, n, n), do: :ok

  defp send_many(to, i, n) do
    send(to, i)
    send_many(to, i + 1, n)
  end

  # spawn_link + crash + trapped EXIT
  def crash_exit(n) do
    Process.flag(:trap_exit, true)
    crash_loop(n)
  end

  defp crash_loop(0), do: :ok

  defp crash_loop(n) do
    pid = spawn_link(fn -> exit(:boom) end)

    receive do
      {:EXIT, ^pid, :boom} -> :ok
    end

    crash_loop(n - 1)
  end

  # The same with a raised error (as a Rust panic); the emulator sends an error report for it,
  # which the Logger (level :none here) drops.
  def raise_exit(n) do
    Process.flag(:trap_exit, true)
    raise_loop(n)
  end

  defp raise_loop(0), do: :ok

  defp raise_loop(n) do
    pid = spawn_link(fn -> raise "boom" end)

    receive do
      {:EXIT, ^pid, _} -> :ok
    end

    raise_loop(n - 1)
  end

  # selective receive past `len` non-matching messages
  def selective(len) do
    fn n ->
      me = self()
      Enum.each(1..len, fn _ -> send(me, :filler) end)
      t0 = :erlang.monotonic_time(:nanosecond)
      selective_loop(me, n)
      t1 = :erlang.monotonic_time(:nanosecond)
      # the caller times the whole fun; report the inner time through the process dictionary
      Process.put(:inner, t1 - t0)
    end
  end

  defp selective_loop(_me, 0), do: :ok

  defp selective_loop(me, n) do
    send(me, {:wanted, n})

    receive do
      {:wanted, _} -> :ok
    end

    selective_loop(me, n - 1)
  end

  def measure_selective(len, n) do
    parent = self()

    one = fn ->
      spawn_link(fn ->
        (selective(len)).(n)
        send(parent, {:took, Process.get(:inner)})
      end)

      receive do
        {:took, ns} -> ns / n
      end
    end

    _warm = one.()
    results = Enum.map(1..@rounds, fn _ -> one.() end) |> Enum.sort()

    IO.puts(
      String.pad_trailing("selective receive past #{len} non-matching", 48) <>
        "median #{fmt(Enum.at(results, div(@rounds, 2)))}/op   best #{fmt(hd(results))}/op   (#{n} ops per round)"
    )
  end

  # n idle processes, each blocked in receive
  def idle(n) do
    parent = self()
    :erlang.garbage_collect()
    before_rss = rss_kib()
    before_procs = :erlang.memory(:processes)

    pids =
      Enum.map(1..n, fn _ ->
        spawn(fn ->
          send(parent, :ready)

          receive do
            :stop -> :ok
          end
        end)
      end)

    Enum.each(1..n, fn _ ->
      receive do
        :ready -> :ok
      end
    end)

    after_rss = rss_kib()
    after_procs = :erlang.memory(:processes)
    alive = Enum.count(pids, &Process.alive?/1)
    {:memory, one} = Process.info(hd(pids), :memory)

    IO.puts("idle processes: #{alive} of #{n} alive")

    IO.puts(
      "  :erlang.memory(:processes) grew #{after_procs - before_procs} bytes = " <>
        "#{Float.round((after_procs - before_procs) / n, 1)} bytes per process " <>
        "(process_info memory of one: #{one} bytes)"
    )

    IO.puts(
      "  VmRSS #{before_rss} KiB -> #{after_rss} KiB: " <>
        "#{Float.round((after_rss - before_rss) * 1024 / n, 1)} bytes per process"
    )

    refs = Enum.map(pids, &Process.monitor/1)
    Enum.each(pids, &send(&1, :stop))

    Enum.each(refs, fn r ->
      receive do
        {:DOWN, ^r, :process, _, _} -> :ok
      end
    end)

    IO.puts("  all #{n} stopped")
  end

  defp rss_kib do
    File.read!("/proc/self/status")
    |> String.split("\n")
    |> Enum.find_value(fn line ->
      case String.split(line) do
        ["VmRSS:", kib, "kB"] -> String.to_integer(kib)
        _ -> nil
      end
    end)
  end
end

idle_n =
  case System.argv() do
    [n | _] -> String.to_integer(n)
    [] -> 20_000
  end

Logger.configure(level: :none)
IO.puts("BEAM: OTP #{:erlang.system_info(:otp_release)}, #{:erlang.system_info(:schedulers_online)} schedulers")
RuntimeBench.measure("spawn + monitor + DOWN", 100_000, &RuntimeBench.spawn_monitor_down/1)
RuntimeBench.measure("ping-pong round trip", 200_000, &RuntimeBench.ping_pong/1)
RuntimeBench.measure("one-way send, per message", 1_000_000, &RuntimeBench.one_way/1)
RuntimeBench.measure("spawn_link + exit(:boom) + trapped EXIT", 100_000, &RuntimeBench.crash_exit/1)
RuntimeBench.measure("spawn_link + raise + trapped EXIT", 20_000, &RuntimeBench.raise_exit/1)
RuntimeBench.measure_selective(100, 100_000)
RuntimeBench.measure_selective(10_000, 2_000)
RuntimeBench.idle(idle_n)
