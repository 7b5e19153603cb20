"""Shared fixtures: a private D4PY_HOME per test, and the d4py command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).parent / "workflows"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Every test gets its own D4PY_HOME, so no test sees or touches the user's registry."""
    folder = tmp_path / "d4py-home"
    monkeypatch.setenv("D4PY_HOME", str(folder))
    monkeypatch.delenv("D4PY_REGISTRY", raising=False)
    monkeypatch.delenv("D4PY_REGISTRY_TOKEN", raising=False)
    return folder


@pytest.fixture
def cli():
    """Run ``d4py ...`` in a subprocess from the test workflows' folder; returns the CompletedProcess."""

    def invoke(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "d4py", *args],
            capture_output=True,
            text=True,
            cwd=cwd or WORKFLOWS,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})},
            timeout=120,
        )

    return invoke
