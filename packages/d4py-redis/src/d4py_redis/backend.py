"""The ``redis`` backend: workers that take their items from Redis streams, each item processed exactly once.

Plugin discovery imports this module in every d4py process, so it holds only
the options and the class; what a run does lives in :mod:`d4py_redis.driver`,
imported when a run starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from d4py import Backend, RunResult
from d4py.backend import BatchOptions
from d4py.plan import Plan

if TYPE_CHECKING:
    from d4py.runhooks import RunHooks

__all__ = ["RedisBackend", "RedisOptions"]

_SCHEMES = ("redis://", "rediss://", "unix://")
MAX_BLOCK_MS = 20_000  # clients time out 10 s after this: a server that stops answering fails the run


@dataclass(frozen=True)
class RedisOptions(BatchOptions):
    """Options of the redis backend (``-o key=value``), after the batch options every backend shares."""

    # Each batch is a round trip to the server (about 0.3 ms of the sender's CPU): a busy PE's outputs wait up to
    # 20 ms rather than 5, which cut xcorr's sends from its correlators by three quarters. Workers flush what
    # they hold before they wait for input, so a batch waits this long only behind a busy sender.
    flush_ms: float = 20.0
    url: str | None = None  # redis://, rediss:// (TLS) or unix:// server to use (None: a private redis-server)
    server: str = "redis-server"  # the command that starts the private server
    pool_workers: int | None = None  # most local workers sharing stateless PEs (None: what the budget leaves)
    claim_ms: int = 60_000  # a worker silent this long on an item loses it to another (workers on other machines)
    block_ms: int = 1_000  # longest a worker waits in one read before it looks for lost items again
    pool_entries: int = 32  # the most entries (batches) waiting in a pool before pinned producers wait for it
    inbox_entries: int = 64  # the most entries waiting in a pinned worker's inbox before its senders wait for it
    join_file: str | None = None  # write what `d4py redis worker FILE` needs to join the run here (mode 0600)
    ca_file: str | None = (
        None  # with rediss://: PEM file of the certificates that may sign the server's (None: system's)
    )

    def __post_init__(self) -> None:
        if self.url is not None and not self.url.startswith(_SCHEMES):
            raise ValueError(f"-o url={self.url.split('@')[-1]}: give a redis://, rediss:// or unix:// URL")
        for flag in ("claim_ms", "block_ms", "pool_entries", "inbox_entries"):
            if getattr(self, flag) < 1:
                raise ValueError(f"-o {flag}={getattr(self, flag)}: use 1 or more")
        if self.block_ms > MAX_BLOCK_MS:
            raise ValueError(f"-o block_ms={self.block_ms}: use at most {MAX_BLOCK_MS}")
        if self.claim_ms <= self.block_ms:  # a worker waiting in one read would look silent, and be taken for gone
            raise ValueError(f"-o claim_ms={self.claim_ms}: use more than block_ms ({self.block_ms})")
        if self.join_file is not None and self.url is None:
            raise ValueError(
                f"-o join_file={self.join_file}: give -o url=... too; the private server listens on a unix socket "
                "that other machines cannot reach"
            )
        if self.ca_file is not None and not (self.url or "").startswith("rediss://"):
            raise ValueError(f"-o ca_file={self.ca_file}: give a rediss:// (TLS) URL with it, -o url=rediss://...")
        if self.ca_file is not None and not os.path.isfile(self.ca_file):
            raise ValueError(f"-o ca_file={self.ca_file}: no such file; give the CA certificates' PEM file")
        if self.pool_workers is not None and self.pool_workers < 1:
            raise ValueError(f"-o pool_workers={self.pool_workers}: use 1 or more")


class RedisBackend(Backend):
    """Workers coordinated through Redis: stateless PEs shared by a pool, the others pinned to one worker each."""

    name = "redis"
    description = "a pool of workers coordinated through Redis streams; exactly once, signed items"
    Options = RedisOptions
    runs_partition_cycles = False  # pinned workers run their roots before reading: partitions must flow one way

    @classmethod
    def unavailable_reason(cls, options: RedisOptions | None = None) -> str | None:
        """redis-py must be importable, and without a URL the redis-server command must be found."""
        try:
            import redis  # noqa: F401
        except ImportError:
            return "redis-py is missing: pip install d4py-redis"
        command = options.server if options is not None else "redis-server"
        import shutil  # here: shutil imports the compression modules, and every d4py process imports this one

        if (options is None or options.url is None) and shutil.which(command) is None:
            return f"no {command!r} command to start a private server: apt-get install redis-server, or give -o url=..."
        return None

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        from d4py_redis.driver import run_plan  # the worker machinery: loaded to run, not to list backends

        return run_plan(plan, self.options, hooks)
