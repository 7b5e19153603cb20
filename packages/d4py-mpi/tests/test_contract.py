"""The whole conformance suite on real MPI jobs, with several instances per PE (more ranks than cores)."""

from d4py.testing.contract import BackendContract


class TestMPI(BackendContract):
    backend = "mpi"
    processes = 6
