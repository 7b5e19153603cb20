"""The multi-backend benchmarks: d4py multi beside d4py simple and dispel4py 1.2.1 multi.

The workflows in workloads/ are written against the dispel4py 1.x API; the
same files run on dispel4py 1.2.1 and, through its compatibility layer, on
d4py. Each figure is the best of R runs, each in a fresh interpreter, timing
only the run (process start-up included, interpreter start-up not).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from anchors import HERE, dispel4py_python, measure

WORKLOADS = HERE / "workloads"

D4PY_DRIVER = """
import json, resource, sys, time
from d4py import run
from d4py.loader import load_workflow
graph = load_workflow(sys.argv[1])
started = time.perf_counter()
run(graph, backend=sys.argv[2], options=sys.argv[3:])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds,
                  "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

DISPEL4PY_DRIVER = """
import argparse, importlib.util, json, resource, sys, time
spec = importlib.util.spec_from_file_location("workload", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from dispel4py.new.multi_process import process
graph = module.graph
targets = {id(d["DIRECTION"][1]) for _, _, d in graph.graph.edges(data=True)}
roots = [n.getContainedObject() for n in graph.graph.nodes() if id(n.getContainedObject()) not in targets]
started = time.perf_counter()
process(graph, {pe: 1 for pe in roots}, argparse.Namespace(num=int(sys.argv[2]), simple=False, results=False))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds,
                  "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _d4py(workload: str, backend: str, env: dict[str, str], repeat: int) -> dict[str, Any]:
    command = [sys.executable, "-c", D4PY_DRIVER, str(WORKLOADS / workload), backend]
    return min((measure(command, {**os.environ, **env}) for _ in range(repeat)), key=lambda f: f["seconds"])


def _dispel4py(workload: str, processes: int, env: dict[str, str], repeat: int) -> dict[str, Any]:
    command = [str(dispel4py_python()), "-c", DISPEL4PY_DRIVER, str(WORKLOADS / workload), str(processes)]
    return min((measure(command, {**os.environ, **env}) for _ in range(repeat)), key=lambda f: f["seconds"])


def pipeline(items: int, repeat: int) -> None:
    env = {"BENCH_ITEMS": str(items)}
    rows = {
        "d4py simple": _d4py("pipeline.py", "simple", env, repeat),
        "d4py multi (chain fused: one process)": _d4py("pipeline.py", "multi", env, repeat),
        "d4py multi (one process per PE)": _d4py("pipeline.py", "multi", {**env, "BENCH_SPLIT": "1"}, repeat),
        "dispel4py 1.2.1 multi (-n 5, one process per PE)": _dispel4py("pipeline.py", 5, env, repeat),
    }
    reference = rows["dispel4py 1.2.1 multi (-n 5, one process per PE)"]["seconds"]
    print(f"## multi: pipeline of {items:,} small ints through 3 stages into a sink, best of {repeat}")
    print()
    print("| system | seconds | µs per item | dispel4py 1.2.1 multi / this |")
    print("| --- | ---: | ---: | ---: |")
    for name, figures in rows.items():
        seconds = figures["seconds"]
        print(f"| {name} | {seconds:.3f} | {seconds / items * 1e6:.2f} | {reference / seconds:.1f}× |")
    print()


def wordcount(lines: int, repeat: int) -> None:
    env = {"BENCH_LINES": str(lines), "BENCH_COUNTERS": "2"}
    rows = {
        "d4py simple": _d4py("wordcount.py", "simple", env, repeat),
        "d4py multi": _d4py("wordcount.py", "multi", env, repeat),
        "dispel4py 1.2.1 multi (-n 5)": _dispel4py("wordcount.py", 5, env, repeat),
    }
    reference = rows["dispel4py 1.2.1 multi (-n 5)"]["seconds"]
    print(f"## multi: word count, {lines:,} lines of 10 words, 2 group_by counters, global gather, best of {repeat}")
    print()
    print("| system | seconds | dispel4py 1.2.1 multi / this |")
    print("| --- | ---: | ---: |")
    for name, figures in rows.items():
        print(f"| {name} | {figures['seconds']:.3f} | {reference / figures['seconds']:.1f}× |")
    print()


def backpressure(lengths: list[int], dispel4py_lengths: list[int]) -> None:
    print("## multi: backpressure, a fast producer into a slow consumer (one process each)")
    print()
    print("| system | items | seconds | peak RSS, largest worker (MB) | peak RSS, driver (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for items in lengths:
        f = _d4py("backpressure.py", "multi", {"BENCH_ITEMS": str(items)}, 1)
        print(
            f"| d4py multi | {items:,} | {f['seconds']:.2f} | {f['children_kb'] / 1024:.1f} "
            f"| {f['self_kb'] / 1024:.1f} |"
        )
    for items in dispel4py_lengths:
        f = _dispel4py("backpressure.py", 2, {"BENCH_ITEMS": str(items)}, 1)
        print(
            f"| dispel4py 1.2.1 multi | {items:,} | {f['seconds']:.2f} | {f['children_kb'] / 1024:.1f} "
            f"| {f['self_kb'] / 1024:.1f} |"
        )
    print()


def xcorr(stations: int, repeat: int) -> None:
    env = {"BENCH_STATIONS": str(stations)}
    script = [sys.executable, str(WORKLOADS / "xcorr_script.py")]
    rows = {
        "plain NumPy script, one core": min(
            (measure(script, {**os.environ, **env}) for _ in range(repeat)), key=lambda f: f["seconds"]
        ),
        "d4py simple": _d4py("xcorr.py", "simple", env, repeat),
        "d4py multi (2 Prepare, 2 CrossCorrelate instances)": _d4py("xcorr.py", "multi", env, repeat),
    }
    reference = rows["plain NumPy script, one core"]["seconds"]
    pairs = stations * (stations - 1) // 2
    print(
        f"## multi: cross-correlation, {stations} stations of 2^15 samples, {pairs:,} pairs "
        f"(lags checked against the injected delays), best of {repeat}"
    )
    print()
    print("| system | seconds | ms per pair | script / this |")
    print("| --- | ---: | ---: | ---: |")
    for name, figures in rows.items():
        seconds = figures["seconds"]
        print(f"| {name} | {seconds:.3f} | {seconds / pairs * 1e3:.3f} | {reference / seconds:.2f}× |")
    print()


def main(repeat: int = 3) -> None:
    pipeline(200_000, repeat)
    wordcount(20_000, repeat)
    backpressure([100_000, 1_000_000], [100_000, 300_000])
    xcorr(100, repeat)
