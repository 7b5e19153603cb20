"""The whole conformance suite, under both start methods, with several instances per PE."""

from d4py.testing.contract import BackendContract


class TestMultiFork(BackendContract):
    backend = "multi"
    options = ("start_method=fork",)
    processes = 8


class TestMultiSpawn(BackendContract):
    backend = "multi"
    options = ("start_method=spawn",)
    processes = 8


class TestMultiDynamic(BackendContract):
    backend = "multi"
    options = ("mode=dynamic", "pool_size=3")
    processes = 8
