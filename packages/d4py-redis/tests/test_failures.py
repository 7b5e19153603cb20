"""Failures end the run cleanly: a raising PE or a dead worker is named, a dead server is said, nothing is left running.

The server and the workers a run starts are children of the test process, so
its live children after the run are whatever the run left.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from d4py import PEFailure, RunFailed, WorkflowGraph, run
from d4py.pe import IterativePE
from d4py.testing.pes import Fails, KillsItsProcess, Numbers, Pass, Summary


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
