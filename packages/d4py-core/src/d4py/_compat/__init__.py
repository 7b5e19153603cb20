"""dispel4py 1.x compatibility: ``import dispel4py...`` resolves to d4py.

``install()`` puts a finder on ``sys.meta_path`` that answers for the
top-level ``dispel4py`` package. Its submodules come first from d4py's
compatibility modules (``core``, ``base``, ``workflow_graph``, ``new``), then
from any ``dispel4py`` folder on ``sys.path``, so that a user's copy of
dispel4py's examples still imports.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["install"]

_HERE = Path(__file__).resolve().parent / "dispel4py"


class _Dispel4pyFinder:
    """A meta path finder by its ``find_spec`` alone, as ``d4py.loader``'s (importing ``importlib.abc`` costs)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "dispel4py":
            return None
        others = []
        for entry in sys.path:
            folder = Path(entry or ".").resolve() / "dispel4py"
            if folder.is_dir() and folder != _HERE and str(folder) not in others:
                others.append(str(folder))
        return importlib.util.spec_from_file_location(
            "dispel4py", _HERE / "__init__.py", submodule_search_locations=[str(_HERE), *others]
        )


def install() -> None:
    """Make ``import dispel4py`` resolve to d4py's compatibility layer (idempotent)."""
    if not any(isinstance(finder, _Dispel4pyFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Dispel4pyFinder())
