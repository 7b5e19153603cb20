"""What a user waits for: whole ``d4py run`` commands, timed from outside, beside dispel4py 1.2.1's command.

Every figure is the median of R runs of the whole process, the two systems
interleaved so that both meet the machine in the same state. d4py's runs
also print their in-process run time (``--json``'s ``wall_time``); the rest
of the whole is start-up and teardown, and "after the output" is the time
from the command's last output to its exit.
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

XCORR = {"BENCH_STATIONS": "200"}
MULTI_6, MPI_6 = ["-b", "multi", "-n", "6"], ["-b", "mpi", "-n", "6"]
SCRIPT = ("script",)

# (label, workload, d4py arguments, anchor: ("dispel4py", target, options...) or SCRIPT, environment)
CASES = [
    ("smallest workflow, simple", "smallest.py", [], ("dispel4py", "simple"), {}),
    ("smallest workflow, multi", "smallest.py", ["-b", "multi", "-n", "2"], ("dispel4py", "multi", "-n", "2"), {}),
    ("pipeline 200k ints, simple", "pipeline.py", [], ("dispel4py", "simple"), {"BENCH_ITEMS": "200000"}),
    ("pipeline 200k ints, multi -n 6", "pipeline.py", MULTI_6, ("dispel4py", "multi", "-n", "6"), {}),
    ("pipeline 200k ints, mpi -n 6", "pipeline.py", MPI_6, ("dispel4py", "mpi", "-n", "6"), {}),
    ("word count 20k lines, multi -n 6", "wordcount.py", MULTI_6, ("dispel4py", "multi", "-n", "6"), {}),
    ("xcorr as the papers draw it, 200 stations, multi", "xcorr_natural.py", ["-b", "multi"], SCRIPT, XCORR),
    ("xcorr, pair-ownership design, 200 stations, multi", "xcorr.py", ["-b", "multi"], SCRIPT, XCORR),
    ("xcorr as the papers draw it, 200 stations, mpi", "xcorr_natural.py", ["-b", "mpi"], SCRIPT, XCORR),
]


def _anchor(anchor: tuple[str, ...], workload: str) -> list[str]:
    """The anchor's command: the one-core script, or dispel4py 1.2.1's own (its mpi under its venv's mpiexec)."""
    kind, *arguments = anchor
    if kind == "script":
        return [sys.executable, "xcorr_script.py"]
    target, *options = arguments
    bin_folder = dispel4py_python().parent
    if target == "mpi":
        return [str(bin_folder / "mpiexec"), *options, str(bin_folder / "dispel4py"), "mpi", workload]
    return [str(bin_folder / "dispel4py"), target, workload, *options]


def _time(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """The whole command's seconds, the seconds from its last output to its exit, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=WORKLOADS, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    chunks, last_output = [], started
    while chunk := process.stdout.read1():
        chunks.append(chunk)
        last_output = time.perf_counter()
    errors = process.stderr.read()
    code = process.wait()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{errors.decode()[-2000:]}")
    return seconds, started + seconds - last_output, b"".join(chunks).decode()


def main(repeat: int = 5) -> None:
    print(f"## whole: `d4py run` as a user runs it, median of {repeat} (interleaved with the anchor)")
    print()
    print("The anchor is dispel4py 1.2.1's command, or for xcorr the one-core NumPy script (`python xcorr_script.py`).")
    print()
    print(
        "| workload | d4py (s) | of which the run (s) | start-up + teardown (s) | after the output (s) "
        "| anchor (s) | ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, workload, ours, anchor_command, env in CASES:
        whole, inside, after, anchor = [], [], [], []
        for _ in range(repeat):
            seconds, tail, out = _time([str(D4PY), "run", workload, "--json", *ours], env)
            whole.append(seconds)
            after.append(tail)
            inside.append(json.loads(out)["wall_time"])
            anchor.append(_time(_anchor(anchor_command, workload), env)[0])
        ours_s, inside_s, after_s, anchor_s = (statistics.median(v) for v in (whole, inside, after, anchor))
        print(
            f"| {label} | {ours_s:.3f} | {inside_s:.3f} | {ours_s - inside_s:.3f} | {after_s:.3f} "
            f"| {anchor_s:.3f} | {anchor_s / ours_s:.2f}x |"
        )
    print()
