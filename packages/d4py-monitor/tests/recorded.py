"""Runs recorded for the dashboard's tests, as a user runs them: ``d4py run`` in the workflows folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WORKFLOWS = Path(__file__).parent / "workflows"


def record_runs(home: Path, runs: list[tuple[str, list[str]]], failing: frozenset[str] = frozenset()) -> dict[str, str]:
    """Run ``d4py run ARGS`` in the workflows folder for each (name, ARGS), recording into ``home``; each run's id.

    The runs named in ``failing`` must exit 1, the others 0.
    """
    env = {**os.environ, "D4PY_HOME": str(home)}
    env.pop("D4PY_MONITOR", None)
    ids = {}
    for name, args in runs:
        done = subprocess.run(
            [sys.executable, "-m", "d4py", "run", *args], cwd=WORKFLOWS, env=env, capture_output=True, timeout=300
        )
        assert done.returncode == (1 if name in failing else 0), done.stderr
        listed = subprocess.run(
            [sys.executable, "-m", "d4py", "runs", "list", "--json"], env=env, capture_output=True, text=True
        )
        ids[name] = json.loads(listed.stdout)[0]["id"]  # newest first
    return ids
