"""``-o url=...``: a run on a server of the user's own leaves nothing on it, and never shows its password."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest
import redis

from d4py import RunFailed, WorkflowGraph, run
from d4py.pe import IterativePE
from d4py.testing.pes import Add, Numbers, Summary

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
