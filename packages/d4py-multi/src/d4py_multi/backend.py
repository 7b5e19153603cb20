"""The ``multi`` backend: one process per partition instance, on one machine.

Plugin discovery imports this module in every d4py process (each MPI rank
too), so it holds only the options and the class; what a run does lives in
:mod:`d4py_multi.driver`, imported when a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pluggy

from d4py import Backend, RunResult
from d4py.plan import Plan
from d4py.worker import refuse_partition_cycles

__all__ = ["MultiBackend", "MultiOptions"]


@dataclass(frozen=True)
class MultiOptions:
    """Options of the multi backend (``-o key=value``)."""

    mode: Literal["static", "dynamic"] = "static"  # dynamic: stateless partitions share a growing pool
    pool_size: int | None = None  # dynamic: most workers per pool (None: the number of cores)
    start_method: Literal["fork", "spawn", "forkserver"] | None = None  # None: the platform's default
    batch_items: int = 1024  # send a batch once it holds this many messages ...
    batch_bytes: int = 1 << 20  # ... or about this many bytes of array/bytes/str payload ...
    flush_ms: float = 5.0  # ... or once its first message is this old
    read_ahead_bytes: int = 8 << 20  # batches a worker takes off its pipe ahead of its PEs, at most
    native_threads: int | None = None  # BLAS/OpenMP threads per worker (None: the cores shared out among workers)
    progress_ms: float = 500.0  # how often, at most, a worker reports its counts for progress displays


class MultiBackend(Backend):
    """Every core of this machine: each partition instance in a process of its own."""

    name = "multi"
    description = "all cores of one machine; one process per partition instance, batched bounded pipes"
    Options = MultiOptions

    def check(self, plan: Plan) -> None:
        """Refuse explicit partitions that feed each other, which could deadlock bounded pipes."""
        refuse_partition_cycles(plan, self.name)

    def run(self, plan: Plan, hook: pluggy.HookRelay) -> RunResult:
        from d4py_multi.driver import run_plan  # the worker machinery: loaded to run, not to list backends

        return run_plan(plan, self.options, hook)
