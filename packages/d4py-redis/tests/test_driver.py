"""The driver judges a pool worker that has gone quiet only once it has read everything that worker sent, however
far behind its reading is: a worker that ended is not taken for lost, and no output it committed is left unread."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
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


@pytest.mark.parametrize("by_driver", [True, False], ids=["started-by-the-driver", "joined-from-elsewhere"])
def test_a_pool_worker_that_ended_is_judged_after_every_message_it_sent(
    server_url: str, leftovers: Callable[[], set[int]], by_driver: bool
) -> None:
    graph = WorkflowGraph()
    source, copy = Numbers(40), Pass()
    copy.numprocesses = 2  # not fused with its source: pooled
    graph.connect(source, "output", copy, "input")
    plan = build_plan(graph)
    hooks = RunHooks(make_plugin_manager(autoload=False))
    # An entry for each output and count; a worker the driver did not start is judged by its silence of claim_ms.
    options = RedisOptions(url=server_url, pool_workers=1, batch_items=1, claim_ms=1)
    job = plan_job(plan, options, worker_settings(plan, hooks))
    (pool,) = job.pooled
    (edge,) = plan.edges
    store = RunStore(connect(server_url), "behind", secrets.token_bytes(32))
    store.load_scripts()
    store.put_job(job)
    store.create_pools(job.pooled)
    driver = _Driver(plan, hooks, store, job, server_url)
    elsewhere: list[BaseProcess] = []  # a worker the driver did not start
    try:
        # The root's part, as its pinned worker sends it: one entry per item, then its end and its DONE.
        items = [store.output(store.pool(pool), [(ITEM, edge.index, 0, n)], counter=f"added:{pool}") for n in range(40)]
        store.send(items)
        store.send([store.output(store.driver, [(POOL_END, pool, edge.index, 0), (DONE, 0, {})])])
        ordinal = store.new_ordinal()
        if by_driver:
            driver._start(driver.pinned + ordinal, pinned=False)  # a real pool worker, forked
            (process,) = driver.processes.values()
        else:  # the same, but the driver knows it only by what it sends, as one started by hand on another machine
            details = (os.getpid(), server_url, None, "behind", store.key, False, ordinal)
            process = driver.context.Process(target=run_local, args=details)
            process.start()
            elsewhere.append(process)
        deadline = time.monotonic() + 60
        while store.pool_counts([pool])[pool] != (40, 40):  # it commits every entry: polled, bounded
            assert time.monotonic() < deadline, "the pool worker did not commit the pool's entries"
            time.sleep(0.01)
        driver._listen(None)  # one read: the root's end and the first of the pool worker's 80 entries, not the rest
        driver._check_pools()  # every entry is done: the pool worker is told to finish, says so and exits
        process.join(timeout=60)
        assert process.exitcode == 0
        if by_driver:
            driver._check_processes()
        else:
            while store.idle_ms(store.control(ordinal), f"w{ordinal}") <= options.claim_ms:
                assert time.monotonic() < deadline  # silent for longer than claim_ms on the server's clock: polled
            driver._check_remote()
        assert driver.lost == set(), "a pool worker that ended was taken for lost: its DONE was not read yet"
        assert driver.collector.done and driver.finished == {pool}  # where the driver stops
        assert sorted(driver.collector.outputs.result()[copy.id]["output"]) == list(range(40))
        assert driver.collector.counts[copy.id] == 40
    finally:
        driver.stop()
        stop_processes(elsewhere)
        store.client.close()
    assert leftovers() == set()
