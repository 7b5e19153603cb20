"""``run()``: plan a graph and enact it on a backend, with the run's plugins around it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from d4py._exceptions import UsageError
from d4py.backend import Backend, RunResult, parse_options
from d4py.graph import WorkflowGraph
from d4py.inputs import RunInput
from d4py.plan import Plan, build_plan
from d4py.plugins import PluginManager, check_available, get_backend, get_plugin_manager
from d4py.runhooks import RunHooks

__all__ = ["check_capabilities", "run"]


def run(
    graph: WorkflowGraph,
    inputs: RunInput = None,
    *,
    backend: str | Backend = "simple",
    processes: int | None = None,
    options: Sequence[str] | Any = (),
    check_types: bool = False,
    plugins: Sequence[object] = (),
    plugin_manager: PluginManager | None = None,
) -> RunResult:
    """Run ``graph`` and return the items of its unconnected outputs.

    ``inputs`` drives the roots: None (each root once), a number of
    iterations, or a mapping from root PE (object, id or name) to a number of
    iterations or a list of input dicts. ``processes`` is the most processes
    that run PEs. ``options`` are ``key=value`` strings or the backend's
    Options object. ``plugins`` are registered for this run only, and
    re-created in every process that runs instances (so they must pickle).
    """
    manager = plugin_manager or get_plugin_manager()
    if isinstance(backend, str):
        cls = get_backend(backend, manager, available=False)
        parsed = options if isinstance(options, cls.Options) else parse_options(cls, list(options))
        check_available(cls, parsed)
        backend = cls(parsed)
    # The budget comes from the user alone (-n, or the size of the MPI job they started), never from
    # the machine: results must not depend on where they ran.
    if processes is None:
        processes = backend.default_processes()
    plan = build_plan(graph, inputs, processes, check_types=check_types, fuse=type(backend).fuses_chains)
    check_capabilities(type(backend), plan)
    backend.check(plan)
    for plugin in plugins:
        manager.register(plugin)
    try:
        hooks = RunHooks(manager)
        plan.trace = hooks.trace(plan)
        if plan.trace and not type(backend).traces_items:
            raise UsageError(
                f"backend {type(backend).name!r} cannot carry lineage ids between processes, "
                "so this run cannot be traced; turn provenance off or choose another backend"
            )
        hooks.run_start(plan, backend)
        try:
            result = backend.run(plan, hooks)
        except BaseException as error:
            hooks.run_end(plan, backend, None, error)
            raise
        hooks.run_end(plan, backend, result, None)
    finally:
        for plugin in plugins:
            manager.unregister(plugin)
    return result


def check_capabilities(backend: type[Backend], plan: Plan) -> None:
    """Raise a UsageError if ``plan`` needs what ``backend`` declares it cannot do."""
    cycle = None if backend.runs_partition_cycles else plan.partition_cycle()
    if cycle:
        groups = " and ".join("[" + ", ".join(plan.partitions[p]) + "]" for p in cycle)
        raise UsageError(
            f"backend {backend.name!r} cannot run partitions that feed each other ({groups}); "
            "change graph.partitions so that items flow one way between them"
        )
