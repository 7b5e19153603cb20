"""The pool grows while entries wait and gives workers back once none wait; its copies start as instances do;
a short batch is shared out among its workers, and what a slow entry writes leaves before the entry is done."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from d4py_redis.backend import RedisOptions
from d4py_redis.job import plan_job

from d4py import WorkflowGraph, run
from d4py.pe import GenericPE, IterativePE
from d4py.plan import build_plan
from d4py.testing.pes import Add, Numbers, Summary


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


def _wait_for(found: Callable[[], bool]) -> bool:
    """Whether ``found()`` came true within a minute: polled, bounded."""
    deadline = time.monotonic() + 60
    while not found():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Meets(IterativePE):
    """At its first item, wait (a minute at most) until ``meeting`` holds two processes; tag items with the pid."""

    def __init__(self, meeting: str) -> None:
        super().__init__()
        self.numprocesses = 2  # not fused with its source: pooled
        self.meeting = meeting

    def _process(self, data: Any) -> Any:
        mine = Path(self.meeting) / str(os.getpid())
        if not mine.exists():
            mine.touch()
            _wait_for(lambda: len(list(Path(self.meeting).iterdir())) >= 2)
        return data, os.getpid()


def test_a_short_batch_is_shared_out_among_the_pool_workers(tmp_path: Path) -> None:
    graph = WorkflowGraph()
    source, meets = Numbers(20), Meets(str(tmp_path))
    graph.connect(source, "output", meets, "input")
    rows = run(graph, backend="redis", options=["pool_workers=2"]).output(meets.id)  # 20 items: one batch
    assert sorted(item for item, _ in rows) == list(range(20))
    assert len({pid for _, pid in rows}) == 2, "one pool worker had every item: the other had nothing to take"


class Heavy(IterativePE):
    """Write a batch's worth of bytes per item; before the last item, wait (a minute at most) for ``seen``."""

    def __init__(self, seen: str, last: int) -> None:
        super().__init__()
        self.numprocesses = 2  # pooled
        self.seen, self.last = seen, last

    def _process(self, data: Any) -> Any:
        if data == self.last:
            return data, _wait_for(Path(self.seen).exists)
        return data, bytes(1 << 20)


class Notes(GenericPE):
    """Pinned (global): make the file ``seen`` once the first item arrives."""

    def __init__(self, seen: str) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")
        self.seen = seen

    def _process(self, inputs: dict[str, Any]) -> None:
        Path(self.seen).touch()
        data, payload = inputs["input"]
        self.write("output", (data, payload if isinstance(payload, bool) else len(payload)))


def test_a_pooled_pes_outputs_leave_before_the_rest_of_its_entry_is_run(tmp_path: Path) -> None:
    graph = WorkflowGraph()
    seen = str(tmp_path / "seen")
    source, heavy, notes = Numbers(6), Heavy(seen, last=5), Notes(seen)
    graph.connect(source, "output", heavy, "input")
    graph.connect(heavy, "output", notes, "input")
    rows = run(graph, backend="redis", options=["pool_workers=1"]).output(notes.id)  # one entry of 6 items
    assert sorted(rows) == [*((n, 1 << 20) for n in range(5)), (5, True)], "the outputs waited for the whole entry"


def test_a_pinned_worker_fed_by_its_own_pool_never_waits_on_itself() -> None:
    graph = WorkflowGraph()
    source, passes, total = Numbers(500), Add(0), Summary("global")
    passes.numprocesses = 2  # pooled
    graph.connect(source, "output", passes, "input")
    graph.connect(passes, "output", total, "input")
    options = ["inbox_entries=1", "pool_entries=1", "batch_items=2", "pool_workers=3"]  # the root waits at once
    job = plan_job(build_plan(graph, processes=4), RedisOptions(pool_workers=3), None)  # type: ignore[arg-type]
    assert job.layout == [[(0, 0), (2, 0)]] and job.fed_by_own_pools == {0}  # the root and the sink share a worker
    ((count, value, _),) = run(graph, backend="redis", processes=4, options=options).output(total.id)
    assert (count, value) == (500, sum(range(500)))
