"""The pool grows while entries wait and gives workers back once none wait; its copies start as instances do."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from d4py import WorkflowGraph, run
from d4py.pe import GenericPE, IterativePE
from d4py.testing.pes import Numbers


def pool_workers() -> int:
    """Live pool workers of this run: processes named d4py-pool-N by this process's parent (the driver)."""
    found = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                name = (entry / "comm").read_text()
            except OSError:
                continue
            found += int(parent) == os.getppid() and state != "Z" and name.startswith("d4py-pool-")
    return found


class Bursts(GenericPE):
    """Write ``items`` numbers, wait (a minute at most) until the pool is down to one worker, write as many again.

    Writes to ``sizes`` the pool's size after the first burst, and once it has shrunk.
    """

    def __init__(self, items: int) -> None:
        super().__init__()
        self._add_output("output")
        self._add_output("sizes")
        self.items = items

    def _process(self, inputs: dict[str, Any]) -> None:
        for number in range(self.items):
            self.write("output", number)
        self.write("sizes", pool_workers())
        deadline = time.monotonic() + 60
        while pool_workers() > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.write("sizes", pool_workers())
        for number in range(self.items, 2 * self.items):
            self.write("output", number)


class Slow(IterativePE):
    """Take two milliseconds per item, so that entries wait for the pool."""

    def _process(self, data: Any) -> Any:
        time.sleep(0.002)
        return data


def test_the_pool_grows_with_waiting_entries_and_shrinks_when_none_wait() -> None:
    graph = WorkflowGraph()
    source, slow = Bursts(1000), Slow()
    slow.numprocesses = 3
    graph.connect(source, "output", slow, "input")
    result = run(graph, backend="redis", options=["pool_workers=3", "batch_items=10"], inputs=1)
    assert sorted(result.output(slow.id)) == list(range(2000))
    grown, shrunk = result.output(source.id, "sizes")
    assert grown >= 2 and shrunk == 1


class Greets(IterativePE):
    """Write "hello" in preprocess, then pass items on: a stateless PE, pooled, that writes before any item."""

    def preprocess(self) -> None:
        self.write("output", "hello")

    def _process(self, data: Any) -> Any:
        return data


def test_what_a_pooled_pe_writes_in_preprocess_comes_once_per_pool_worker() -> None:
    graph = WorkflowGraph()
    source, greets = Numbers(50), Greets()
    greets.numprocesses = 2
    graph.connect(source, "output", greets, "input")
    rows = run(graph, backend="redis", options=["pool_workers=1", "batch_items=5"]).output(greets.id)
    assert sorted(rows, key=str) == sorted([*range(50), "hello"], key=str)
