"""What this backend's processes call themselves in ps (core's d4py.hosting.children ties them to the driver)."""

from __future__ import annotations

import contextlib
import sys

__all__ = ["name_process"]


def name_process(name: str) -> None:
    """Show ``name`` (15 characters at most) as this process's name in ps and top (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):
            ctypes.CDLL(None, use_errno=True).prctl(15, name.encode()[:15])  # PR_SET_NAME
