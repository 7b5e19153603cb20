"""Failures end the run cleanly: the PE is named, nothing hangs, no process is left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from d4py import PEFailure, RunFailed, WorkflowGraph, run
from d4py.testing.pes import Fails, KillsItsProcess, Numbers, Pass
from d4py.testing.processes import interruptible, processes_with

WORKFLOWS = Path(__file__).parent / "workflows"


def _children() -> list[int]:
    """Live processes whose parent is this test process.

    The standard library's resource tracker does not count: spawn starts one per
    interpreter, it lives as long as its parent by design, and it is not ours.
    """
    mine = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if fields[1] == mine and fields[0] != "Z" and b"multiprocessing.resource_tracker" not in command:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_raising_pe_fails_the_run_naming_pe_instance_and_item(start_method):
    graph = WorkflowGraph()
    source, middle, faulty = Numbers(40), Pass(), Fails(bad=13)
    middle.numprocesses = 2
    graph.connect(source, "output", middle, "input")
    graph.connect(middle, "output", faulty, "input")
    with pytest.raises(PEFailure) as caught:
        run(graph, backend="multi", options=[f"start_method={start_method}"])
    assert caught.value.pe_id == faulty.id and caught.value.instance == 0
    assert caught.value.item_text == "{'input': 13}"
    assert "ValueError: cannot handle 13" in caught.value.traceback_text
    assert multiprocessing.active_children() == [] and _children() == []


def test_a_killed_worker_fails_the_run_naming_its_pe():
    graph = WorkflowGraph()
    source, killer, after = Numbers(20), KillsItsProcess(at=5), Pass()
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", after, "input")
    graph.partitions = [[source], [killer], [after]]
    with pytest.raises(
        RunFailed, match=rf"the worker running PE '{killer.id}' \(instance 0, pid \d+\) died: killed by SIGKILL"
    ):
        run(graph, backend="multi")
    assert multiprocessing.active_children() == [] and _children() == []


def test_a_raising_pe_in_a_dynamic_pool_fails_the_run_naming_pe_and_item():
    graph = WorkflowGraph()
    source, faulty, after = Numbers(40), Fails(bad=13), Pass()
    graph.connect(source, "output", faulty, "input")
    graph.connect(faulty, "output", after, "input")
    graph.partitions = [[source], [faulty], [after]]
    with pytest.raises(PEFailure) as caught:
        run(graph, backend="multi", options=["mode=dynamic", "pool_size=2"])
    assert caught.value.pe_id == faulty.id
    assert caught.value.item_text == "{'input': 13}"
    assert multiprocessing.active_children() == [] and _children() == []


def test_a_killed_pool_worker_fails_the_run_naming_its_pe():
    graph = WorkflowGraph()
    source, killer, after = Numbers(20), KillsItsProcess(at=5), Pass()
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", after, "input")
    graph.partitions = [[source], [killer], [after]]
    with pytest.raises(RunFailed, match=rf"the worker running PE '{killer.id}' \(instance 0, pid \d+\) died"):
        run(graph, backend="multi", options=["mode=dynamic", "pool_size=1"])
    assert multiprocessing.active_children() == [] and _children() == []


def test_ctrl_c_ends_every_process(tmp_path):
    marker = f"D4PY_TEST_{uuid.uuid4().hex}"
    env = {**os.environ, marker: "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "run", "-b", "multi", "blocking.py"],
        cwd=WORKFLOWS,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,  # however the suite was started
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline().strip() == "ready"  # a worker is inside process() and blocks there
        assert len(processes_with(marker)) >= 2  # the driver and the blocked worker (the producer may be done)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr and "BAD TERMINATION" not in stderr
        assert processes_with(marker) == []
    finally:  # whatever failed above, leave nothing running
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        process.wait()
