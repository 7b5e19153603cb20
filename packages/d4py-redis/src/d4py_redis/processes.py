"""Processes this backend starts (the private server, local workers): tied to the driver, stopped by pid."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys

__all__ = ["die_with_parent", "stop"]


def die_with_parent() -> None:
    """For ``Popen(preexec_fn=...)``: on Linux, have the kernel kill the child if the driver dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the whole group: the driver decides, and stops us
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop every process still running (SIGTERM, then SIGKILL after five seconds) and reap them all."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
