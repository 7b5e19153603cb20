"""The simple-backend pipeline benchmark: d4py beside a plain Python loop and dispel4py 1.2.1 simple.

Every figure is the best of R runs, each in a fresh interpreter.
"""

from __future__ import annotations

import sys
from pathlib import Path

from anchors import HERE, dispel4py_python
from anchors import measure as run_measurement

STAGES = (1, 9)
END_TO_END_STAGES = 4
MEMORY_STAGES = 2  # producer, two stages and a sink: four PEs


def measure(python: Path, system: str, items: int, stages: int, repeat: int, memory: bool = False) -> float:
    results = []
    for _ in range(1 if memory else repeat):
        command = [str(python), str(HERE / "simple_workload.py"), system, str(items), str(stages)]
        figures = run_measurement([*command, *(["--memory"] if memory else [])])
        results.append(figures["peak_bytes"] if memory else figures["seconds"])
    return min(results)


def main(items: int = 100_000, repeat: int = 3) -> None:
    n = items
    systems = {
        "python": Path(sys.executable),
        "d4py": Path(sys.executable),
        "d4py-observed": Path(sys.executable),
        "dispel4py": dispel4py_python(),
    }

    per_stage, end_to_end, memory = {}, {}, {}
    for system, python in systems.items():
        low, high = (measure(python, system, n, k, repeat) for k in STAGES)
        per_stage[system] = (high - low) / (STAGES[1] - STAGES[0]) / n * 1e6
        end_to_end[system] = measure(python, system, n, END_TO_END_STAGES, repeat)
        memory[system] = measure(python, system, n, MEMORY_STAGES, 1, memory=True)

    print(f"## simple: pipeline of {n:,} small ints, best of {repeat}")
    print()
    print(
        "| system | µs per item per extra stage | end to end, "
        f"{END_TO_END_STAGES} stages (s) | peak traced memory, 4 PEs (MB) |"
    )
    print("| --- | ---: | ---: | ---: |")
    for system in systems:
        print(f"| {system} | {per_stage[system]:.3f} | {end_to_end[system]:.3f} | {memory[system] / 1e6:.2f} |")
    print()
    print(
        f"- d4py simple per extra stage: {per_stage['d4py']:.3f} µs "
        f"({per_stage['dispel4py'] / per_stage['d4py']:.1f}× less than dispel4py 1.2.1, "
        f"{per_stage['d4py'] / per_stage['python']:.1f}× a plain Python function call)"
    )
    print(
        f"- end to end: d4py is {end_to_end['dispel4py'] / end_to_end['d4py']:.1f}× faster than dispel4py 1.2.1 "
        f"and {end_to_end['d4py'] / end_to_end['python']:.1f}× the plain Python loop"
    )
    print(f"- peak memory: dispel4py 1.2.1 {memory['dispel4py'] / memory['d4py']:.0f}× d4py's")
    observer = per_stage["d4py-observed"] - per_stage["d4py"]
    print(
        f"- one no-op observer on every instance (d4py-observed) adds {observer:.3f} µs per item per instance "
        f"({per_stage['d4py-observed'] / per_stage['d4py']:.1f}× the unobserved cost per stage)"
    )
