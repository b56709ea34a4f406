#!/usr/bin/env python3
"""The ratio table of etape_bench_sim's JSON output.

    scripts/bench_sim_ratios.py OUT.json [--time cpu|real]

Benchmark names are sim/<case>/<impl>. For each case: the median time of
each impl over the repetitions, its ratio to hand, and stored_bytes where
reported. Targets (issue 18): etape_stencil <= 2 x hand on
advection_100x100, advection_1000x1000 and heat2d_128x128x100;
etape_checkpointed <= 2.5 x etape_stencil and its stored_bytes <= 5 % of
etape_stencil's on advection_100x10000.
"""

import argparse
import json
import statistics
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
STENCIL_TARGET = {"advection_100x100": 2.0, "advection_1000x1000": 2.0, "heat2d_128x128x100": 2.0}
IMPLS = ["hand", "etape", "etape_stencil", "etape_checkpointed", "sacado"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu")
    args = parser.parse_args()
    times, stored = {}, {}
    for path in args.files:
        with open(path) as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("run_type") != "iteration" or not b["name"].startswith("sim/"):
                    continue
                _, case, impl = b["name"].split("/")[:3]
                t = b[args.time + "_time"] * UNIT_NS[b["time_unit"]]
                times.setdefault((case, impl), []).append(t)
                if "stored_bytes" in b:
                    stored[(case, impl)] = b["stored_bytes"]
    if not times:
        print("no sim/ benchmark in the input", file=sys.stderr)
        return 1
    cases = []
    for case, _ in times:
        if case not in cases:
            cases.append(case)
    print(f"median {args.time} time over {max(len(v) for v in times.values())} repetitions; ratio to hand")
    print(f"| case | impl | time (ms) | / hand | stored (KiB) | target |")
    print(f"| --- | --- | ---: | ---: | ---: | --- |")
    for case in cases:
        hand = statistics.median(times[(case, "hand")]) if (case, "hand") in times else None
        for impl in IMPLS:
            if (case, impl) not in times:
                continue
            t = statistics.median(times[(case, impl)])
            ratio = f"{t / hand:.2f}" if hand else "-"
            kib = f"{stored[(case, impl)] / 1024:,.0f}" if (case, impl) in stored else ""
            target = ""
            if impl == "etape_stencil" and case in STENCIL_TARGET:
                limit = STENCIL_TARGET[case]
                target = f"<= {limit} x hand: {'met' if t / hand <= limit else 'MISSED'}"
            if impl == "etape_checkpointed" and (case, "etape_stencil") in times:
                stencil = statistics.median(times[(case, "etape_stencil")])
                share = stored.get((case, impl), 0) / stored.get((case, "etape_stencil"), 1)
                met = t / stencil <= 2.5 and share <= 0.05
                target = (f"{t / stencil:.2f} x etape_stencil (<= 2.5), stores {100 * share:.1f} % of its "
                          f"recording (<= 5 %): {'met' if met else 'MISSED'}")
            print(f"| {case} | {impl} | {t / 1e6:.3f} | {ratio} | {kib} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
