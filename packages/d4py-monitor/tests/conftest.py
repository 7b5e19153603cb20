"""Every test records into a store of its own, under a temporary $D4PY_HOME, with no store, collector or key set."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from d4py_monitor.record import RunRecord
from d4py_monitor.store import default_location, open_store

WORKFLOWS = Path(__file__).parent / "workflows"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $D4PY_HOME, recording on: what the tests' runs, and their subprocesses, record into."""
    folder = tmp_path / "d4py-home"
    monkeypatch.setenv("D4PY_HOME", str(folder))
    for variable in ("D4PY_MONITOR", "D4PY_MONITOR_STORE", "D4PY_MONITOR_URL", "D4PY_MONITOR_KEY"):
        monkeypatch.delenv(variable, raising=False)
    return folder


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A monitor key shared by the test's runs and collectors, through $D4PY_MONITOR_KEY."""
    text = "a-key-for-the-tests-" + os.urandom(8).hex()
    monkeypatch.setenv("D4PY_MONITOR_KEY", text)
    return text.encode()


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port nobody listens on: bound by the test, never listening, so connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def cli():
    """Run the d4py command line in a subprocess, in the workflows folder; returns the CompletedProcess."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "d4py", *args],
            capture_output=True,
            text=True,
            cwd=WORKFLOWS,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})},
            timeout=300,
        )

    return invoke


@pytest.fixture
def recorded():
    """Read every run in the test's store, newest first (none if nothing was ever recorded)."""

    def read() -> list[RunRecord]:
        if not default_location().exists():
            return []
        store = open_store(create=False)
        try:
            return [store.load(summary.id) for summary in store.summaries()]
        finally:
            store.close()

    return read
