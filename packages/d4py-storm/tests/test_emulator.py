"""The emulator refuses what a Storm worker refuses, so that components passing through it keep the protocol.

Each case runs a tiny hand-written multilang component (not d4py's) that
breaks one rule, and checks that the emulated topology stops saying which.
Tasks are numbered as Storm numbers them, components in id order: __acker
is task 1, bolt "b" task 2, spout "s" task 3.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from d4py import RunFailed
from d4py.testing.processes import interruptible, processes_with
from d4py_storm.emulator import Emulator

pytestmark = pytest.mark.timeout(120)

COMPONENT = r"""
import json, os, sys
from pathlib import Path

def read():
    lines = []
    while (line := sys.stdin.readline()) and line.rstrip("\n") != "end":
        lines.append(line)
    return json.loads("".join(lines)) if lines else None

def send(message):
    sys.stdout.write(json.dumps(message) + "\nend\n")
    sys.stdout.flush()

setup = read()
if sys.argv[1] != "no-pid-file":
    Path(setup["pidDir"], str(os.getpid())).touch()
send({"pid": os.getpid()})
bolt = [t for t, c in setup["context"]["task->component"].items() if c == "b"][0]
mode, sent = sys.argv[1], False
while (message := read()) is not None:
    if "command" in message:  # a spout
        if message["command"] == "next" and not sent:
            sent = True
            emit = {"command": "emit", "id": 1, "tuple": ["x"], "task": int(bolt)}
            if mode == "not-direct":
                del emit["task"]
            if mode == "undeclared-stream":
                emit["stream"] = "other"
            if mode == "wrong-fields":
                emit["tuple"] = ["x", "y"]
            send(emit)
        send({"command": "sync"})
    elif message["stream"] == "__heartbeat":
        if mode != "silent":
            send({"command": "sync"})
    else:  # a bolt's tuple
        send({"command": "ack", "id": message["id"]})
        if mode == "double-ack":
            send({"command": "ack", "id": message["id"]})
        if mode == "late-anchor":
            send({"command": "emit", "anchors": [message["id"]], "tuple": ["y"], "task": int(bolt)})
"""


def _topology(tmp_path: Path, spout: str, bolt: str, grouping: str = "DIRECT", config: dict | None = None) -> Path:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "component.py").write_text(COMPONENT)
    document = {
        "name": "emulated",
        "config": config or {},
        "spouts": [
            {
                "id": "s",
                "className": "FluxShellSpout",
                "constructorArgs": [[sys.executable, "component.py", spout], ["f"]],
            }
        ],
        "bolts": [
            {
                "id": "b",
                "className": "FluxShellBolt",
                "constructorArgs": [[sys.executable, "component.py", bolt], ["f"]],
            }
        ],
        "streams": [
            {"from": "s", "to": "b", "grouping": {"type": grouping}},
            {"from": "b", "to": "b", "grouping": {"type": "DIRECT"}},
        ],
    }
    (tmp_path / "topology.yaml").write_text(yaml.safe_dump(document))
    return tmp_path / "topology.yaml"


def _stops_with(topology: Path) -> str:
    emulator = Emulator(topology, log=lambda line: None)
    emulator.start()
    try:
        assert emulator.stopped.wait(timeout=60), "the emulated topology did not stop"
    finally:
        emulator.kill()
    return emulator.problem() or ""


@pytest.mark.parametrize(
    ("spout", "bolt", "grouping", "problem"),
    [
        ("not-direct", "ok", "DIRECT", "s task 3 emitted without a task"),
        ("undeclared-stream", "ok", "DIRECT", "emitted to stream 'other', which it does not declare"),
        ("wrong-fields", "ok", "DIRECT", "whose fields are ['f']"),
        ("direct", "ok", "SHUFFLE", "emitted directly to b on 'default', which expects a regular grouping (SHUFFLE)"),
        ("direct", "double-ack", "DIRECT", "b task 2: ack of a non-existent or settled id"),
        ("direct", "late-anchor", "DIRECT", "b task 2: anchored onto"),
    ],
)
def test_a_component_that_breaks_the_protocol_stops_the_topology_saying_how(tmp_path, spout, bolt, grouping, problem):
    assert problem in _stops_with(_topology(tmp_path, spout, bolt, grouping))


def test_a_bolt_that_stops_answering_heartbeats_is_taken_for_hung(tmp_path):
    topology = _topology(tmp_path, "direct", "silent", config={"topology.subprocess.timeout.secs": 1})
    assert "b task 2: subprocess heartbeat timeout" in _stops_with(topology)


def test_a_component_that_leaves_no_pid_file_fails_the_handshake(tmp_path):
    emulator = Emulator(_topology(tmp_path, "no-pid-file", "ok"))
    with pytest.raises(RunFailed, match="s task 3 left no pid file"):
        emulator.start()
    emulator.kill()


def test_the_emulator_runs_a_built_topology_until_interrupted_and_then_ends_its_tasks(tmp_path):
    (tmp_path / "flow.py").write_text(
        "from d4py import WorkflowGraph\nfrom d4py.testing.pes import Numbers, Pass\n\n"
        "graph = WorkflowGraph()\ngraph.connect(Numbers(3), 'output', Pass(), 'input')\n"
    )
    build = [sys.executable, "-m", "d4py", "storm", "build", str(tmp_path / "flow.py"), "-o", str(tmp_path / "t")]
    subprocess.run([*build, "--python", sys.executable], check=True, capture_output=True, timeout=120)
    marker = f"D4PY_STORM_TEST_{uuid.uuid4().hex}"
    emulator = subprocess.Popen(
        [sys.executable, "-m", "d4py_storm.emulator", str(tmp_path / "t" / "topology.yaml")],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, marker: "1"},
        preexec_fn=interruptible,
    )
    assert emulator.stderr is not None
    outputs = [emulator.stderr.readline() for _ in range(3)]  # what the collector logs: the run is over
    assert [line.rsplit(": ", 1)[1] for line in outputs] == ["0\n", "1\n", "2\n"]
    assert processes_with(marker)
    emulator.send_signal(signal.SIGINT)
    assert emulator.wait(timeout=60) == 0
    emulator.stderr.close()
    assert processes_with(marker) == [], "tasks outlived the emulator"
