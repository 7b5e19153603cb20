"""How a worker process starts: one function, whatever started the process.

The driver builds :class:`WorkerSettings` once per run (:func:`worker_settings`)
and sends them to every worker by any means (a pickle in a pipe, an MPI
broadcast, a Spark closure). :func:`start_worker` then makes the worker's
process look like the driver's: its ``sys.path`` and the workflow files it
loaded, under the same module names (so the workflow's modules import),
dispel4py compatibility, PE logs at the driver's level, and the
run's plugins; and it unpickles the plan, whose PE objects become this
process's own instances.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import sys
import traceback
from dataclasses import dataclass

import cloudpickle

from d4py import _compat
from d4py._exceptions import D4pyError, RunFailed
from d4py.hosting.host import HostTransport, ProcessHost
from d4py.loader import WORKFLOW_FILES, import_workflow_files
from d4py.pe import pe_log_level, show_pe_logs
from d4py.plan import Plan, Slot
from d4py.runhooks import PluginSet, RunHooks

__all__ = [
    "Worker",
    "WorkerSettings",
    "keep_freed_memory",
    "portable_error",
    "start_worker",
    "worker_settings",
]


@dataclass(frozen=True)
class WorkerSettings:
    """What every worker of a run needs from the driver (picklable with plain pickle)."""

    plan: bytes  # the plan, by cloudpickle: workflow classes defined in a script travel by value
    paths: tuple[str, ...]  # the driver's sys.path
    workflow_files: dict[str, str]  # workflow modules the driver loaded from files: name -> file
    log_level: int | None  # PE log messages shown at this level, or not at all
    plugins: PluginSet


@dataclass
class Worker:
    """A started worker: its own copy of the plan, and the run's plugins re-created here."""

    plan: Plan
    hooks: RunHooks

    def host(
        self, slots: list[Slot], transport: HostTransport, worker: int = 0, progress_seconds: float | None = None
    ) -> ProcessHost:
        """Host ``slots`` of the plan in this process."""
        return ProcessHost(self.plan, slots, transport, self.hooks, worker, progress_seconds)


def worker_settings(plan: Plan, hooks: RunHooks) -> WorkerSettings:
    """The settings the driver sends every worker of this run."""
    plan_bytes, files = cloudpickle.dumps(plan), dict(WORKFLOW_FILES)
    return WorkerSettings(plan_bytes, tuple(sys.path), files, pe_log_level(), hooks.for_workers())


def start_worker(settings: WorkerSettings, own_process: bool = True) -> Worker:
    """Prepare this process to run PE instances of the run; ``own_process`` when the backend owns it.

    A process the backend does not own (a Spark executor's Python worker)
    keeps its memory settings.
    """
    sys.path[:0] = [path for path in settings.paths if path not in sys.path]
    import_workflow_files(settings.workflow_files)
    _compat.install()  # before the plan is unpickled: it may hold PEs from dispel4py 1.x workflows
    if settings.log_level is not None:
        show_pe_logs(settings.log_level)
    if own_process:
        keep_freed_memory()
        _whole_lines()
    plan: Plan = cloudpickle.loads(settings.plan)
    return Worker(plan, settings.plugins.hooks())


def _whole_lines() -> None:
    """Write stdout and stderr a line at a time, so lines from several processes never break into each other."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                reconfigure(line_buffering=True, write_through=False)


def portable_error(error: BaseException, backend: str) -> BaseException:
    """An exception another process can unpickle, keeping the message and traceback."""
    if isinstance(error, D4pyError):
        try:
            pickle.loads(pickle.dumps(error))
            return error
        except Exception:  # not picklable after all: fall through to a plain copy
            pass
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    failure = RunFailed(f"a {backend} worker failed: {type(error).__name__}: {error}")
    failure.traceback_text = text  # type: ignore[attr-defined]
    return failure


def keep_freed_memory() -> None:
    """Stop glibc returning freed memory to the kernel after every large array.

    With its default, adaptive thresholds a worker that allocates and frees
    half-megabyte arrays (FFTs, spectra) keeps unmapping and re-faulting pages:
    measured here, 5 s of system time in a 3 s job. Fixed thresholds keep such
    blocks for reuse.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: blocks below 64 MiB come from the heap
            libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MiB free before trimming
