"""The redis backend beside multi: the same ``d4py run`` commands, interleaved, medians of R.

Each figure is a whole ``d4py run WORKLOAD --json`` command; "run" is the run
inside the process (``wall_time``: for redis, starting the private server and
the workers included), "whole" the command. The pipeline is also given as
items per second through it (its 200k items over the run).
"""

from __future__ import annotations

import json
import os
import statistics
import sys

from whole_bench import _time

PIPELINE_ITEMS = 200_000

# (label, workload, arguments shared by both backends, environment)
CASES = [
    ("pipeline 200k ints, fused, -n 2", "pipeline.py", ["-n", "2"], {"BENCH_ITEMS": str(PIPELINE_ITEMS)}),
    ("pipeline 200k ints, fused, -n 4", "pipeline.py", ["-n", "4"], {"BENCH_ITEMS": str(PIPELINE_ITEMS)}),
    # One partition per PE: every item crosses between processes (on redis, through its streams).
    ("pipeline 200k ints, one partition per PE, -n 2", "pipeline.py", ["-n", "2"], {"BENCH_SPLIT": "1"}),
    ("pipeline 200k ints, one partition per PE, -n 4", "pipeline.py", ["-n", "4"], {"BENCH_SPLIT": "1"}),
    ("word count 20k lines, -n 4", "wordcount.py", ["-n", "4"], {}),
    ("xcorr, pair-ownership design, 100 stations", "xcorr.py", [], {"BENCH_STATIONS": "100"}),
]


def main(repeat: int = 5) -> None:
    print(f"## redis: the redis backend beside multi, median of {repeat} (interleaved)")
    print()
    print(
        "| workload | multi run (s) | redis run (s) | redis / multi | redis items/s "
        "| multi whole (s) | redis whole (s) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, workload, arguments, env in CASES:
        runs: dict[str, list[float]] = {"multi": [], "redis": []}
        wholes: dict[str, list[float]] = {"multi": [], "redis": []}
        for _ in range(repeat):
            for backend in ("multi", "redis"):
                command = [sys.executable, "-m", "d4py", "run", workload, "--json", "-b", backend, *arguments]
                seconds, _, out = _time(command, {**env, "D4PY_MONITOR": "off"})
                wholes[backend].append(seconds)
                runs[backend].append(json.loads(out)["wall_time"])
        multi, redis = statistics.median(runs["multi"]), statistics.median(runs["redis"])
        rate = f"{PIPELINE_ITEMS / redis:,.0f}" if workload == "pipeline.py" else "-"
        print(
            f"| {label} | {multi:.3f} | {redis:.3f} | {redis / multi:.2f} | {rate} "
            f"| {statistics.median(wholes['multi']):.3f} | {statistics.median(wholes['redis']):.3f} |"
        )
    print()


if __name__ == "__main__":
    main(repeat=int(os.environ.get("BENCH_REPEAT", "5")))
