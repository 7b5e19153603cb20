"""The ``mpi`` backend: the plan's layout on the ranks of an MPI job.

Inside a job (``mpiexec -n N d4py run -b mpi ...``) every rank runs the same
command and takes its part: the world size sets the process budget (N - 1
ranks run PEs; rank 0 coordinates). Outside a job, ``run`` starts
``mpiexec`` itself with as many ranks as the plan's layout needs and waits
for rank 0's result.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mpi4py import MPI

    from d4py.runhooks import RunHooks

from d4py import Backend, BackendUnavailable, RunResult
from d4py.backend import BatchOptions
from d4py.plan import Plan

__all__ = ["MPIBackend", "MPIOptions"]


@dataclass(frozen=True)
class MPIOptions(BatchOptions):
    """Options of the mpi backend (``-o key=value``), after the batch options every backend shares."""

    mpiexec: str | None = None  # outside a job: the mpiexec to start (default: beside Python, then on PATH)
    in_flight: int = 4  # batches per destination sent and not yet taken, at most

    def __post_init__(self) -> None:
        if self.in_flight < 1:
            raise ValueError(
                f"-o in_flight={self.in_flight}: a rank must be able to send at least 1 batch; use 1 or more"
            )


class MPIBackend(Backend):
    """MPI ranks through mpi4py: rank 0 coordinates, each other rank hosts one process of the layout."""

    name = "mpi"
    description = "MPI via mpi4py; ranks as the plan lays out its processes; starts mpiexec itself when needed"
    live_counts = False  # instances report only when they end
    runs_partition_cycles = False  # bounded sends: partitions that feed each other could deadlock
    Options = MPIOptions

    @classmethod
    def unavailable_reason(cls, options: MPIOptions | None = None) -> str | None:
        """mpi4py must import, and outside a job an mpiexec must be found (or given with -o mpiexec=PATH)."""
        if importlib.util.find_spec("mpi4py") is None:
            return "mpi4py is missing: pip install 'd4py-mpi[mpich]' (MPICH from PyPI), or mpi4py for a system MPI"
        from d4py_mpi.launch import find_mpiexec, in_job  # here, not at import: every run imports this module

        if in_job():
            return None
        try:
            find_mpiexec(options.mpiexec if options is not None else None)
        except BackendUnavailable as error:
            return str(error)
        return None

    def default_processes(self) -> int | None:
        """Inside a job of N ranks, N - 1 run PE instances; outside one, the user's -n or the plan's."""
        comm = _world()
        return comm.size - 1 if comm is not None and comm.size > 1 else None

    def run(self, plan: Plan, hooks: RunHooks) -> RunResult:
        from d4py_mpi.launch import Job, launch

        started = time.perf_counter()
        options: MPIOptions = self.options
        comm = _world()
        if comm is None or comm.size == 1:
            return launch(plan, hooks, options, started)
        from d4py_mpi.job import abort_at_exit, run_job  # imports mpi4py: only in a rank

        try:
            job = Job.create(plan, hooks, options) if comm.rank == 0 else None
            return run_job(comm, job, started, hooks)
        except BaseException as error:
            if comm.rank == 0:  # workers may be blocked or busy in a PE: only an abort ends them all
                abort_at_exit(comm, 130 if isinstance(error, KeyboardInterrupt) else getattr(error, "exit_code", 1))
            raise


def _world() -> MPI.Intracomm | None:
    """MPI's world when this process is a rank of a job, else None (and MPI not started)."""
    from d4py_mpi.launch import in_job, mpi_environment

    if not in_job():
        return None
    for key, value in mpi_environment({}).items():
        os.environ.setdefault(key, value)  # read when MPI starts, on the import below
    from mpi4py import MPI

    return MPI.COMM_WORLD
