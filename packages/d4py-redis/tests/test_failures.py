"""Failures end the run cleanly: a raising PE or a dead worker is named, a dead server is said, nothing is left running.

The server and the workers a run starts are children of the test process, so
its live children after the run are whatever the run left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from d4py import PEFailure, RunFailed, WorkflowGraph, run
from d4py.pe import IterativePE
from d4py.testing.pes import Fails, KillsItsProcess, Numbers, Pass, Summary
from d4py.testing.processes import interruptible, processes_with


class KillsTheServer(IterativePE):
    """SIGKILL the run's redis-server (a child of this worker's parent, the driver) on the item equal to ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def _process(self, data: Any) -> Any:
        if data == self.at:
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                        command = (entry / "cmdline").read_bytes()
                    except OSError:
                        continue
                    if int(parent) == os.getppid() and command.startswith(b"redis-server"):
                        os.kill(int(entry.name), signal.SIGKILL)
        return data


@pytest.mark.parametrize("pooled", [False, True], ids=["pinned", "pooled"])
def test_a_raising_pe_fails_the_run_naming_pe_and_item(leftovers: Callable[[], set[int]], pooled: bool) -> None:
    graph = WorkflowGraph()
    source, faulty, after = Numbers(40), Fails(bad=13), Pass()
    faulty.stateful = not pooled  # stateful: pinned to one worker; stateless: shared by the pool
    graph.connect(source, "output", faulty, "input")
    graph.connect(faulty, "output", after, "input")
    with pytest.raises(PEFailure) as caught:
        run(graph, backend="redis")
    assert caught.value.pe_id == faulty.id
    assert caught.value.item_text == "{'input': 13}"
    assert "ValueError: cannot handle 13" in caught.value.traceback_text
    assert leftovers() == set()


def test_a_killed_pinned_worker_fails_the_run_naming_its_pe(leftovers: Callable[[], set[int]]) -> None:
    graph = WorkflowGraph()
    source, killer, total = Numbers(20), KillsItsProcess(at=5), Summary(grouping="global")
    killer.stateful = True  # pinned: its state would die with it, so the run cannot go on
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", total, "input")
    graph.partitions = [[source], [killer], [total]]
    with pytest.raises(RunFailed, match=rf"running PE '{killer.id}' \(instance 0\) died: killed by SIGKILL"):
        run(graph, backend="redis")
    assert leftovers() == set()


def test_a_server_killed_mid_run_fails_the_run_saying_so(leftovers: Callable[[], set[int]]) -> None:
    graph = WorkflowGraph()
    source, killer, after = Numbers(50), KillsTheServer(at=20), Pass()
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", after, "input")
    with pytest.raises(RunFailed, match=r"the Redis server at unix://.* went away during the run"):
        run(graph, backend="redis")
    assert leftovers() == set()


def test_an_unreachable_server_is_named_without_its_password(leftovers: Callable[[], set[int]]) -> None:
    graph = WorkflowGraph()
    graph.connect(Numbers(3), "output", Pass(), "input")
    with pytest.raises(RunFailed, match=r"cannot reach the Redis server at redis://\*\*\*@127.0.0.1:1/0") as caught:
        run(graph, backend="redis", options=["url=redis://:hunter2@127.0.0.1:1/0"])
    assert "hunter2" not in str(caught.value)
    assert leftovers() == set()


def test_an_item_that_kills_every_pool_worker_fails_the_run_after_three(leftovers: Callable[[], set[int]]) -> None:
    graph = WorkflowGraph()
    source, killer, after = Numbers(20), KillsItsProcess(at=5), Pass()
    killer.numprocesses = 2  # not fused with its source: pooled, so its workers are replaced, three times
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", after, "input")
    with pytest.raises(RunFailed, match=rf"a pool worker \(pid \d+\) running PE '{killer.id}'.* killed by SIGKILL"):
        run(graph, backend="redis")
    assert leftovers() == set()


BLOCKING = """
from d4py import WorkflowGraph
from d4py.testing.pes import Blocks, Numbers

graph = WorkflowGraph()
source, blocks = Numbers(1), Blocks()
graph.connect(source, "output", blocks, "input")
graph.partitions = [[source], [blocks]]  # blocks: a pooled partition of its own
"""


def _started_by(marker: str, folder: Path) -> list[int]:
    """Processes of a run whose driver had ``marker`` in its environment and ``folder`` as TMPDIR.

    A redis-server rewrites its environment (its process title), so the private server is found by its
    socket's folder, under TMPDIR, in its title instead.
    """
    found = set(processes_with(marker))
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if state != "Z" and command.startswith(b"redis-server") and str(folder).encode() in command:
                found.add(int(entry.name))
    return sorted(found)


def test_ctrl_c_ends_the_run_and_every_process_it_started(tmp_path: Path) -> None:
    workflow, marker = tmp_path / "blocking.py", f"D4PY_REDIS_TEST_{uuid.uuid4().hex}"
    workflow.write_text(BLOCKING)
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "run", "-b", "redis", str(workflow)],
        env={**os.environ, marker: "1", "TMPDIR": str(tmp_path)},  # its forks inherit the marker, its server TMPDIR
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,  # however the suite was started
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline().strip() == "ready"  # a pool worker is inside process() and blocks there
        assert len(_started_by(marker, tmp_path)) >= 3  # the driver, its server, the blocked pool worker
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr
        assert _started_by(marker, tmp_path) == []
        assert list(tmp_path.glob("d4py-redis-*")) == [], "the private server's folder was left behind"
    finally:  # whatever failed above, leave nothing running
        for pid in _started_by(marker, tmp_path):
            os.kill(pid, signal.SIGKILL)
        process.wait()


def test_a_driver_killed_outright_takes_its_server_and_workers_with_it(tmp_path: Path) -> None:
    workflow, marker = tmp_path / "blocking.py", f"D4PY_REDIS_TEST_{uuid.uuid4().hex}"
    workflow.write_text(BLOCKING)
    process = subprocess.Popen(
        [sys.executable, "-m", "d4py", "run", "-b", "redis", str(workflow)],
        env={**os.environ, marker: "1", "TMPDIR": str(tmp_path)},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline().strip() == "ready"
        started = _started_by(marker, tmp_path)
        assert len(started) >= 3
        process.kill()  # SIGKILL: the driver cleans nothing up; the kernel ends its children (PR_SET_PDEATHSIG)
        process.wait()
        deadline = time.monotonic() + 30
        while _started_by(marker, tmp_path) and time.monotonic() < deadline:  # killed by the kernel: polled, bounded
            time.sleep(0.01)
        assert _started_by(marker, tmp_path) == []
    finally:
        for pid in _started_by(marker, tmp_path):
            os.kill(pid, signal.SIGKILL)
        process.wait()
