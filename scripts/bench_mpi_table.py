#!/usr/bin/env python3
"""The table of docs/distributed.md from etape_bench_mpi's JSON outputs, given
as label=path (scripts/bench_mpi.sh), the first the 1-rank run: the median
wall time per iteration of every benchmark in each run, then for each run on
several ranks the weak-scaling efficiency of the data-parallel step (the
1-rank step over that step) and the part of the exchange that shows in the
step ((data_parallel - local) / allreduce, all on those ranks)."""
import json
import statistics
import sys

DEFAULT_BUCKET = "mpi_step/data_parallel/1024"
ROWS = [("mpi_step/local", "step, no exchange (the compute alone)"),
        ("mpi_step/data_parallel/256", "step, data_parallel, buckets of 256 KiB"),
        (DEFAULT_BUCKET, "step, data_parallel, buckets of 1 MiB (default)"),
        ("mpi_step/data_parallel/4096", "step, data_parallel, one bucket (no overlap)"),
        ("mpi_step/blocking", "step, sweep then average_gradients"),
        ("mpi_allreduce", "average_gradients alone")]


def medians(path):
    with open(path) as f:
        runs = json.load(f)["benchmarks"]
    times = {}
    for r in runs:
        if r.get("run_type") == "iteration":
            times.setdefault(r["run_name"].split("/iterations:")[0], []).append(r["real_time"])
    return {name: statistics.median(t) for name, t in times.items()}


def main(arguments):
    runs = []
    for argument in arguments:
        label, path = argument.split("=", 1)
        runs.append((label, medians(path)))
    print("| ms per iteration (median) | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for key, text in ROWS:
        cells = [f"{table[key]:.2f}" if key in table and key != "mpi_allreduce" or label != runs[0][0] and
                 key in table else "" for label, table in runs]
        print(f"| {text} | " + " | ".join(cells) + " |")
    one = runs[0][1][DEFAULT_BUCKET]
    print()
    for label, table in runs[1:]:
        step, local, reduce = table[DEFAULT_BUCKET], table["mpi_step/local"], table["mpi_allreduce"]
        print(f"- {label}: weak-scaling efficiency {100 * one / step:.1f} % (the step {step / one:.3f} x the "
              f"1-rank step; target at most 1.11 x); exchange that shows in the step (data_parallel - local) / "
              f"allreduce = ({step:.2f} - {local:.2f}) / {reduce:.2f} = {100 * (step - local) / reduce:.0f} % "
              f"(target at most 10 %)")


if __name__ == "__main__":
    main(sys.argv[1:])
