"""Look at the process table, to check that a backend leaves no process behind (Linux)."""

from __future__ import annotations

import signal
from pathlib import Path

__all__ = ["interruptible", "processes_with"]


def processes_with(marker: str) -> list[int]:
    """The pids of live processes whose environment holds ``marker`` (set it on the run you start)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                alive = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
                if alive and marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def interruptible() -> None:
    """For ``subprocess.Popen(preexec_fn=interruptible)``: the child takes Ctrl-C (SIGINT) as a terminal sends it.

    A shell starts background jobs with SIGINT ignored and children inherit
    that; a test that interrupts a run must not depend on how it was started.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
