"""How the driver judges a pool worker that has gone quiet: only once it has read everything that worker sent, however
far behind its reading is (a worker that ended is not taken for lost, and no output it committed is left unread);
and a worker from elsewhere that joined and vanished before its first read is counted gone, not waited for."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import pytest
from d4py_redis.backend import RedisOptions
from d4py_redis.driver import _Driver
from d4py_redis.job import POOL_END, plan_job
from d4py_redis.store import RunStore
from d4py_redis.worker import connect, run_local

from d4py import WorkflowGraph
from d4py.hosting import DONE, ITEM, stop_processes, worker_settings
from d4py.plan import build_plan
from d4py.plugins import make_plugin_manager
from d4py.runhooks import RunHooks
from d4py.testing.pes import Numbers, Pass

ITEMS = 40


@dataclass
class Run:
    """A run's driver, stepped by hand, whose root has sent its part: ``ITEMS`` entries to the pool, its end, DONE."""

    driver: _Driver
    store: RunStore
    pool: int
    pe_id: str  # the pooled PE, whose outputs the driver collects
    claim_ms: int

    def silent(self, ordinal: int) -> None:
        """Return once pool worker ``ordinal`` has not read for longer than ``claim_ms`` (server's clock; polled)."""
        deadline = time.monotonic() + 10
        while self.store.idle_ms(self.store.control(ordinal), self.store.consumer(ordinal)) <= self.claim_ms:
            assert time.monotonic() < deadline, f"pool worker {ordinal} never counts as silent"
            time.sleep(0.001)


@pytest.fixture
def run(server_url: str) -> Iterator[Run]:
    graph = WorkflowGraph()
    source, copy = Numbers(ITEMS), Pass()
    copy.numprocesses = 2  # not fused with its source: pooled
    graph.connect(source, "output", copy, "input")
    plan = build_plan(graph)
    hooks = RunHooks(make_plugin_manager(autoload=False))
    # An entry for each output and count; a worker the driver did not start is judged by its silence of claim_ms.
    options = RedisOptions(url=server_url, pool_workers=1, batch_items=1, claim_ms=2, block_ms=1)
    job = plan_job(plan, options, worker_settings(plan, hooks))
    (pool,) = job.pooled
    (edge,) = plan.edges
    store = RunStore(connect(server_url), "steps", secrets.token_bytes(32))
    store.load_scripts()
    store.put_job(job)
    store.create_pools(job.pooled)
    driver = _Driver(plan, hooks, store, job, server_url)
    items = [store.output(store.pool(pool), [(ITEM, edge.index, 0, n)], counter=f"added:{pool}") for n in range(ITEMS)]
    store.send(items)
    store.send([store.output(store.driver, [(POOL_END, pool, edge.index, 0), (DONE, 0, {})])])
    try:
        yield Run(driver, store, pool, copy.id, options.claim_ms)
    finally:
        driver.stop()
        store.client.close()


@pytest.mark.parametrize("by_driver", [True, False], ids=["started-by-the-driver", "joined-from-elsewhere"])
def test_a_pool_worker_that_ended_is_judged_after_every_message_it_sent(
    run: Run, leftovers: Callable[[], set[int]], by_driver: bool
) -> None:
    driver, store, pool = run.driver, run.store, run.pool
    elsewhere: list[BaseProcess] = []  # a worker the driver did not start
    try:
        ordinal = store.new_ordinal()
        if by_driver:
            driver._start(driver.pinned + ordinal, pinned=False)  # a real pool worker, forked
            (process,) = driver.processes.values()
        else:  # the same, but the driver knows it only by what it sends, as one started by hand on another machine
            details = (os.getpid(), driver.url, None, "steps", store.key, False, ordinal)
            process = driver.context.Process(target=run_local, args=details)
            process.start()
            elsewhere.append(process)
        deadline = time.monotonic() + 60
        while store.pool_counts([pool])[pool] != (ITEMS, ITEMS):  # it commits every entry: polled, bounded
            assert time.monotonic() < deadline, "the pool worker did not commit the pool's entries"
            time.sleep(0.01)
        driver._listen(None)  # one read: the root's end and the first of the pool worker's 80 entries, not the rest
        driver._check_pools()  # every entry is done: the pool worker is told to finish, says so and exits
        process.join(timeout=60)
        assert process.exitcode == 0
        if by_driver:
            driver._check_processes()
        else:
            run.silent(ordinal)
            driver._check_remote()
        assert driver.lost == set(), "a pool worker that ended was taken for lost: its DONE was not read yet"
        assert driver.collector.done and driver.finished == {pool}  # where the driver stops
        assert sorted(driver.collector.outputs.result()[run.pe_id]["output"]) == list(range(ITEMS))
        assert driver.collector.counts[run.pe_id] == ITEMS
    finally:
        stop_processes(elsewhere)
    assert leftovers() == set()


def test_a_worker_from_elsewhere_gone_before_its_first_read_is_not_waited_for(run: Run) -> None:
    driver, store = run.driver, run.store
    joined = store.join(1)  # what `d4py redis worker FILE` does before it loads its copies and reads; then it dies
    assert joined is not None
    ordinal, _ = joined
    driver._listen(None)  # the root's end and DONE, and the join
    assert driver.collector.pending == {driver.pinned + ordinal}
    run.silent(ordinal)
    driver._check_remote()
    assert driver.lost == {driver.pinned + ordinal} and driver.collector.done  # the run goes on without it
