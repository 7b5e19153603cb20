"""d4py-mpi: run d4py workflows on MPI clusters."""

from d4py_mpi.__about__ import __version__
from d4py_mpi.backend import MPIBackend, MPIOptions

__all__ = ["MPIBackend", "MPIOptions", "__version__"]
