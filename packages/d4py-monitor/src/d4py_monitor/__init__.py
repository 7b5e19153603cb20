"""d4py-monitor: every run recorded while the package is installed, and ``d4py runs`` to look at them.

Plugin discovery imports this package in every d4py process and MPI rank, so
it imports nothing itself; the store, the records and the command are in
their own modules.
"""

from d4py_monitor.__about__ import __version__

__all__ = ["__version__"]
