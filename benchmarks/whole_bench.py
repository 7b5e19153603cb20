"""What a user waits for: whole ``d4py run`` commands, timed from outside, beside dispel4py 1.2.1's command.

Every figure is the median of R runs of the whole process, the two systems
interleaved so that both meet the machine in the same state. d4py's runs
also print their in-process run time (``--json``'s ``wall_time``); the rest
of the whole is start-up and teardown.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from anchors import HERE, dispel4py_python

WORKLOADS = HERE / "workloads"
D4PY = Path(sys.executable).parent / "d4py"

# (label, workload, d4py arguments, dispel4py 1.2.1 target and arguments, environment)
CASES = [
    ("smallest workflow, simple", "smallest.py", [], ["simple"], {}),
    ("smallest workflow, multi", "smallest.py", ["-b", "multi", "-n", "2"], ["multi", "-n", "2"], {}),
    ("pipeline 200k ints, simple", "pipeline.py", [], ["simple"], {"BENCH_ITEMS": "200000"}),
    ("pipeline 200k ints, multi -n 6", "pipeline.py", ["-b", "multi", "-n", "6"], ["multi", "-n", "6"], {}),
    ("word count 20k lines, multi -n 6", "wordcount.py", ["-b", "multi", "-n", "6"], ["multi", "-n", "6"], {}),
]


def _time(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=WORKLOADS, env={**os.environ, **env}, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main(repeat: int = 5) -> None:
    dispel4py = dispel4py_python().parent / "dispel4py"
    print(f"## whole: `d4py run` as a user runs it, median of {repeat} (interleaved with dispel4py 1.2.1)")
    print()
    print("| workload | d4py (s) | of which the run (s) | start-up + teardown (s) | dispel4py 1.2.1 (s) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, workload, ours, theirs, env in CASES:
        whole, inside, anchor = [], [], []
        for _ in range(repeat):
            seconds, out = _time([str(D4PY), "run", workload, "--json", *ours], env)
            whole.append(seconds)
            inside.append(json.loads(out)["wall_time"])
            anchor.append(_time([str(dispel4py), theirs[0], workload, *theirs[1:]], env)[0])
        ours_s, inside_s, anchor_s = (statistics.median(v) for v in (whole, inside, anchor))
        print(
            f"| {label} | {ours_s:.3f} | {inside_s:.3f} | {ours_s - inside_s:.3f} | {anchor_s:.3f} "
            f"| {anchor_s / ours_s:.2f}x |"
        )
    print()
