#!/usr/bin/env python3
"""The table of docs/distributed.md from etape_bench_mpi's JSON outputs (one
per rank count, as scripts/bench_mpi.sh writes them): median wall time per
iteration of every benchmark on each rank count, the weak-scaling efficiency
of the data-parallel step (1-rank step over N-rank step) and the part of the
exchange that shows in the step ((data_parallel - local) / allreduce on N
ranks)."""
import json
import statistics
import sys


def medians(path):
    with open(path) as f:
        runs = json.load(f)["benchmarks"]
    times, ranks = {}, 1
    for r in runs:
        if r.get("run_type") != "iteration":
            continue
        times.setdefault(r["run_name"], []).append(r["real_time"])
        ranks = int(r.get("ranks", ranks))
    return ranks, {name: statistics.median(t) for name, t in times.items()}


def main(paths):
    table = dict(medians(p) for p in paths)
    counts = sorted(table)
    rows = [("mpi_step/local", "step, no exchange (compute alone)"),
            ("mpi_step/data_parallel", "step, data_parallel (overlapped)"),
            ("mpi_step/blocking", "step, sweep then average_gradients"),
            ("mpi_allreduce", "average_gradients alone")]
    print("| ms per iteration (median) | " + " | ".join(f"{n} rank{'s' if n > 1 else ''}" for n in counts) + " |")
    print("|---|" + "---:|" * len(counts))
    for key, label in rows:
        cells = [f"{table[n][key]:.2f}" if key in table[n] else "" for n in counts]
        print(f"| {label} | " + " | ".join(cells) + " |")
    one, many = counts[0], counts[-1]
    if one == many:
        return
    step1, stepn = table[one]["mpi_step/data_parallel"], table[many]["mpi_step/data_parallel"]
    local, reduce = table[many]["mpi_step/local"], table[many]["mpi_allreduce"]
    print()
    print(f"weak-scaling efficiency, {many} ranks: {100 * step1 / stepn:.1f} % "
          f"(step {stepn / step1:.3f} x the 1-rank step; target at least 90 %, at most 1.11 x)")
    print(f"exchange that shows in the step, {many} ranks: (data_parallel - local) / allreduce = "
          f"({stepn:.2f} - {local:.2f}) / {reduce:.2f} = {100 * (stepn - local) / reduce:.0f} % (target at most 10 %)")


if __name__ == "__main__":
    main(sys.argv[1:])
