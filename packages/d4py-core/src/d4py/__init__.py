"""d4py: stream-based scientific workflows, written once, run on any backend."""

from d4py.__about__ import __version__
from d4py._exceptions import (
    BackendNotFound,
    BackendUnavailable,
    CycleError,
    D4pyError,
    GraphError,
    InputError,
    OptionError,
    PEFailure,
    PluginError,
    PortError,
    RunFailed,
    TypeContractError,
    UsageError,
    WorkflowLoadError,
)
from d4py.backend import Backend, NoOptions, RunResult
from d4py.composite import CompositePE, create_iterative_chain
from d4py.functions import consumer, iterative, producer
from d4py.graph import WorkflowGraph
from d4py.groupings import all_to_one, group_by, one_to_all, shuffle, stable_digest
from d4py.hookspecs import hookimpl
from d4py.pe import BasePE, ConsumerPE, GenericPE, IterativePE, ProducerPE, SimpleFunctionPE
from d4py.plan import Plan, build_plan
from d4py.runner import run

__all__ = [
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
]
