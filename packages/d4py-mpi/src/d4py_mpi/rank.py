"""What every rank runs when d4py starts mpiexec itself: ``python -m d4py_mpi.rank JOB RESULT``.

JOB holds the pickled :class:`~d4py_mpi.launch.Job` (with the parent's
``sys.path``, so the workflow's modules import here as they did there).
Rank 0 writes ``("ok", RunResult, reports)`` or ``("error", exception,
reports)`` to RESULT for the parent, which passes the observer reports to
its plugins.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

from mpi4py import MPI

from d4py.hosting import portable_error
from d4py_mpi.job import run_job
from d4py_mpi.leftovers import unlink_mapped


def main(job_file: Path, result: Path) -> None:
    started = time.perf_counter()
    comm = MPI.COMM_WORLD
    if comm.rank != 0:
        run_job(comm, None, started, None)  # leaves with SystemExit
    job = pickle.loads(job_file.read_bytes())
    reports: list[tuple[object, ...]] = []  # what observers reported, kept for the parent even if the run fails
    try:
        value = run_job(comm, job, started, None, reports)
        _write(result, ("ok", value, reports))
    except BaseException as error:
        _write(result, ("error", portable_error(error, "mpi"), reports))
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the parent reports the error, not MPI's abort notice
        unlink_mapped()
        comm.Abort(1)  # other ranks may be blocked or busy in a PE


def _write(path: Path, outcome: tuple[str, object, object]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(outcome))
    partial.rename(path)  # the parent never reads half a result


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
