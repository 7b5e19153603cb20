from d4py.testing.contract import BackendContract


class TestSimple(BackendContract):
    backend = "simple"
