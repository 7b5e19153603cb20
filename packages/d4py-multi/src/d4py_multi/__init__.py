"""d4py-multi: run d4py workflows on every core of one machine."""

from d4py_multi.__about__ import __version__
from d4py_multi.backend import MultiBackend, MultiOptions

__all__ = ["MultiBackend", "MultiOptions", "__version__"]
