#!/usr/bin/env python3
"""Ratio tables from Google Benchmark JSON output of etape_bench_tensor.

    scripts/bench_tensor_ratios.py OUT.json [MORE.json ...] [--time cpu|real] [--markdown]

Benchmark names are tensor/<case>/<impl> (impl: hand, etape, torch). For
each case and impl the script pools the repetitions of every file given (the
processes of one scripts/bench_tensor.sh run) and takes the median time.

Table 1, times: etape/hand and torch/etape, each against the team's target
where there is one (ELU cases and the chain: etape <= 1.10 x hand; the chain:
torch >= 4 x etape; the scalar-benchmark cases: etape <= 1.5 x hand).

Table 2, bandwidth: for the ELU cases, the bytes each kernel must move (the
benchmark's "bytes" counter, the same for every impl) over its median time,
and that as a fraction of the copy kernel's (tensor/copy_<type>_<n>/hand, a
loop of plain vector loads and stores) of the same type and size; memcpy's
bandwidth is shown beside it. Targets at float, 2^25 elements: forward >=
60 % and backward >= 90 % of the copy's.

Exit status: 0, also when a target is missed (the table says so); 1 when the
files hold no tensor benchmark.
"""

import argparse
import re
import statistics
import sys

from benchmark_json import (coefficients_of_variation, entries, format_time, print_contexts, print_table,
                            repetitions)

ETAPE_OVER_HAND = {"elu_forward": 1.10, "elu_backward": 1.10, "elu": 1.10, "chain": 1.10,
                   "elu_sum_100000": 1.5, "logsumexp": 1.5, "normal_lpdf": 1.5}
TORCH_OVER_ETAPE = {"chain": 4.0}
COPY_FRACTION = {("elu_forward", "float", "32M"): 0.60, ("elu_backward", "float", "32M"): 0.90}

SIZED = re.compile(r"^(copy_memcpy|copy|elu_forward|elu_backward|elu|chain)_(float|double)_(\w+)$")


def split_case(case):
    """(operation, type, size) of a sized case name, (case, None, None) otherwise."""
    m = SIZED.match(case)
    return (m.group(1), m.group(2), m.group(3)) if m else (case, None, None)


OPERATION_ORDER = ["copy", "copy_memcpy", "elu_forward", "elu_backward", "elu", "chain",
                   "elu_sum_100000", "logsumexp", "normal_lpdf"]


def case_order(case):
    """Rows by operation, then type, then size (the run's order is random)."""
    op, type_name, size = split_case(case)
    digits = re.match(r"\d+", size or "")
    return (OPERATION_ORDER.index(op) if op in OPERATION_ORDER else len(OPERATION_ORDER), op,
            ["float", "double", None].index(type_name), int(digits.group()) if digits else 0, size or "")


def verdict(ok):
    return "met" if ok else "MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="--benchmark_out files of etape_bench_tensor (JSON)")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu",
                        help="which time to compare (default: cpu, robust against other processes on the machine)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()

    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    contexts = []
    samples = repetitions(args.json, "tensor", time_key, contexts)
    if not samples:
        sys.exit(f"{', '.join(args.json)}: no tensor/<case>/<impl> benchmarks")
    bytes_of = {case: float(b["bytes"]) for path in args.json for case, _, _, b in entries(path, "tensor", time_key, [])
                if b.get("bytes")}
    median = {key: statistics.median(v) for key, v in samples.items()}
    cv = coefficients_of_variation(samples)
    cases = sorted({case for case, _ in samples}, key=case_order)

    print(f"# {args.time} time; medians over all repetitions of {len(args.json)} file(s)")
    print_contexts(contexts)
    print()

    header = ["case", "hand (median)", "etape/hand", "torch/etape", "target", "status", "samples", "max cv"]
    rows = []
    for case in cases:
        op, _, _ = split_case(case)
        hand, etape, torch = (median.get((case, impl)) for impl in ("hand", "etape", "torch"))
        if etape is None:
            continue  # the copy kernels: in the bandwidth table
        targets, verdicts = [], []
        if op in ETAPE_OVER_HAND and hand:
            targets.append(f"etape/hand <= {ETAPE_OVER_HAND[op]:.2f}")
            verdicts.append(verdict(etape / hand <= ETAPE_OVER_HAND[op]))
        if op in TORCH_OVER_ETAPE and torch:
            targets.append(f"torch/etape >= {TORCH_OVER_ETAPE[op]:.0f}")
            verdicts.append(verdict(torch / etape >= TORCH_OVER_ETAPE[op]))
        spreads = [cv[(case, impl)] for impl in ("hand", "etape", "torch") if (case, impl) in cv]
        rows.append([case, format_time(hand) if hand else "-",
                     f"{etape / hand:.2f}" if hand else "-",
                     f"{torch / etape:.2f}" if torch else "-",
                     "; ".join(targets) or "-", ", ".join(verdicts) or "-",
                     str(len(samples.get((case, "etape"), []))),
                     f"{100 * max(spreads):.1f}%" if spreads else "-"])
    print_table(header, rows, args.markdown)
    print()

    def gbps(case, impl):
        t = median.get((case, impl))
        return bytes_of[case] / t if t and case in bytes_of else None  # bytes per ns = GB/s

    header = ["case", "copy GB/s", "memcpy GB/s", "hand GB/s", "etape GB/s", "torch GB/s",
              "hand/copy", "etape/copy", "torch/copy", "target", "status"]
    rows = []
    for case in cases:
        op, type_name, size = split_case(case)
        if op not in ("elu_forward", "elu_backward", "elu"):
            continue
        copy = gbps(f"copy_{type_name}_{size}", "hand")
        memcpy = gbps(f"copy_memcpy_{type_name}_{size}", "hand")
        bw = {impl: gbps(case, impl) for impl in ("hand", "etape", "torch")}
        row = [case, f"{copy:.1f}" if copy else "-", f"{memcpy:.1f}" if memcpy else "-"]
        row += [f"{bw[impl]:.2f}" if bw[impl] else "-" for impl in ("hand", "etape", "torch")]
        row += [f"{100 * bw[impl] / copy:.0f}%" if bw[impl] and copy else "-" for impl in ("hand", "etape", "torch")]
        target = COPY_FRACTION.get((op, type_name, size))
        row.append(f"etape >= {100 * target:.0f}%" if target else "-")
        row.append(verdict(bw["etape"] / copy >= target) if target and bw["etape"] and copy else "-")
        rows.append(row)
    if rows:
        print("# bandwidth: the bytes a kernel must move (reads and writes once each) over its median time;")
        print("# copy: tensor/copy_<type>_<n>/hand, plain vector loads and stores; memcpy: glibc's")
        print_table(header, rows, args.markdown)


if __name__ == "__main__":
    main()
