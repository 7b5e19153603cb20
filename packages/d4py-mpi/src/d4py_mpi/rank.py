"""What every rank runs when d4py starts mpiexec itself: ``python -m d4py_mpi.rank JOB RESULT``.

JOB holds the parent's ``sys.path`` (so the workflow's modules import here
as they did there) and the pickled plan and settings. Rank 0 writes
``("ok", RunResult)`` or ``("error", exception)`` to RESULT for the parent.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

import cloudpickle
from mpi4py import MPI

from d4py import _compat
from d4py.worker import portable_error
from d4py_mpi.job import run_job


def main(job: Path, result: Path) -> None:
    started = time.perf_counter()
    paths, shared = pickle.loads(job.read_bytes())
    sys.path[:0] = [p for p in paths if p not in sys.path]
    comm = MPI.COMM_WORLD
    if comm.rank != 0:
        run_job(comm, None, None, started)  # leaves with SystemExit
    _compat.install()  # before the plan is unpickled: it may hold PEs from dispel4py 1.x workflows
    plan, settings = cloudpickle.loads(shared)
    try:
        outcome = ("ok", run_job(comm, plan, settings, started))
    except BaseException as error:
        _write(result, ("error", portable_error(error, "mpi")))
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the parent reports the error, not MPI's abort notice
        comm.Abort(1)  # other ranks may be blocked or busy in a PE
    _write(result, outcome)


def _write(path: Path, outcome: tuple[str, object]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(outcome))
    partial.rename(path)  # the parent never reads half a result


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
