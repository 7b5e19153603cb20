"""Shared fixtures for d4py-core's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent / "workflows"


@pytest.fixture
def cli():
    """Run the d4py command line in a subprocess; returns the CompletedProcess."""

    def invoke(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
        return subprocess.run(
            [sys.executable, "-m", "d4py", *args],
            capture_output=True,
            text=True,
            cwd=cwd or EXAMPLES,
            env=env,
            input=stdin,
            timeout=120,
        )

    return invoke
