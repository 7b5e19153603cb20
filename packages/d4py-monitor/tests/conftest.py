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


# The dashboard's tests: a real headless Chromium (Debian's; `playwright install` cannot download here),
# and `d4py monitor serve` in a subprocess on a free port.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium for a module's tests (not kept while other modules fork runs).

    Missing, the browser tests skip, but fail under CI: scripts/test installs it.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/test installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a loaded CI machine: pages poll every second or two
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser page; whatever the page's scripts throw fails the test at teardown."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    thrown: list[str] = []
    tab.on("pageerror", lambda error: thrown.append(str(error)))
    yield tab
    context.close()
    assert thrown == [], thrown


@pytest.fixture
def serve():
    """Start ``d4py monitor serve --port 0`` on the current $D4PY_HOME; returns its URL. Stopped by PID after."""
    servers: list[subprocess.Popen[str]] = []

    def start() -> str:
        server = subprocess.Popen(
            [sys.executable, "-m", "d4py", "monitor", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        servers.append(server)
        assert server.stdout is not None
        first = server.stdout.readline()  # says where it listens; empty if it died first
        assert "serving http://127.0.0.1:" in first, (first, server.stderr.read() if server.poll() is not None else "")
        return first.split("serving ", 1)[1].split()[0]

    yield start
    for server in servers:
        server.terminate()
        server.communicate(timeout=30)


GRAPH = {
    "pes": [
        {"id": "Source0", "name": "Source", "class": "t.Source", "inputs": [], "outputs": ["output"], "instances": 1},
        {"id": "Count1", "name": "Count", "class": "t.Count", "inputs": ["input"], "outputs": [], "instances": 2},
    ],
    "connections": [
        {"from": "Source0", "output": "output", "to": "Count1", "input": "input", "grouping": "group_by[0]"}
    ],
}


@pytest.fixture
def save_run():
    """Save a record made here into the test's store: a run of Source0 -> Count1 (2 instances)."""

    def save(run_id: str, name: str = "made", **fields: object) -> RunRecord:
        from d4py_monitor.record import InstanceRecord
        from d4py_monitor.sqlite import SQLiteStore

        workflow = {"name": name, "source": "/flows/made.py", "attr": None, "hash": "abc", "graph": GRAPH}
        run = RunRecord(run_id, workflow, "multi", {}, 3, {"Source0": 1}, 1000.0, 1002.0, "ok", None, "h", 1, {})
        run.instances = [
            InstanceRecord(
                "Source0", 0, "h", 11, 0, {"": 1}, {"output": 40}, 0.1, 0.0, 0.3, [(1000, 1, 40, 0.1, 0, 0.3)]
            ),
            InstanceRecord("Count1", 0, "h", 12, 1, {"input": 30}, {}, 1.5, 0.2, 0.0, [(1000, 30, 0, 0.9, 0.1, 0)]),
            InstanceRecord("Count1", 1, "h", 13, 2, {"input": 10}, {}, 0.5, 1.2, 0.0, [(1001, 10, 0, 0.5, 0.5, 0)]),
        ]
        for field, value in fields.items():  # any field of RunRecord, instances included
            setattr(run, field, value)
        store = SQLiteStore(default_location())
        try:
            store.save(run)
        finally:
            store.close()
        return run

    return save


@pytest.fixture
def markup() -> str:
    """Text a record can hold (a user's code put it there): shown as markup, it would set window.hacked."""
    return '<img src=x onerror="window.hacked=1"><script>window.hacked=1</script>'


# Traced runs of the small word counts in workflows/ (words*.py), shared by the provenance export tests: each is run
# once per session (prov_fixtures.traced_run).


@pytest.fixture
def counted(tmp_path_factory: pytest.TempPathFactory):
    """workflows/words.py: a producer of three lines, word counts in postprocess."""
    from prov_fixtures import traced_run

    return traced_run("words.py", tmp_path_factory)


@pytest.fixture
def given(tmp_path_factory: pytest.TempPathFactory):
    """workflows/words_given.py: the same counts, the lines given as run input."""
    from prov_fixtures import traced_run

    return traced_run("words_given.py", tmp_path_factory)


@pytest.fixture
def sampled(tmp_path_factory: pytest.TempPathFactory):
    """words_given.py with half of its chains traced (which ones, the ids decide: the same on every backend)."""
    from prov_fixtures import traced_run

    return traced_run("words_given.py", tmp_path_factory, "0.5")


@pytest.fixture
def failed(tmp_path_factory: pytest.TempPathFactory):
    """workflows/words_fail.py: a traced run whose PE raises."""
    from prov_fixtures import traced_run

    return traced_run("words_fail.py", tmp_path_factory)
