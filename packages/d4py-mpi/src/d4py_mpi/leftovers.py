"""MPICH's shared-memory files that an aborted or killed job leaves in /dev/shm.

MPICH removes the file its ranks share on one machine when they finish; a
rank that aborts or is killed first leaves it behind, 2-5 MB of memory each
time (a raising PE on ``d4py run -b mpi`` did, every run). A job d4py
started removes the files it created that no process maps any more.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

__all__ = ["JOB_VARIABLE", "leftovers", "remove_leftovers", "segments", "unlink_mapped"]

SHARED = Path("/dev/shm")
PREFIX = "mpich_shm_"
JOB_VARIABLE = "D4PY_MPI_JOB"  # set in the environment of every process of a job d4py starts


def segments() -> dict[str, float]:
    """MPICH's files in /dev/shm, with the time each was last changed."""
    found = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir(SHARED):
            if entry.name.startswith(PREFIX):
                with contextlib.suppress(OSError):
                    found[entry.name] = entry.stat().st_mtime
    return found


def leftovers(before: dict[str, float], ended: float) -> set[str]:
    """The files created since ``before`` was taken, changed before ``ended``, that no process maps.

    A file another job creates after ``ended`` is never among them; one it
    created earlier is still mapped by its ranks while they live.
    """
    candidates = _new(before, ended)
    return candidates - set(_mapped()) if candidates else set()


def remove_leftovers(before: dict[str, float], ended: float, job: str) -> None:
    """Remove :func:`leftovers`, once the job's own processes have let go of them.

    mpiexec can return while the ranks it killed are still exiting, their
    mappings not yet gone: wait for those (a few milliseconds), found by the
    ``JOB_VARIABLE=job`` in their environment (MPICH's proxy starts each rank
    in a session of its own), never for another job's.
    """
    candidates = _new(before, ended)
    if not candidates:
        return
    marker = f"{JOB_VARIABLE}={job}".encode()
    deadline = time.monotonic() + 5.0
    while True:
        mapped = _mapped()
        holders = {pid for name in candidates & mapped.keys() for pid in mapped[name]}
        if not any(_has(pid, marker) for pid in holders) or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    for name in candidates - mapped.keys():
        with contextlib.suppress(FileNotFoundError):
            (SHARED / name).unlink()


def unlink_mapped() -> None:
    """Remove the names of the MPICH files this process maps, before it aborts the job.

    Every rank on the machine has mapped them by then, so the job runs on;
    the memory goes when the last rank exits, as it would had MPICH finished.
    This is what keeps a job the user started with mpiexec from leaving them.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/maps").read_text().splitlines():
            at = line.find(f"{SHARED}/{PREFIX}")
            if at != -1:
                with contextlib.suppress(FileNotFoundError):
                    Path(line[at:].split()[0]).unlink()


def _new(before: dict[str, float], ended: float) -> set[str]:
    return {name for name, changed in segments().items() if name not in before and changed <= ended}


def _mapped() -> dict[str, set[int]]:
    """The /dev/shm files of MPICH that processes map, with those processes."""
    mapped: dict[str, set[int]] = {}
    for process in os.scandir("/proc"):
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in Path(process.path, "maps").read_text().splitlines():
                at = line.find(f"{SHARED}/{PREFIX}")
                if at != -1:
                    name = line[at + len(str(SHARED)) + 1 :].split()[0]
                    mapped.setdefault(name, set()).add(int(process.name))
    return mapped


def _has(pid: int, marker: bytes) -> bool:
    """Whether process ``pid`` is alive with ``marker`` in its environment."""
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
