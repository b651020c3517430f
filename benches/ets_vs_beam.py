#!/usr/bin/env python3
"""The ETS workloads of DESIGN.md section 4, ours and the BEAM's, interleaved.

    python3 benches/ets_vs_beam.py [ROUNDS]      (default 3; run from the repository root)

Runs `elixir benches/beam/ets_bench.exs`, then the criterion set/ordered_set lookup and insert
benches of `benches/benches/ets.rs` (both fronts), ROUNDS times, and the BEAM once more at the
end. The speed of a shared VM changes from minute to minute, so each of our figures is compared
with the BEAM runs just before and just after it. Prints, per workload and client count, the
range of our figures and of those ratios. Needs `elixir` (`apt-get install -y elixir`).
"""

import re
import subprocess
import sys
import time

WORKLOADS = ["set lookup", "set insert", "ordered_set insert"]
CLIENTS = [1, 2, 64]


def beam():
    out = subprocess.run(
        ["elixir", "benches/beam/ets_bench.exs"], capture_output=True, text=True, check=True
    ).stdout
    return {
        (m.group(1), int(m.group(2))): float(m.group(3))
        for m in re.finditer(r"(set lookup|set insert|ordered_set insert), (\d+) clients\s+([\d.]+)", out)
    }


def ours():
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "benches", "--bench", "ets", "--",
         "--warm-up-time", "1", "--measurement-time", "3",
         r"ets (set|ordered_set) (lookup|insert) \("],
        capture_output=True, text=True, check=True,
    ).stdout
    found = {}
    name = None
    for line in out.splitlines():
        m = re.match(r"ets (set lookup|set insert|ordered_set insert) \((\w+)\)/(\d+) threads", line)
        if m:
            name = (m.group(1), m.group(2), int(m.group(3)))
        m = re.search(r"thrpt:\s+\[[\d.]+ Melem/s ([\d.]+) Melem/s", line)
        if m and name:
            found[name] = float(m.group(1))
            name = None
    return found


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    beams, runs = [], []
    for i in range(rounds):
        print(f"{time.strftime('%H:%M:%S')} BEAM run {i + 1}", flush=True)
        beams.append(beam())
        print(f"{time.strftime('%H:%M:%S')} our run {i + 1}", flush=True)
        runs.append(ours())
    print(f"{time.strftime('%H:%M:%S')} BEAM run {rounds + 1}", flush=True)
    beams.append(beam())
    print("\nM ops/s; in brackets, ours / the BEAM runs just before and after\n")
    print("| workload | front | 1 client | 2 clients | 64 clients |")
    print("|---|---|---|---|---|")
    for w in WORKLOADS:
        for front in ["typed", "Term"]:
            cells = []
            for c in CLIENTS:
                vals = [r[(w, front, c)] for r in runs]
                ratios = [v / b[(w, c)] for i, v in enumerate(vals) for b in beams[i:i + 2]]
                cells.append(f"{min(vals):.1f}-{max(vals):.1f} ({min(ratios):.1f}-{max(ratios):.1f}x)")
            print(f"| {w} | {front} | " + " | ".join(cells) + " |")
        cells = [f"{min(b[(w, c)] for b in beams):.2f}-{max(b[(w, c)] for b in beams):.2f}" for c in CLIENTS]
        print(f"| {w} | BEAM | " + " | ".join(cells) + " |")
    print("\nEach run in order (BEAM, then ours as typed/Term, then BEAM ...):\n")
    for w in WORKLOADS:
        for c in CLIENTS:
            seq = []
            for i, b in enumerate(beams):
                seq.append(f"{b[(w, c)]:.2f}")
                if i < len(runs):
                    seq.append(f"{runs[i][(w, 'typed', c)]:.1f}/{runs[i][(w, 'Term', c)]:.1f}")
            print(f"- {w}, {c} client{'s' if c > 1 else ''}: " + ", ".join(seq))


if __name__ == "__main__":
    main()
