"""Starting an MPI job from outside one: find mpiexec, hand the job to the ranks, read rank 0's result.

Nothing here imports mpi4py: importing ``mpi4py.MPI`` starts MPI, which only a rank should do.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from d4py._exceptions import BackendUnavailable, RunFailed
from d4py.backend import RunResult
from d4py.hosting import WorkerSettings, worker_settings
from d4py.plan import Plan
from d4py.runhooks import RunHooks
from d4py_mpi.leftovers import JOB_VARIABLE, remove_leftovers, segments

if TYPE_CHECKING:
    from d4py_mpi.backend import MPIOptions

__all__ = ["Job", "find_mpiexec", "in_job", "launch", "mpi_environment"]

# Set unless the user set them. MPICH: yield the core while polling, so that more ranks than cores
# run well. Open MPI: allow root (containers, CI) and more ranks than cores. Each MPI ignores the other's.
_DEFAULTS = {
    "MPIR_CVAR_POLLS_BEFORE_YIELD": "1",
    "MPIR_CVAR_CH4_PROGRESS_THROTTLE": "1",
    "MPIR_CVAR_CH4_PROGRESS_THROTTLE_NO_PROGRESS_COUNT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe",
}


@dataclass(frozen=True)
class Job:
    """What rank 0 hands every rank: the run's worker settings, the options, and how many ranks it needs."""

    settings: WorkerSettings
    options: MPIOptions
    ranks: int  # rank 0 to coordinate, plus one for each process of the plan's layout

    @classmethod
    def create(cls, plan: Plan, hooks: RunHooks, options: MPIOptions) -> Job:
        return cls(worker_settings(plan, hooks), options, len(plan.layout) + 1)


def in_job() -> bool:
    """Whether a process manager started this process as a rank (mpiexec, mpirun, srun)."""
    return any(variable in os.environ for variable in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"))


def mpi_environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with d4py's defaults for MPI added where it does not set them."""
    return {**_DEFAULTS, **base}


def find_mpiexec(given: str | None) -> str:
    """The mpiexec to start: ``given``, else the one beside this Python (a venv's MPICH), else PATH's."""
    if given:
        found = shutil.which(given)
        if found is None:
            raise BackendUnavailable(f"-o mpiexec={given}: no such program")
        return found
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if os.access(beside, os.X_OK) else shutil.which("mpiexec")
    if found is None:
        raise BackendUnavailable(
            "no mpiexec beside this Python or on PATH: pip install 'd4py-mpi[mpich]', "
            "load your cluster's MPI module, or give -o mpiexec=PATH"
        )
    return found


def launch(plan: Plan, hooks: RunHooks, options: MPIOptions, started: float) -> RunResult:
    """Run ``plan`` as an MPI job of its own and return rank 0's result, timed from ``started``.

    Rank 0 passes its observers' reports back with the result; they reach the plugins here when the job ends.
    """
    job = Job.create(plan, hooks, options)
    command = [find_mpiexec(options.mpiexec), "-n", str(job.ranks)]
    with tempfile.TemporaryDirectory(prefix="d4py-mpi-") as folder:
        job_file, result = Path(folder) / "job.pickle", Path(folder) / "result.pickle"
        job_file.write_bytes(pickle.dumps(job))
        command += [sys.executable, "-m", "d4py_mpi.rank", str(job_file), str(result)]
        before, job_id = segments(), uuid.uuid4().hex
        environment = {**mpi_environment(os.environ), JOB_VARIABLE: job_id}
        process = subprocess.Popen(command, env=environment, start_new_session=True)
        try:
            code = process.wait()
            if code != 0:  # an aborted job: mpiexec may be gone before a rank it killed
                _reap_group(process.pid)
        except BaseException:  # Ctrl-C reaches only this process: end the job, then say so
            _stop(process)
            raise
        finally:
            remove_leftovers(before, time.time(), job_id)
        if result.exists():
            outcome, value, reports = pickle.loads(result.read_bytes())
            for report in reports:
                hooks.observer_reports(*report)
            if outcome == "error":
                raise value
            assert isinstance(value, RunResult)
            value.wall_time = time.perf_counter() - started  # with mpiexec's start-up, as the user waited
            return value
    raise RunFailed(
        f"the MPI job ended (mpiexec exit code {code}) before rank 0 reported: a rank died or was killed; "
        "mpiexec's message above says how"
    )


def _reap_group(group: int, patience: float = 2.0) -> None:
    """Kill what is left of the job's session (ranks of an aborted job) and wait, a while, until none is left."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:  # no process left in the group
            return
        time.sleep(0.01)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the job at once: mpiexec, its proxies and every rank share the session it leads.

    Killing them together leaves mpiexec no time to report the ranks' deaths
    (MPICH's "BAD TERMINATION" banner, for a job the user chose to stop).
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
