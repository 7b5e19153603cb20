"""The MPI benchmarks: d4py mpi beside d4py multi, dispel4py 1.2.1 mpi and the plain NumPy script.

The cross-correlation workflow uses d4py's ``instance_index``, which
dispel4py 1.2.1 lacks, so dispel4py runs the pipeline only.

Both MPI systems run under the same mpiexec (MPICH from PyPI, with the same
environment) and are timed inside the job, from a barrier once every rank has
imported the workflow to when every rank is done, so neither mpiexec's nor
Python's start-up counts. Each figure is the best of R runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from anchors import HERE, dispel4py_python, measure
from multi_bench import D4PY_DRIVER

from d4py_mpi.launch import find_mpiexec, mpi_environment

WORKLOADS = HERE / "workloads"

# Every rank runs this; all start the clock together, and rank 0's run() returns once every rank is done.
D4PY_MPI_DRIVER = """
import json, sys, time
from mpi4py import MPI
from d4py import run
from d4py.loader import load_workflow
graph = load_workflow(sys.argv[1])
MPI.COMM_WORLD.Barrier()
started = time.perf_counter()
run(graph, backend="mpi")
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

DISPEL4PY_MPI_DRIVER = """
import argparse, importlib.util, json, sys, time
from mpi4py import MPI
spec = importlib.util.spec_from_file_location("workload", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from dispel4py.new.mpi_process import process
graph = module.graph
targets = {id(d["DIRECTION"][1]) for _, _, d in graph.graph.edges(data=True)}
roots = [n.getContainedObject() for n in graph.graph.nodes() if id(n.getContainedObject()) not in targets]
comm = MPI.COMM_WORLD
comm.Barrier()
started = time.perf_counter()
process(graph, {pe: 1 for pe in roots}, argparse.Namespace(simple=False, results=False))
comm.Barrier()
if comm.rank == 0:
    print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _best(command: list[str], env: dict[str, str], repeat: int) -> dict[str, Any]:
    full = mpi_environment({**os.environ, **env})
    return min((measure(command, full) for _ in range(repeat)), key=lambda f: f["seconds"])


def _d4py_mpi(workload: str, ranks: int, env: dict[str, str], repeat: int) -> dict[str, Any]:
    # Inside the job: every rank runs the driver; rank 0 prints the time once all ranks are done.
    command = [find_mpiexec(None), "-n", str(ranks), sys.executable, "-c", D4PY_MPI_DRIVER, str(WORKLOADS / workload)]
    return _best(command, env, repeat)


def _d4py_multi(workload: str, env: dict[str, str], repeat: int) -> dict[str, Any]:
    return _best([sys.executable, "-c", D4PY_DRIVER, str(WORKLOADS / workload), "multi"], env, repeat)


def _dispel4py_mpi(workload: str, ranks: int, env: dict[str, str], repeat: int) -> dict[str, Any]:
    python = dispel4py_python()
    mpiexec = Path(python).parent / "mpiexec"
    if not mpiexec.exists():
        raise SystemExit(f"{python.parent.parent} has no MPI: {python} -m pip install mpi4py mpich")
    command = [str(mpiexec), "-n", str(ranks), str(python), "-c", DISPEL4PY_MPI_DRIVER, str(WORKLOADS / workload)]
    return _best(command, env, repeat)


def _table(title: str, rows: dict[str, dict[str, Any]], reference: str, unit: int, unit_name: str) -> None:
    print(title)
    print()
    print(f"| system | seconds | {unit_name} | {reference} / this |")
    print("| --- | ---: | ---: | ---: |")
    base = rows[reference]["seconds"]
    for name, figures in rows.items():
        seconds = figures["seconds"]
        print(f"| {name} | {seconds:.3f} | {seconds / unit * 1e6:.2f} | {base / seconds:.2f}× |")
    print()


def pipeline(items: int, repeat: int) -> None:
    env, split = {"BENCH_ITEMS": str(items)}, {"BENCH_ITEMS": str(items), "BENCH_SPLIT": "1"}
    rows = {
        "d4py mpi, chain fused (-n 2: one working rank)": _d4py_mpi("pipeline.py", 2, env, repeat),
        "d4py mpi, one rank per PE (-n 6)": _d4py_mpi("pipeline.py", 6, split, repeat),
        "d4py multi, chain fused": _d4py_multi("pipeline.py", env, repeat),
        "d4py multi, one process per PE": _d4py_multi("pipeline.py", split, repeat),
        "dispel4py 1.2.1 mpi (-n 5)": _dispel4py_mpi("pipeline.py", 5, env, repeat),
    }
    title = f"## mpi: pipeline of {items:,} small ints through 3 stages into a sink, best of {repeat}"
    _table(title, rows, "dispel4py 1.2.1 mpi (-n 5)", items, "µs per item")


def xcorr(stations: int, repeat: int) -> None:
    env = {"BENCH_STATIONS": str(stations)}
    script = [sys.executable, str(WORKLOADS / "xcorr_script.py")]
    rows = {
        "plain NumPy script, one core": _best(script, env, repeat),
        "d4py mpi (-n 7: 2 Prepare, 2 CrossCorrelate ranks)": _d4py_mpi("xcorr.py", 7, env, repeat),
        "d4py multi (2 Prepare, 2 CrossCorrelate instances)": _d4py_multi("xcorr.py", env, repeat),
    }
    pairs = stations * (stations - 1) // 2
    title = f"## mpi: cross-correlation, {stations} stations of 2^15 samples, {pairs:,} pairs, best of {repeat}"
    _table(title, rows, "plain NumPy script, one core", pairs, "µs per pair")


def main(repeat: int = 3) -> None:
    pipeline(200_000, repeat)
    xcorr(120, repeat)
