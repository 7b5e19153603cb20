"""The Spark benchmark: cross-correlation on a local two-core master, beside the NumPy script and multi.

Spark's start-up is reported apart from the run: the session (JVM and
context), then the first run (which also starts Spark's Python workers), then
a second run in the same session. Each figure is the best of R runs, each in
a fresh interpreter.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from anchors import HERE, measure
from multi_bench import D4PY_DRIVER

WORKLOADS = HERE / "workloads"

SPARK_DRIVER = """
import json, sys, time
started = time.perf_counter()
from d4py_spark import SparkOptions, new_context
context = new_context(SparkOptions(master="local[2]"))
session = time.perf_counter() - started
from d4py import run
from d4py.loader import load_workflow
graph = load_workflow(sys.argv[1])
runs = []
for _ in range(2):
    started = time.perf_counter()
    run(graph, backend="spark")
    runs.append(time.perf_counter() - started)
context.stop()
print(json.dumps({"session": session, "first": runs[0], "seconds": runs[1]}))
"""


def _best(command: list[str], env: dict[str, str], repeat: int) -> dict[str, Any]:
    return min((measure(command, {**os.environ, **env}) for _ in range(repeat)), key=lambda f: f["seconds"])


def xcorr(stations: int, repeat: int) -> None:
    env = {"BENCH_STATIONS": str(stations)}
    workflow = str(WORKLOADS / "xcorr.py")
    script = _best([sys.executable, str(WORKLOADS / "xcorr_script.py")], env, repeat)
    multi = _best([sys.executable, "-c", D4PY_DRIVER, workflow, "multi"], env, repeat)
    spark = _best([sys.executable, "-c", SPARK_DRIVER, workflow], env, repeat)
    pairs = stations * (stations - 1) // 2
    print(f"## spark: cross-correlation, {stations} stations, {pairs:,} pairs, local[2] master, best of {repeat}")
    print()
    print("| system | seconds | ms per pair | script / this |")
    print("| --- | ---: | ---: | ---: |")
    rows = {
        "plain NumPy script, one core": script["seconds"],
        "d4py multi (2 Prepare, 2 CrossCorrelate instances)": multi["seconds"],
        "d4py spark, run in a warm session": spark["seconds"],
        "d4py spark, first run (starts Spark's Python workers)": spark["first"],
    }
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.3f} | {seconds / pairs * 1e3:.3f} | {script['seconds'] / seconds:.2f}× |")
    print()
    print(f"Spark session start-up (JVM and context), not in the rows above: {spark['session']:.1f} s.")
    print()


def main(repeat: int = 3) -> None:
    xcorr(100, repeat)
