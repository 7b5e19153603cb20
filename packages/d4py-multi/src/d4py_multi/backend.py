"""The ``multi`` backend: worker processes on one machine, as the plan's layout says.

Plugin discovery imports this module in every d4py process (each MPI rank
too), so it holds only the options and the class; what a run does lives in
:mod:`d4py_multi.driver`, imported when a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from d4py import Backend, RunResult
from d4py.backend import BatchOptions
from d4py.plan import Plan

if TYPE_CHECKING:
    from d4py.runhooks import RunHooks

__all__ = ["MultiBackend", "MultiOptions"]


@dataclass(frozen=True)
class MultiOptions(BatchOptions):
    """Options of the multi backend (``-o key=value``), after the batch options every backend shares."""

    mode: Literal["static", "dynamic"] = "static"  # dynamic: stateless partitions share a growing pool
    pool_size: int | None = None  # dynamic: most workers per pool (None: its instances under the budget)
    start_method: Literal["fork", "spawn", "forkserver"] | None = None  # None: the platform's default
    read_ahead_bytes: int = 8 << 20  # batches a worker takes off its pipe ahead of its PEs, at most
    native_threads: int | None = None  # BLAS/OpenMP threads per worker (None: the cores shared out among workers)
    progress_ms: float = 500.0  # how often, at most, a worker reports its counts for progress displays


class MultiBackend(Backend):
    """Every core of this machine: the plan's layout, one worker process per entry."""

    name = "multi"
    description = "all cores of one machine; worker processes as the plan lays them out, batched bounded pipes"
    Options = MultiOptions
    runs_partition_cycles = False  # bounded pipes: partitions that feed each other could deadlock

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        from d4py_multi.driver import run_plan  # the worker machinery: loaded to run, not to list backends

        return run_plan(plan, self.options, hooks)
