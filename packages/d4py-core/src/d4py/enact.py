"""``run()``: plan a graph and enact it on a backend, with the run hooks around it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

from d4py.backend import Backend, RunResult, parse_options
from d4py.graph import WorkflowGraph
from d4py.inputs import RunInput
from d4py.plan import build_plan
from d4py.plugins import get_backend, get_plugin_manager

__all__ = ["run"]


def run(
    graph: WorkflowGraph,
    inputs: RunInput = None,
    *,
    backend: str | Backend = "simple",
    processes: int | None = None,
    options: Sequence[str] | Any = (),
    check_types: bool = False,
    plugin_manager: pluggy.PluginManager | None = None,
) -> RunResult:
    """Run ``graph`` and return the items of its unconnected outputs.

    ``inputs`` drives the roots: None (each root once), a number of
    iterations, or a mapping from root PE (object, id or name) to a number of
    iterations or a list of input dicts. ``options`` are ``key=value``
    strings or the backend's Options object.
    """
    manager = plugin_manager or get_plugin_manager()
    if isinstance(backend, str):
        cls = get_backend(backend, manager)
        parsed = options if isinstance(options, cls.Options) else parse_options(cls, list(options))
        backend = cls(parsed)
    # The budget comes from the user alone (-n, or the size of the MPI job they started), never from
    # the machine: results must not depend on where they ran.
    if processes is None:
        processes = backend.default_processes()
    plan = build_plan(graph, inputs, processes, check_types=check_types)
    backend.check(plan)
    manager.hook.d4py_run_start(plan=plan, backend=backend)
    try:
        result = backend.run(plan, manager.hook)
    except BaseException as error:
        manager.hook.d4py_run_end(plan=plan, backend=backend, result=None, error=error)
        raise
    manager.hook.d4py_run_end(plan=plan, backend=backend, result=result, error=None)
    return result
