"""The whole conformance suite on a real local Spark session, with several instances per PE."""

from d4py.testing.contract import BackendContract


class TestSpark(BackendContract):
    backend = "spark"
    processes = 6
