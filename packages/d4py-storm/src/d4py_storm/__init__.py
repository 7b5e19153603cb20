"""d4py-storm: run d4py workflows as Apache Storm topologies."""

from d4py_storm.__about__ import __version__
from d4py_storm.backend import StormBackend, StormOptions

__all__ = ["StormBackend", "StormOptions", "__version__"]
