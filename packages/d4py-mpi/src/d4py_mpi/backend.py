"""The ``mpi`` backend: the plan's partition instances on the ranks of an MPI job.

Inside a job (``mpiexec -n N d4py run -b mpi ...``) every rank runs the same
command and takes its part: the world size sets the process budget (N - 1
instances; rank 0 coordinates). Outside a job, ``run`` starts ``mpiexec``
itself with as many ranks as the plan needs and waits for rank 0's result.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from mpi4py import MPI

from d4py import Backend, RunResult
from d4py.plan import Plan
from d4py.worker import pe_log_level, refuse_partition_cycles
from d4py_mpi.launch import JobSettings, in_job, launch, mpi_environment

__all__ = ["MPIBackend", "MPIOptions"]


@dataclass(frozen=True)
class MPIOptions:
    """Options of the mpi backend (``-o key=value``)."""

    mpiexec: str | None = None  # outside a job: the mpiexec to start (default: beside Python, then on PATH)
    batch_items: int = 1024  # send a batch once it holds this many messages ...
    batch_bytes: int = 1 << 20  # ... or about this many bytes of array/bytes/str payload ...
    flush_ms: float = 5.0  # ... or once its first message is this old
    in_flight: int = 4  # batches per destination sent and not yet taken, at most

    def __post_init__(self) -> None:
        if self.in_flight < 1:
            raise ValueError(
                f"-o in_flight={self.in_flight}: a rank must be able to send at least 1 batch; use 1 or more"
            )


class MPIBackend(Backend):
    """MPI ranks through mpi4py: rank 0 coordinates, each other rank hosts one partition instance."""

    name = "mpi"
    description = "MPI via mpi4py; one rank per partition instance; starts mpiexec itself when needed"
    live_counts = False  # instances report only when they end
    Options = MPIOptions

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("mpi4py") is None:
            return "mpi4py is missing: pip install 'd4py-mpi[mpich]' (MPICH from PyPI), or mpi4py for a system MPI"
        return None

    def default_processes(self) -> int | None:
        """Inside a job of N ranks, N - 1 run PE instances; outside one, the user's -n or the plan's."""
        comm = _world()
        return comm.size - 1 if comm is not None and comm.size > 1 else None

    def check(self, plan: Plan) -> None:
        """Refuse explicit partitions that feed each other, which could deadlock bounded sends."""
        refuse_partition_cycles(plan, self.name)

    def run(self, plan: Plan, hook: pluggy.HookRelay) -> RunResult:
        started = time.perf_counter()
        options: MPIOptions = self.options
        settings = JobSettings(
            options.batch_items, options.batch_bytes, options.flush_ms / 1000, options.in_flight, pe_log_level()
        )
        comm = _world()
        if comm is None or comm.size == 1:
            return launch(plan, settings, options.mpiexec, started)
        from d4py_mpi.job import abort_at_exit, run_job  # imports mpi4py: only in a rank

        try:
            return run_job(comm, plan, settings, started)
        except BaseException as error:
            if comm.rank == 0:  # workers may be blocked or busy in a PE: only an abort ends them all
                abort_at_exit(comm, 130 if isinstance(error, KeyboardInterrupt) else getattr(error, "exit_code", 1))
            raise


def _world() -> MPI.Intracomm | None:
    """MPI's world when this process is a rank of a job, else None (and MPI not started)."""
    if not in_job():
        return None
    for key, value in mpi_environment({}).items():
        os.environ.setdefault(key, value)  # read when MPI starts, on the import below
    from mpi4py import MPI

    return MPI.COMM_WORLD
