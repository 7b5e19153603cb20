"""MPICH's shared-memory files that an aborted or killed job leaves in /dev/shm.

MPICH removes the file its ranks share on one machine when they finish; a
rank that aborts or is killed first leaves it behind, 2-5 MB of memory each
time (a raising PE on ``d4py run -b mpi`` did, every run). A job d4py
started removes the files it created that no process maps any more.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["leftovers", "remove_leftovers", "segments"]

SHARED = Path("/dev/shm")
PREFIX = "mpich_shm_"


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
    candidates = {name for name, changed in segments().items() if name not in before and changed <= ended}
    return candidates - _mapped() if candidates else set()


def remove_leftovers(before: dict[str, float], ended: float) -> None:
    """Remove :func:`leftovers`."""
    for name in leftovers(before, ended):
        with contextlib.suppress(FileNotFoundError):
            (SHARED / name).unlink()


def _mapped() -> set[str]:
    """The names of the /dev/shm files that some process maps."""
    mapped = set()
    for process in os.scandir("/proc"):
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in Path(process.path, "maps").read_text().splitlines():
                at = line.find(f"{SHARED}/{PREFIX}")
                if at != -1:
                    mapped.add(line[at + len(str(SHARED)) + 1 :].split()[0])
    return mapped
