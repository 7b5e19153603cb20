"""Run the benchmarks side by side with their anchors and print ratios.

    python benchmarks/run.py [--items N] [--repeat R]

Anchors: a plain Python loop doing the same work, and dispel4py 1.2.1's
`simple` mapping, installed from PyPI into benchmarks/.venvs/ on first use.
Every figure is the best of R runs, each in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import venv
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DISPEL4PY_VENV = HERE / ".venvs" / "dispel4py-1.2.1"
STAGES = (1, 9)
END_TO_END_STAGES = 4
MEMORY_STAGES = 2  # producer, two stages and a sink: four PEs


def dispel4py_python() -> Path:
    """The interpreter of a venv holding dispel4py 1.2.1, created on first use."""
    python = DISPEL4PY_VENV / "bin" / "python"
    if not python.exists():
        print("creating a venv with dispel4py 1.2.1 from PyPI ...", file=sys.stderr)
        venv.create(DISPEL4PY_VENV, with_pip=True)
        pip = [str(python), "-m", "pip", "-q", "--disable-pip-version-check", "install"]
        subprocess.run([*pip, "--no-deps", "dispel4py==1.2.1"], check=True)
        subprocess.run([*pip, "networkx"], check=True)
    return python


def measure(python: Path, system: str, items: int, stages: int, repeat: int, memory: bool = False) -> float:
    results = []
    for _ in range(1 if memory else repeat):
        command = [str(python), str(HERE / "pipeline.py"), system, str(items), str(stages)]
        done = subprocess.run([*command, *(["--memory"] if memory else [])], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{system} failed:\n{done.stderr}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(figures["peak_bytes"] if memory else figures["seconds"])
    return min(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.items
    systems = {"python": Path(sys.executable), "d4py": Path(sys.executable), "dispel4py": dispel4py_python()}

    per_stage, end_to_end, memory = {}, {}, {}
    for system, python in systems.items():
        low, high = (measure(python, system, n, k, args.repeat) for k in STAGES)
        per_stage[system] = (high - low) / (STAGES[1] - STAGES[0]) / n * 1e6
        end_to_end[system] = measure(python, system, n, END_TO_END_STAGES, args.repeat)
        memory[system] = measure(python, system, n, MEMORY_STAGES, 1, memory=True)

    print(
        f"# pipeline: {n:,} small ints, best of {args.repeat}, {date.today()}, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
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


if __name__ == "__main__":
    main()
