"""The public surface is exactly what __all__ says."""

import d4py

EXPECTED = {
    "Backend",
    "BackendNotFound",
    "BackendUnavailable",
    "BasePE",
    "CompositePE",
    "ConsumerPE",
    "CycleError",
    "D4pyError",
    "GenericPE",
    "GraphError",
    "InputError",
    "IterativePE",
    "NoOptions",
    "OptionError",
    "PEFailure",
    "Plan",
    "PluginError",
    "PortError",
    "ProducerPE",
    "RunFailed",
    "RunResult",
    "SimpleFunctionPE",
    "TypeContractError",
    "UsageError",
    "WorkflowGraph",
    "WorkflowLoadError",
    "__version__",
    "all_to_one",
    "build_plan",
    "consumer",
    "create_iterative_chain",
    "group_by",
    "hookimpl",
    "iterative",
    "one_to_all",
    "producer",
    "run",
    "shuffle",
    "stable_digest",
}


def test_all_is_the_public_surface():
    assert set(d4py.__all__) == EXPECTED
    assert all(hasattr(d4py, name) for name in d4py.__all__)


def test_usage_errors_exit_2_and_failures_exit_1():
    assert d4py.UsageError.exit_code == 2 and d4py.PortError.exit_code == 2
    assert d4py.BackendUnavailable.exit_code == 2
    assert d4py.RunFailed.exit_code == 1 and d4py.PEFailure.exit_code == 1
