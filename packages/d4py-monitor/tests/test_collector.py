"""The collector: runs anywhere send it their records, signed; it keeps them in its store.

A real collector (``d4py monitor collect`` in a subprocess, on a free port,
with a $D4PY_HOME of its own) and real runs (``d4py run --monitor``, with
theirs); a run's PE waits on a named pipe the test controls, so the test
sees the run's live record before it lets the run end.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from d4py_monitor.collector import Collector
from d4py_monitor.record import RunRecord
from d4py_monitor.sender import Sender
from d4py_monitor.sqlite import SQLiteStore
from d4py_monitor.store import default_location
from d4py_monitor.wire import sign

WORKFLOWS = Path(__file__).parent / "workflows"


def run_record(run_id: str, status: str = "ok") -> RunRecord:
    workflow = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": {"pes": [], "connections": []}}
    return RunRecord(run_id, workflow, "simple", {}, None, {}, 1.0, 2.0, status, None, "h", 1, {})


@pytest.fixture
def collector(key, home) -> Iterator[tuple[Collector, queue.Queue[RunRecord]]]:
    """A collector thread on a free loopback port, saving in the test's store; the queue gets what it saves."""
    saved: queue.Queue[RunRecord] = queue.Queue()
    store = SQLiteStore(default_location())
    running = Collector("tcp://127.0.0.1:0", store, on_saved=saved.put)
    running.address = running.start()
    yield running, saved
    running.stop()
    store.close()


def test_records_sent_are_saved_and_a_final_record_outlives_a_late_live_one(collector):
    running, saved = collector
    sender = Sender(running.address)
    sender.save(run_record("r1", "running"))
    sender.save(run_record("r1", "ok"))
    sender.save(run_record("r1", "running"))  # late: must not undo the final record
    sender.save(run_record("r2", "failed"))
    sender.close()
    assert [(run.id, run.status) for run in (saved.get(timeout=60) for _ in range(3))] == [
        ("r1", "running"),
        ("r1", "ok"),
        ("r2", "failed"),
    ]
    store = SQLiteStore(default_location())
    assert {s.id: s.status for s in store.summaries()} == {"r1": "ok", "r2": "failed"}
    store.close()


def test_messages_not_signed_with_the_key_are_dropped_and_said_once(collector, caplog):
    running, saved = collector
    context = zmq.Context()
    push = context.socket(zmq.PUSH)
    push.connect(running.address)
    with caplog.at_level(logging.WARNING, logger="d4py_monitor"):
        push.send_multipart(sign(run_record("forged1"), b"not-the-collector-key"))
        push.send_multipart(sign(run_record("forged2"), b"not-the-collector-key"))
        forged = sign(run_record("forged3"), running.key)
        push.send_multipart([forged[0], forged[1].replace(b'"simple"', b'"multi!"'), forged[2]])  # tampered with
        push.send_multipart([b"hello"])
        push.send_multipart(sign(run_record("genuine"), running.key))  # one socket: these arrive in order
        assert saved.get(timeout=60).id == "genuine"
    push.close(linger=0)
    context.term()
    store = SQLiteStore(default_location())
    assert [s.id for s in store.summaries()] == ["genuine"]
    store.close()
    assert running.dropped == 4
    (warning,) = caplog.records
    assert "dropped a message (bad signature" in warning.getMessage()


@pytest.fixture
def collect(tmp_path, key) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """``d4py monitor collect`` on a free port, with a $D4PY_HOME of its own: the process, its address, its home."""
    home = tmp_path / "collector-home"
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "monitor", "collect", "--listen", "tcp://127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "D4PY_HOME": str(home)},
    )
    assert process.stdout is not None
    address = process.stdout.readline().strip()
    try:
        assert address.startswith("tcp://127.0.0.1:"), address or process.stderr.read()
        yield process, address, home
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 0


def collected(home: Path, run_id: str) -> RunRecord:
    store = SQLiteStore(home / "runs.sqlite", create=False)
    try:
        return store.load(run_id)
    finally:
        store.close()


@pytest.mark.timeout(180)  # a run that never reaches its gate would leave the test waiting to open it
@pytest.mark.parametrize("backend", ["simple", "multi"])
def test_a_run_sends_its_live_record_then_its_final_one(collect, tmp_path, backend, home):
    process, address, collector_home = collect
    assert process.stdout is not None
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    command = [sys.executable, "-m", "d4py", "run", "-b", backend, "-n", "2", "--monitor", address, "gated.py"]
    run = subprocess.Popen(
        command,
        cwd=WORKFLOWS,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "D4PY_TEST_GATE": str(gate)},
    )
    try:
        started = process.stdout.readline().split()  # run ID running: gated on BACKEND, from HOST
        assert started[0] == "run" and started[2:6] == ["running:", "gated", "on", f"{backend},"]
        live = collected(collector_home, started[1])
        assert (live.status, live.backend, live.workflow["source"]) == ("running", backend, str(WORKFLOWS / "gated.py"))
        with open(gate, "w") as opened:  # lets the Gate PE go on
            opened.write("go\n")
        output, errors = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0 and errors == "", errors
    assert "Gate1" in output
    ended = process.stdout.readline().split()
    assert ended[:3] == ["run", started[1], "ok:"]
    final = collected(collector_home, started[1])
    assert final.status == "ok" and final.ended > live.ended
    assert sum(i.items_in for i in final.instances if i.pe == "Gate1") == 5
    assert not default_location().exists()  # the run's own store: nothing kept there


def test_a_run_whose_collector_is_unreachable_ends_with_its_result_and_keeps_its_record(cli, key, dead_port):
    done = cli("run", "-b", "multi", "--monitor", f"tcp://127.0.0.1:{dead_port}", "counted.py")
    assert done.returncode == 0 and "KeyCounter3" in done.stdout
    (warning,) = done.stderr.splitlines()
    assert f"no collector took the record at tcp://127.0.0.1:{dead_port}" in warning
    assert warning.endswith(f"this run's record is kept in {default_location()} instead")
    shown = cli("runs", "show", "last")
    assert shown.returncode == 0 and shown.stdout.startswith("run ") and "counted on multi, ok" in shown.stdout


def test_collect_makes_a_key_file_that_runs_then_use(tmp_path, home):
    collector_home = tmp_path / "collector-home"
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "monitor", "collect", "--listen", "tcp://127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "D4PY_HOME": str(collector_home)},
    )
    assert process.stdout is not None
    address = process.stdout.readline().strip()
    made = collector_home / "monitor.key"
    try:
        assert made.stat().st_mode & 0o077 == 0  # the owner's alone
        home.mkdir()
        (home / "monitor.key").write_bytes(made.read_bytes())  # as on a cluster whose nodes share $D4PY_HOME
        done = subprocess.run(
            [sys.executable, "-m", "d4py", "run", "--monitor", address, "counted.py"],
            cwd=WORKFLOWS,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and done.stderr == ""
        statuses = [process.stdout.readline().split()[2]]
        if statuses[0] == "running:":  # so short a run may end before its live record is sent
            statuses.append(process.stdout.readline().split()[2])
        assert statuses[-1] == "ok:"
    finally:
        process.send_signal(signal.SIGINT)
        errors = process.communicate(timeout=60)[1]
    assert process.returncode == 0
    assert errors.startswith(f"d4py-monitor: made a new monitor key in {made}")
