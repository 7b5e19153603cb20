"""Exactly once: a pool worker SIGKILLed mid-item loses nothing and doubles nothing, and a worker that lost
its entry to another cannot commit it late; observers of the pool's copies report each item once too."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from d4py_redis.store import GROUP, RunStore

from d4py import WorkflowGraph, hookimpl, run
from d4py.hosting import ITEM
from d4py.observe import Activity, Observer
from d4py.pe import GenericPE, IterativePE
from d4py.runtime import InstanceInfo
from d4py.testing.pes import Add, Numbers, Summary


class Reads(Counter[str]):
    """What one instance read since its previous report, by port."""


class _ReportsAsItGoes(Observer):
    def __init__(self) -> None:
        self.reads = Reads()

    def observe(self, activity: Activity) -> None:
        self.reads.update(activity.reads)

    def report(self, final: bool) -> Reads | None:
        reads, self.reads = self.reads, Reads()
        return reads or None


class ReadsAsTheyGo:
    """A run plugin whose observers report what their instance read at every batch, as the monitor's do (rather than
    once, at the end, as ``d4py.testing``'s ``InstanceWatch``): a worker killed later has reported it already."""

    def __init__(self) -> None:
        self.reads: Counter[str] = Counter()

    def __getstate__(self) -> dict[str, Any]:
        return {"reads": Counter()}  # a worker's copy starts empty: reports belong to the driver

    @hookimpl
    def d4py_observe(self, pe: GenericPE, info: InstanceInfo) -> Observer:
        return _ReportsAsItGoes()

    @hookimpl
    def d4py_observer_report(self, info: InstanceInfo, report: Any, final: bool) -> None:
        if isinstance(report, Reads):
            self.reads[info.pe_id] += sum(report.values())


class KillsOnce(IterativePE):
    """SIGKILL the worker running it on the item equal to ``at``, the first time only (``flag`` is made then)."""

    def __init__(self, at: int, flag: str) -> None:
        super().__init__()
        self.at, self.flag = at, flag

    def _process(self, data: Any) -> Any:
        if data == self.at:
            try:
                os.close(os.open(self.flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return data  # the second time round: another worker took the item over
            os.kill(os.getpid(), signal.SIGKILL)
        return data


class StallsOnce(IterativePE):
    """Stop (SIGSTOP) the worker running it on the item equal to ``at``, the first time only, noting its pid in
    ``flag``; the worker that takes the item over wakes it (SIGCONT), and the stalled one then finishes the item."""

    def __init__(self, at: int, flag: str) -> None:
        super().__init__()
        self.at, self.flag = at, flag

    def _process(self, data: Any) -> Any:
        if data == self.at:
            try:
                descriptor = os.open(self.flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                os.kill(int(Path(self.flag).read_text()), signal.SIGCONT)  # the stalled worker commits late now
                return data
            os.write(descriptor, str(os.getpid()).encode())
            os.close(descriptor)
            os.kill(os.getpid(), signal.SIGSTOP)
        return data


@pytest.mark.parametrize("options", [[], ["batch_items=5", "pool_workers=3"]], ids=["one-entry", "many-entries"])
def test_a_pool_worker_killed_mid_item_loses_nothing_and_doubles_nothing(
    tmp_path: Path, leftovers: Callable[[], set[int]], options: list[str]
) -> None:
    flag = tmp_path / "killed"
    graph = WorkflowGraph()
    source, killer, after, total = Numbers(300), KillsOnce(at=150, flag=str(flag)), Add(1000), Summary("global")
    killer.numprocesses = 3
    graph.connect(source, "output", killer, "input")
    graph.connect(killer, "output", after, "input")  # pooled too: what the killed entry wrote must not reach it
    graph.connect(killer, "output", total, "input")
    watch = ReadsAsTheyGo()
    result = run(graph, backend="redis", options=options, plugins=[watch])
    assert flag.exists(), "no worker was killed: the test proved nothing"
    assert sorted(result.output(after.id)) == [n + 1000 for n in range(300)]
    assert [(count, value) for count, value, _ in result.output(total.id)] == [(300, sum(range(300)))]
    assert result.counts[killer.id] == result.counts[after.id] == 300
    assert watch.reads == result.counts  # what the killed worker committed was reported, what it did not was not
    assert leftovers() == set()


def test_a_worker_whose_entry_was_reclaimed_cannot_commit_it(server_url: str) -> None:
    client = redis.Redis.from_url(server_url, socket_timeout=5)
    store = RunStore(client, "fence", b"k" * 32)
    store.create_pools([0])
    pool, inbox = store.pool(0), store.inbox(0)
    store.send([store.output(pool, [(ITEM, 0, 0, "item")], counter="added:0")])
    ((_, [(entry, _)]),) = store.take({pool: b">"}, None, "slow")
    assert [found for found, _ in store.reclaim(pool, "quick", 0)] == [entry]  # "slow" seemed gone: "quick" took it
    assert store.commit(pool, entry, "quick", "done:0", [store.output(inbox, [(ITEM, 0, 0, "quick's")])])
    assert not store.commit(pool, entry, "slow", "done:0", [store.output(inbox, [(ITEM, 0, 0, "slow's")])])
    ((_, entries),) = store.take({inbox: b"0-0"}, None)
    assert [store.read(inbox, fields)[0][3] for _, fields in entries] == ["quick's"]
    assert store.pool_counts([0]) == {0: (1, 1)}
    assert client.xpending(pool, GROUP)["pending"] == 0


def test_a_stalled_pool_worker_is_overtaken_and_its_late_commit_is_dropped(
    tmp_path: Path, leftovers: Callable[[], set[int]]
) -> None:
    flag = tmp_path / "stalled"
    graph = WorkflowGraph()
    source, staller, after = Numbers(200), StallsOnce(at=100, flag=str(flag)), Add(1000)
    staller.numprocesses = 2
    graph.connect(source, "output", staller, "input")
    graph.connect(staller, "output", after, "input")
    options = ["batch_items=10", "pool_workers=2", "claim_ms=200", "block_ms=50"]
    watch = ReadsAsTheyGo()
    result = run(graph, backend="redis", options=options, plugins=[watch])
    assert flag.exists(), "no worker stalled: the test proved nothing"
    assert sorted(result.output(after.id)) == [n + 1000 for n in range(200)]
    assert result.counts[staller.id] == result.counts[after.id] == 200
    assert watch.reads == result.counts  # the entry both processed is reported by the one whose commit was kept
    assert leftovers() == set()
