from d4py.testing.contract import BackendContract


class TestSimple(BackendContract):
    backend = "simple"


class TestSimpleWithBudget(BackendContract):
    """The plan scales instances to a budget; simple must run such plans as they are."""

    backend = "simple"
    processes = 8
