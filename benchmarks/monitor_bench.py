"""What recording every run costs: the same ``d4py run`` commands with d4py-monitor on and off.

Every figure is the median of R whole commands, on and off interleaved (off
first in even repeats, on first in odd ones, so that neither always follows
the other), with d4py-monitor installed and recording into a temporary
``$D4PY_HOME``. "Off" is ``D4PY_MONITOR=off``: no observer on any instance
and no record, as without the package. Both the run inside the process
(``--json``'s ``wall_time``) and the whole command are reported, and, for
the scale of this machine's noise, the ratio between two halves of the runs
off, each with as many runs first as second (repeats 0, 1, 4, 5, ... against
2, 3, 6, 7, ...): a difference not well beyond that one is not measured
here. One whole command's run varies by about 5% on a 2-core machine, so a
figure takes at least ``MIN_REPEAT`` repeats whatever ``--repeat`` asks for.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import tempfile

from anchors import compile_d4py
from whole_bench import WORKLOADS, _time

MULTI_6 = ["-b", "multi", "-n", "6"]
MIN_REPEAT = 32  # fewer leave the ratio's own noise (about 1.6% at 32) larger than a 2% difference

# (label, workload, d4py arguments, environment)
CASES = [
    ("pipeline 200k ints, simple", "pipeline.py", [], {}),
    ("pipeline 200k ints, multi -n 6", "pipeline.py", MULTI_6, {}),
    ("word count 20k lines, simple", "wordcount.py", [], {}),
    ("word count 20k lines, multi -n 6", "wordcount.py", MULTI_6, {}),
    # The same, ten times longer: what is left of recording's cost once its fixed part (per run) is spread.
    ("word count 200k lines, multi -n 6", "wordcount.py", MULTI_6, {"BENCH_LINES": "200000"}),
    ("xcorr, pair-ownership design, 100 stations, multi", "xcorr.py", ["-b", "multi"], {"BENCH_STATIONS": "100"}),
]


def main(repeat: int = MIN_REPEAT) -> None:
    repeat = max(repeat, MIN_REPEAT)
    if importlib.util.find_spec("d4py_monitor") is None:
        raise SystemExit(f"d4py-monitor is not installed in {sys.prefix}: pip install -e packages/d4py-monitor")
    compile_d4py()
    print(f"## monitor: every run recorded, on against off, median of {repeat} (interleaved)")
    print()
    print("| workload | run off (s) | run on (s) | ratio | whole off (s) | whole on (s) | ratio | off / off |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as home:
        for label, workload, ours, env in CASES:
            runs: dict[str, list[float]] = {"off": [], "on": []}
            wholes: dict[str, list[float]] = {"off": [], "on": []}
            for turn in range(repeat):
                for mode in ("off", "on") if turn % 2 == 0 else ("on", "off"):
                    setting = {**env, "D4PY_HOME": home, "D4PY_MONITOR": mode}
                    seconds, _, out = _time([sys.executable, "-m", "d4py", "run", workload, "--json", *ours], setting)
                    wholes[mode].append(seconds)
                    runs[mode].append(json.loads(out)["wall_time"])
            run_off, run_on, whole_off, whole_on = (
                statistics.median(values) for values in (runs["off"], runs["on"], wholes["off"], wholes["on"])
            )
            halves = [[taken for turn, taken in enumerate(runs["off"]) if turn % 4 // 2 == half] for half in (0, 1)]
            noise = statistics.median(halves[0]) / statistics.median(halves[1])
            print(
                f"| {label} | {run_off:.3f} | {run_on:.3f} | {run_on / run_off:.3f} "
                f"| {whole_off:.3f} | {whole_on:.3f} | {whole_on / whole_off:.3f} | {noise:.3f} |"
            )
    print()
    print(
        f"Workloads in {WORKLOADS.relative_to(WORKLOADS.parent.parent)}; run records kept in a temporary folder; "
        "off / off: two halves of the runs off, each as often first as second (run inside the process)."
    )
    print()


if __name__ == "__main__":
    main(repeat=int(os.environ.get("BENCH_REPEAT", str(MIN_REPEAT))))
