"""One component, a real subprocess, driven message by message as Storm's multilang protocol documents it.

The test writes what a ShellSpout or ShellBolt writes (the handshake, heartbeat
tuples, tuples with task ids, next/ack/fail/activate) as literal JSON lines
followed by "end", and checks what the component answers: the pid file and
{"pid"}, a sync for each heartbeat, direct emits anchored to the tuple before
its ack, a fail and an error for what it cannot take.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from d4py import WorkflowGraph, build_plan
from d4py.backend import BatchOptions
from d4py.hosting import DONE, END, FAILED, ITEM, OUTPUT
from d4py.plugins import make_plugin_manager
from d4py.runhooks import RunHooks
from d4py.testing.pes import Fails, Numbers, Pass
from d4py_storm.build import build_topology
from d4py_storm.codec import new_key, open_sealed, seal
from d4py_storm.topology import COLLECTOR, STARTED, task_layout

pytestmark = pytest.mark.timeout(120)

KEY = new_key()


class Component:
    """``python -m d4py_storm.component`` in a resources folder, spoken to over its stdin and stdout."""

    def __init__(self, resources: Path) -> None:
        command = [sys.executable, "-m", "d4py_storm.component"]
        self.process = subprocess.Popen(command, cwd=resources, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, message: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\nend\n")
        self.process.stdin.flush()

    def read(self) -> Any:
        assert self.process.stdout is not None
        lines = []
        while (line := self.process.stdout.readline().rstrip(b"\n")) != b"end":
            assert line, "the component closed its stdout"
            lines.append(line)
        return json.loads(b"\n".join(lines))

    def until(self, command: str) -> list[dict[str, Any]]:
        """Every message up to and including the first with ``command``."""
        messages = [self.read()]
        while messages[-1].get("command") != command:
            messages.append(self.read())
        return messages

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # as ShellProcess.destroy would end it
        assert self.process.wait(timeout=30) == 0
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def topology(tmp_path: Path) -> Any:
    def make(sink: Any, inputs: Any = None, source: Any = None) -> Any:
        graph = WorkflowGraph()
        source = source or Numbers(3)
        sink.numprocesses = 2
        graph.connect(source, "output", sink, "input")
        plan = build_plan(graph, inputs, fuse=False)
        hooks = RunHooks(make_plugin_manager(autoload=False))
        options = {"name": "t", "python": sys.executable, "batch": BatchOptions(), "config": {}, "key": KEY}
        build_topology(plan, hooks, tmp_path / "topology", **options, keep_paths=True)
        return plan, tmp_path / "topology" / "resources"

    return make


def _start(plan: Any, resources: Path, task: int, pids: Path, conf: dict[str, Any] | None = None) -> Component:
    source, sink = plan.nodes
    # Task ids as a Storm cluster might number them: not in d4py's order, the acker among them.
    tasks = {"1": source, "2": sink, "3": sink, "4": "__acker", "5": COLLECTOR}
    component = Component(resources)
    pids.mkdir(exist_ok=True)
    context = {"task->component": tasks, "taskid": task, "componentid": tasks[str(task)]}
    conf = conf or {"topology.message.timeout.secs": 30}
    component.send({"conf": conf, "pidDir": str(pids), "context": context})
    reply = component.read()
    assert reply == {"pid": component.process.pid}
    assert (pids / str(component.process.pid)).exists(), "no pid file for the supervisor"
    return component


def _batches(emits: list[dict[str, Any]]) -> list[Any]:
    return [message for emit in emits for message in open_sealed(emit["tuple"], KEY)]


def test_a_bolt_answers_heartbeats_and_emits_directly_anchored_before_it_acks(topology, tmp_path):
    plan, resources = topology(Pass())
    bolt = _start(plan, resources, 3, tmp_path / "pids")  # task 3: the second task of P1, so instance 1
    bolt.send({"id": "-7", "comp": None, "stream": "__heartbeat", "task": -1, "tuple": []})
    assert bolt.read() == {"command": "sync"}
    (edge,) = plan.edges
    batch = [(ITEM, edge.index, 1, 41), (ITEM, edge.index, 1, ("a", [1.5])), (END, edge.index, 1, 0)]
    bolt.send({"id": "123", "comp": "source", "stream": "default", "task": 1, "tuple": seal(batch, KEY)})
    *emits, ack = bolt.until("ack")
    assert ack == {"command": "ack", "id": "123"}
    assert all(e["command"] == "emit" and e["task"] == 5 and e["stream"] == "collect" for e in emits)
    assert all(e["anchors"] == ["123"] for e in emits)
    received = _batches(emits)
    _, sink = plan.nodes
    assert [m for m in received if m[0] == OUTPUT] == [
        (OUTPUT, sink, "output", 41),
        (OUTPUT, sink, "output", ("a", [1.5])),
    ]
    worker = task_layout(plan).index([(plan.nodes[sink].partition, 1)])
    assert received[-1] == (DONE, worker, {sink: 2})  # its own counts, sent after everything else
    bolt.close()


def test_a_spout_feeds_one_input_per_next_and_emits_direct_tuples_with_ids(topology, tmp_path):
    plan, resources = topology(Pass(), inputs=2)
    source = next(iter(plan.nodes))
    spout = _start(plan, resources, 1, tmp_path / "pids")
    spout.send({"command": "activate"})
    assert spout.read() == {"command": "sync"}
    rounds = []
    for _ in range(4):
        spout.send({"command": "next"})
        rounds.append(spout.until("sync")[:-1])
    assert [len(emits) > 0 for emits in rounds] == [True, True, True, False]  # two inputs, the end, then idle
    emits = [emit for emits in rounds for emit in emits]
    assert all("anchors" not in e and isinstance(e["id"], int) for e in emits)
    assert len({e["id"] for e in emits}) == len(emits), "message ids repeat"
    items = [(e["task"], m) for e in emits if e["stream"] == "default" for m in open_sealed(e["tuple"], KEY)]
    assert sorted(m[3] for _, m in items if m[0] == ITEM) == [0, 0, 1, 1, 2, 2]
    assert all(task == {0: 2, 1: 3}[m[2]] for task, m in items), "an instance's items went to another task"
    assert sorted(task for task, m in items if m[0] == END) == [2, 3]
    started, done = _batches([e for e in emits if e["stream"] == "collect"])
    assert started == (STARTED, task_layout(plan).index([(plan.nodes[source].partition, 0)]), source, 1)
    assert done[0] == DONE
    for command in ({"command": "ack", "id": emits[0]["id"]}, {"command": "fail", "id": emits[1]["id"]}):
        spout.send(command)
        assert spout.until("sync")[-1] == {"command": "sync"}
    spout.close()


def test_a_raising_pe_fails_its_tuple_reports_the_error_and_tells_the_driver(topology, tmp_path):
    plan, resources = topology(Fails(bad=7))
    bolt = _start(plan, resources, 2, tmp_path / "pids")
    bolt.send({"id": "9", "comp": "source", "stream": "default", "task": 1, "tuple": seal([(ITEM, 0, 0, 7)], KEY)})
    messages = bolt.until("fail")
    assert messages[-1] == {"command": "fail", "id": "9"}
    (error,) = [m["msg"] for m in messages if m["command"] == "error"]
    sink = list(plan.nodes)[1]
    assert f"PE '{sink}' (instance 0) failed in process on item {{'input': 7}}" in error
    _, failed = _batches([m for m in messages if m["command"] == "emit"])  # after the task's STARTED
    assert failed[0] == FAILED and failed[2].pe_id == sink and "cannot handle 7" in failed[2].traceback_text
    bolt.send({"id": "10", "comp": "source", "stream": "default", "task": 1, "tuple": seal([(ITEM, 0, 0, 1)], KEY)})
    assert bolt.read() == {"command": "fail", "id": "10"}  # the run has failed: nothing more is processed
    bolt.close()


class _Trap:
    def __reduce__(self) -> Any:
        return (os.mkdir, (str(TRAPPED),))


TRAPPED = Path(os.environ.get("TMPDIR", "/tmp")) / f"d4py-storm-trap-{os.getpid()}"


def test_a_batch_signed_with_another_key_is_refused_and_never_unpickled(topology, tmp_path):
    plan, resources = topology(Pass())
    bolt = _start(plan, resources, 2, tmp_path / "pids")
    forged = "P" + base64.b64encode(b"\0\0\0\0" + pickle.dumps([_Trap()])).decode()
    bolt.send({"id": "5", "comp": "source", "stream": "default", "task": 1, "tuple": [forged, "00" * 32]})
    messages = bolt.until("fail")
    assert any("not signed with this run's key" in m.get("msg", "") for m in messages)
    assert not TRAPPED.exists()
    bolt.close()


class SlowNumbers(Numbers):
    """A root that computes for a while before it writes."""

    def _process(self, inputs: dict[str, Any]) -> None:
        time.sleep(1.5)  # stands for a long computation: Storm hears nothing from the spout meanwhile
        super()._process(inputs)


def test_a_spout_whose_root_computes_long_keeps_telling_storm_it_is_alive(topology, tmp_path):
    plan, resources = topology(Pass(), source=SlowNumbers(1))
    spout = _start(plan, resources, 1, tmp_path / "pids", conf={"topology.subprocess.timeout.secs": 1})
    spout.send({"command": "next"})
    messages = spout.until("sync")
    first_emit = next(i for i, m in enumerate(messages) if m["command"] == "emit")
    alive = [m for m in messages[:first_emit] if m["command"] == "log"]
    assert alive and all(m["level"] == 1 for m in alive)  # debug lines, before the root wrote anything
    spout.close()
