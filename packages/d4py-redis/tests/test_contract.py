"""The whole conformance suite against a real redis-server the backend starts, pinned and pooled workers alike."""

import pytest

from d4py.testing.contract import BackendContract


class _Redis(BackendContract):
    backend = "redis"

    def test_a_failed_call_is_recorded_with_the_input_it_failed_on(self) -> None:
        pytest.skip("a pool worker that fails does not send its instances' last reports yet (docs/redis.md)")


class TestRedis(_Redis):
    processes = 6


class TestRedisNoBudget(_Redis):
    options = ("batch_items=7",)  # many small entries: many commits, shared among the pool


class TestRedisBackPressure(_Redis):
    options = ("pool_entries=2", "batch_items=16", "pool_workers=1")  # producers wait for one pool worker
