"""What the ratio scripts share: reading Google Benchmark's JSON output
(--benchmark_out) and printing tables.

Used by scripts/bench_ratios.py, bench_tensor_ratios.py and
bench_nn_ratios.py, which import it from their own folder.
"""

import json
import statistics

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def entries(path, group, time_key, contexts):
    """Yields (case, impl, nanoseconds, entry) for each entry named
    <group>/<case>/<impl> in the file that did not fail: the repetitions and,
    when the run printed them, the aggregates (entry["run_type"] tells).
    Appends the file's context (machine, date, load) to contexts."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    contexts.append(data.get("context", {}))
    for b in data.get("benchmarks", []):
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) != 3 or parts[0] != group or b.get("error_occurred"):
            continue
        yield parts[1], parts[2], float(b[time_key]) * UNIT_NS[b.get("time_unit", "ns")], b


def repetitions(paths, group, time_key, contexts):
    """samples[(case, impl)]: the times (ns) of every repetition in the files."""
    samples = {}
    for path in paths:
        for case, impl, ns, b in entries(path, group, time_key, contexts):
            if b.get("run_type") != "aggregate":
                samples.setdefault((case, impl), []).append(ns)
    return samples


def coefficients_of_variation(samples):
    """The coefficient of variation of each key's samples, where there are two or more."""
    return {key: statistics.stdev(v) / statistics.mean(v) for key, v in samples.items() if len(v) > 1}


def print_contexts(contexts):
    """One comment line per process: its date, CPUs and load average."""
    for context in contexts:
        if context:
            load_avg = ", ".join(f"{x:.2f}" for x in context.get("load_avg", []))
            print(f"# process of {context.get('date', '?')}: {context.get('num_cpus', '?')} CPUs at "
                  f"{context.get('mhz_per_cpu', '?')} MHz, load average {load_avg or '?'}")


def format_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def print_table(header, rows, markdown):
    """Markdown, or columns aligned for a terminal (the first to the left)."""
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        for row in rows:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
