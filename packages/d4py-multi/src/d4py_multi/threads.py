"""How many threads the native libraries of each worker (BLAS, OpenMP) may use.

Every worker is a process, so W workers on C cores are oversubscribed as soon
as NumPy's BLAS runs C threads in each; OpenBLAS's idle threads also spin,
taking cycles from the other workers. By default each worker gets C / W
threads (at least one), unless the user chose for themselves by setting one of
the usual environment variables, which are then left alone.

Two mechanisms, one for each way a worker starts: a forked worker inherits the
libraries the driver has loaded, so the driver limits them while workers start
and run; a spawned worker loads its own, so it sets the variables before it
imports the workflow.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from threadpoolctl import threadpool_limits

__all__ = ["limit_in_driver", "limit_in_worker", "threads_per_worker", "usable_cores"]

VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def threads_per_worker(chosen: int | None, workers: int) -> int | None:
    """The limit for each of ``workers`` workers: ``chosen`` if given, else the cores shared out.

    None (no limit) when nothing was chosen and the environment sets one of :data:`VARIABLES`.
    """
    if chosen is not None:
        return chosen
    if any(name in os.environ for name in VARIABLES):
        return None
    return max(1, usable_cores() // max(1, workers))


@contextlib.contextmanager
def limit_in_driver(threads: int | None) -> Iterator[None]:
    """Limit the libraries loaded in this process while the block runs (workers forked in it inherit this)."""
    if threads is None:
        yield
        return
    with threadpool_limits(limits=threads):
        yield


def limit_in_worker(threads: int | None) -> None:
    """Have the libraries this worker loads from now on start with ``threads`` threads."""
    if threads is not None:
        os.environ.update(dict.fromkeys(VARIABLES, str(threads)))


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not all of the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
