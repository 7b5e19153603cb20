"""The whole conformance suite against a real redis-server the backend starts, pinned and pooled workers alike."""

from d4py.testing.contract import BackendContract


class _Redis(BackendContract):
    backend = "redis"


class TestRedis(_Redis):
    processes = 6


class TestRedisNoBudget(_Redis):
    options = ("batch_items=7",)  # many small entries: many commits, shared among the pool


class TestRedisBackPressure(_Redis):
    options = ("pool_entries=2", "batch_items=16", "pool_workers=1")  # producers wait for one pool worker


class TestRedisSmallInboxes(_Redis):
    processes = 6
    options = ("inbox_entries=2", "pool_entries=2", "batch_items=16")  # senders wait for their readers
