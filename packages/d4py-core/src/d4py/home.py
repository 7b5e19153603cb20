"""Where d4py keeps its own files (the registry's store, run records): ``$D4PY_HOME``.

Services that persist data share one folder, so a user moves or wipes it in
one place. Unset, it is the platform's user data directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["d4py_home"]


def d4py_home() -> Path:
    """Return ``$D4PY_HOME``, else the user data directory's ``d4py`` folder (not created here)."""
    chosen = os.environ.get("D4PY_HOME")
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:  # XDG: an empty or relative XDG_DATA_HOME is to be ignored
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "d4py"
