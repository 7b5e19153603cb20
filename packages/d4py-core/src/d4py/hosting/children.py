"""The processes a backend's driver starts: tied to the driver's life, and stopped by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from multiprocessing.process import BaseProcess

__all__ = ["die_with_parent", "stop_processes"]


def die_with_parent(driver: int | None = None) -> None:
    """In a child: have the kernel kill it if the driver dies (Linux), and leave Ctrl-C to the driver.

    ``driver``: the driver's pid, if the child should exit at once when the driver died before this took effect.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the whole group: the driver decides, and stops us
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if driver is not None and os.getppid() != driver:
        os._exit(1)


def stop_processes(processes: list[BaseProcess]) -> None:
    """Stop every process still running (SIGTERM, then SIGKILL after five seconds) and reap them all."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
