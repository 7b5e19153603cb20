"""The anchors benchmarks compare against: dispel4py 1.2.1 from PyPI, in a venv of its own."""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DISPEL4PY_VENV = HERE / ".venvs" / "dispel4py-1.2.1"


def compile_d4py() -> None:
    """Give d4py's sources the bytecode an install from a wheel has, as its anchors have.

    pip compiles what it installs from wheels (dispel4py, NumPy) but not an
    editable install's sources, and where ``PYTHONDONTWRITEBYTECODE`` is set
    Python never caches them: every process, each MPI rank included, would
    compile d4py afresh at start-up, inside the timed run.
    """
    compileall.compile_dir(HERE.parent / "packages", quiet=1)


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


def measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; it prints one JSON line last."""
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"measurement failed: {' '.join(command[:3])} ...\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures
