"""``-o url=...``: a run on a server of the user's own leaves nothing on it, and never shows its password."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest
import redis

from d4py import RunFailed, WorkflowGraph, run
from d4py.pe import GenericPE, IterativePE
from d4py.testing.pes import Add, Numbers, Pairs, PairSums, Summary

URL_VARIABLE = "D4PY_REDIS_TEST_URL"


def test_a_run_on_a_given_server_gives_every_item_and_leaves_no_key(
    server_url: str, leftovers: Callable[[], set[int]]
) -> None:
    graph = WorkflowGraph()
    source, add, total = Numbers(500), Add(1), Summary("global")
    add.numprocesses = 3
    graph.connect(source, "output", add, "input")
    graph.connect(add, "output", total, "input")
    result = run(graph, backend="redis", options=[f"url={server_url}", "batch_items=16"])
    assert [(count, value) for count, value, _ in result.output(total.id)] == [(500, sum(range(1, 501)))]
    assert redis.Redis.from_url(server_url).keys("*") == []
    assert leftovers() == set()


def test_a_wrong_password_fails_the_run_without_showing_it(server_url: str) -> None:
    graph = WorkflowGraph()
    graph.connect(Numbers(3), "output", Add(1), "input")
    password = urlparse(server_url).password
    assert password
    wrong = server_url.replace(password, "wrong-password-5e2a")
    with pytest.raises(RunFailed, match=r"cannot reach the Redis server at unix://\*\*\*@") as caught:
        run(graph, backend="redis", options=[f"url={wrong}"])
    assert "wrong-password-5e2a" not in str(caught.value) and password not in str(caught.value)


class StreamLength(IterativePE):
    """Tag each item with the length of the longest pool stream on the server at ``URL_VARIABLE``, as it is now."""

    def preprocess(self) -> None:
        self.client = redis.Redis.from_url(os.environ[URL_VARIABLE], socket_timeout=10)

    def _process(self, data: Any) -> Any:
        return data, max(self.client.xlen(key) for key in self.client.keys("d4py:*:pool:*"))


def test_a_fast_producer_waits_for_a_pool_that_holds_pool_entries(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_VARIABLE, server_url)
    graph = WorkflowGraph()
    source, measure = Numbers(2000), StreamLength()
    measure.numprocesses = 2  # not fused with its source: pooled
    graph.connect(source, "output", measure, "input")
    options = [f"url={server_url}", "batch_items=10", "pool_entries=3", "pool_workers=1"]
    rows = run(graph, backend="redis", options=options).output(measure.id)
    assert sorted(item for item, _ in rows) == list(range(2000))
    assert max(length for _, length in rows) <= 3  # 200 entries were written: never more than 3 waited


def _bytes_sent_to(client: redis.Redis) -> int:
    return int(client.info("stats")["total_net_input_bytes"])


def test_an_array_written_again_to_a_pinned_worker_crosses_once(server_url: str) -> None:
    pytest.importorskip("numpy")
    graph = WorkflowGraph()
    source, sums = Pairs(stations=12, size=65536), PairSums(numprocesses=2)
    sums.stateful = True  # pinned: its inboxes have one reader each, which keeps what it is asked to
    graph.connect(source, "output", sums, "input")
    pairs = [(a, b) for a in range(12) for b in range(a + 1, 12)]
    client, sent = redis.Redis.from_url(server_url), {}
    for keep in ("keep_bytes=0", "keep_bytes=268435456"):
        before = _bytes_sent_to(client)
        rows = run(graph, backend="redis", options=[f"url={server_url}", "batch_items=3", keep]).output(sums.id)
        sent[keep] = _bytes_sent_to(client) - before
        assert sorted(rows) == sorted((a, b, float((a + b) * 65536)) for a, b in pairs)
    # 6 MB of arrays. Kept: each reaches each of the 2 instances twice (once on probation, once to keep), 25 MB;
    # not kept, each travels in every pair it is in, 69 MB.
    arrays = 12 * 65536 * 8
    assert sent["keep_bytes=268435456"] < 6 * arrays < sent["keep_bytes=0"], sent


class Filled(IterativePE):
    """Return ``(n, an array of 256 KiB filled with n)``."""

    def __init__(self) -> None:
        super().__init__()
        self.numprocesses = 2  # pooled

    def _process(self, data: Any) -> Any:
        import numpy as np

        return data, np.full(32768, float(data))


class Firsts(GenericPE):
    """Pinned (global): write ``(n, the array's first value)`` for each item."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")

    def _process(self, inputs: dict[str, Any]) -> None:
        number, array = inputs["input"]
        self.write("output", (number, float(array[0])))


def test_what_a_pool_worker_commits_crosses_to_the_server_once(server_url: str) -> None:
    pytest.importorskip("numpy")
    graph = WorkflowGraph()
    source, filled, firsts = Numbers(4), Filled(), Firsts()
    graph.connect(source, "output", filled, "input")
    graph.connect(filled, "output", firsts, "input")
    client = redis.Redis.from_url(server_url)
    before = _bytes_sent_to(client)
    rows = run(graph, backend="redis", options=[f"url={server_url}", "pool_workers=1"]).output(firsts.id)
    sent = _bytes_sent_to(client) - before
    assert sorted(rows) == [(n, float(n)) for n in range(4)]
    arrays = 4 * 32768 * 8  # one commit: the first call of the commit script, which the server had not cached
    assert arrays < sent < 1.25 * arrays, sent


class InboxLength(GenericPE):
    """Pinned (global), slow: tag each item with the length of the longest inbox on the server at ``URL_VARIABLE``."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")

    def preprocess(self) -> None:
        self.client = redis.Redis.from_url(os.environ[URL_VARIABLE], socket_timeout=10)

    def _process(self, inputs: dict[str, Any]) -> None:
        time.sleep(0.001)  # slower than the pool: without a bound, its inbox would grow
        self.write("output", (inputs["input"], max(self.client.xlen(key) for key in self.client.keys("d4py:*:in:*"))))


def test_a_slow_pinned_reader_behind_a_fast_pool_holds_at_most_inbox_entries(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_VARIABLE, server_url)
    graph = WorkflowGraph()
    source, passes, lengths = Numbers(1000), Add(0), InboxLength()
    passes.numprocesses = 2  # not fused with its source: pooled
    graph.connect(source, "output", passes, "input")
    graph.connect(passes, "output", lengths, "input")
    options = [f"url={server_url}", "batch_items=5", "inbox_entries=3", "pool_workers=2"]
    rows = run(graph, backend="redis", options=options).output(lengths.id)
    assert sorted(item for item, _ in rows) == list(range(1000))
    # 200 entries reached the inbox. A pool worker takes an entry only while the inbox holds fewer than 3, and
    # commits one batch from it: with 2 pool workers, 3 + 2 at most.
    assert max(length for _, length in rows) <= 5
