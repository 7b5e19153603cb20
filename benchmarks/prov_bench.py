"""What provenance costs: the same ``d4py run`` commands with ``--provenance`` off, sampled and full.

Every figure is the median of R whole commands, the levels interleaved, with
d4py-monitor installed and recording into a temporary ``$D4PY_HOME`` (run
records on at every level, so the ratios are provenance's alone). For the
pipeline, the cost is also given per item per connection: 200k items cross
four connections.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import tempfile

from whole_bench import WORKLOADS, _time

MULTI_6 = ["-b", "multi", "-n", "6"]
LEVELS = ("off", "sampled", "full")
PIPELINE_HOPS = 200_000 * 4  # items x connections of pipeline.py

# (label, workload, d4py arguments, environment, item-connections or 0)
CASES = [
    ("pipeline 200k ints, simple", "pipeline.py", [], {}, PIPELINE_HOPS),
    ("pipeline 200k ints, multi -n 6", "pipeline.py", MULTI_6, {}, PIPELINE_HOPS),
    ("word count 20k lines, simple", "wordcount.py", [], {}, 0),
    ("word count 20k lines, multi -n 6", "wordcount.py", MULTI_6, {}, 0),
    ("xcorr, pair-ownership design, 100 stations, multi", "xcorr.py", ["-b", "multi"], {"BENCH_STATIONS": "100"}, 0),
]


def main(repeat: int = 5) -> None:
    if importlib.util.find_spec("d4py_monitor") is None:
        raise SystemExit(f"d4py-monitor is not installed in {sys.prefix}: pip install -e packages/d4py-monitor")
    print(f"## provenance: --provenance off, sampled (0.1) and full, median of {repeat} (interleaved)")
    print()
    print(
        "| workload | run off (s) | sampled / off | full / off | full, µs per item per connection "
        "| whole off (s) | whole full / off |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as home:
        for label, workload, ours, env, hops in CASES:
            runs: dict[str, list[float]] = {level: [] for level in LEVELS}
            wholes: dict[str, list[float]] = {level: [] for level in LEVELS}
            for _ in range(repeat):
                for level in LEVELS:
                    command = [sys.executable, "-m", "d4py", "run", workload, "--json", "--provenance", level, *ours]
                    seconds, _, out = _time(command, {**env, "D4PY_HOME": home})
                    wholes[level].append(seconds)
                    runs[level].append(json.loads(out)["wall_time"])
            run = {level: statistics.median(values) for level, values in runs.items()}
            whole = {level: statistics.median(values) for level, values in wholes.items()}
            per_hop = f"{(run['full'] - run['off']) / hops * 1e6:.2f}" if hops else "-"
            print(
                f"| {label} | {run['off']:.3f} | {run['sampled'] / run['off']:.3f} | {run['full'] / run['off']:.3f} "
                f"| {per_hop} | {whole['off']:.3f} | {whole['full'] / whole['off']:.3f} |"
            )
    print()
    print(f"Workloads in {WORKLOADS.relative_to(WORKLOADS.parent.parent)}; records kept in a temporary folder.")
    print()


if __name__ == "__main__":
    main(repeat=int(os.environ.get("BENCH_REPEAT", "5")))
