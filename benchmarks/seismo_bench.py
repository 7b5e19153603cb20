"""The seismology benchmark: d4py-seismo's xcorr on simple and multi beside the same work as a plain script.

The network grows (50, 100, 200 stations of one hour at 20 Hz); figures are
seconds per run, milliseconds and core-seconds per station pair. Each figure
is the best of R runs, each in a fresh interpreter, timing generation,
preparation, correlation and writing (interpreter start-up and imports not).
Needs d4py-seismo and d4py-multi installed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from anchors import measure
from multi_bench import D4PY_DRIVER, WORKLOADS

CORES = os.cpu_count() or 1
PAPER_CORE_SECONDS_PER_PAIR = 3066 * 32 / (1000 * 999 / 2)  # dispel4py paper: 1000 stations, 32 cores


def _best(command: list[str], stations: int, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            env = {**os.environ, "BENCH_STATIONS": str(stations), "BENCH_OUT": out}
            runs.append(measure(command, env))
    return min(runs, key=lambda figures: figures["seconds"])


def main(repeat: int) -> None:
    print("## seismo: xcorr as the network grows\n")
    print(f"Best of {repeat}; core-seconds per pair count {CORES} cores for multi, 1 for the others.\n")
    print("| stations | pairs | system | seconds | ms per pair | core-s per pair | script / this |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    script = [sys.executable, str(WORKLOADS / "seismo_xcorr_script.py")]
    workflow = str(WORKLOADS / "seismo_xcorr.py")
    for stations in (50, 100, 200):
        pairs = stations * (stations - 1) // 2
        rows = {
            "plain script, one core": (_best(script, stations, repeat), 1),
            "d4py `simple`": (_best([sys.executable, "-c", D4PY_DRIVER, workflow, "simple"], stations, repeat), 1),
            "d4py `multi`": (_best([sys.executable, "-c", D4PY_DRIVER, workflow, "multi"], stations, repeat), CORES),
        }
        anchor = rows["plain script, one core"][0]["seconds"]
        for name, (figures, cores) in rows.items():
            seconds = figures["seconds"]
            print(
                f"| {stations} | {pairs:,} | {name} | {seconds:.2f} | {1000 * seconds / pairs:.3f} "
                f"| {cores * seconds / pairs:.5f} | {anchor / seconds:.2f}× |"
            )
    print(f"\ndispel4py paper, 1,000 stations on 32 cores: {PAPER_CORE_SECONDS_PER_PAIR:.3f} core-s per pair.\n")
