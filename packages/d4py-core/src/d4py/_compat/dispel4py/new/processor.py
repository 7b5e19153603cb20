"""dispel4py.new.processor, served by d4py: the functions of it that scripts and tests use.

Graphs run on d4py's backends; what is here reads run input and graphs as
1.x's command line did, and answers 1.x's questions about a graph.
"""

from __future__ import annotations

import importlib
from typing import Any

from d4py._exceptions import D4pyError
from d4py.graph import WorkflowGraph
from d4py.groupings import stable_digest
from d4py.inputs import load_input_file, parse_input_json
from d4py.loader import find_graph
from d4py.pe import GenericPE

__all__ = [
    "STATUS_ACTIVE",
    "STATUS_INACTIVE",
    "STATUS_TERMINATED",
    "AllToOneCommunication",
    "GroupByCommunication",
    "OneToAllCommunication",
    "ShuffleCommunication",
    "create_inputs",
    "get_inputs",
    "load_graph_and_inputs",
]

STATUS_ACTIVE, STATUS_INACTIVE, STATUS_TERMINATED = 10, 11, 12


def _is_root(node: Any, workflow: WorkflowGraph) -> bool:
    """Whether ``node`` (a PE of ``workflow``) has no connected input."""
    _, connections = workflow.flatten_connections()
    return all(c.target is not node.getContainedObject() for c in connections)


def get_inputs(pe: GenericPE, inputs: dict[Any, Any]) -> Any:
    """The run input given for ``pe``: by the object, its name or its id, else None."""
    for key in (pe, pe.name, pe.id):
        if key in inputs:
            return inputs[key]
    return None


def create_inputs(args: Any, graph: WorkflowGraph | None) -> dict[str, Any]:
    """The run input of ``args.file``, ``args.data`` or ``args.iter``, keyed by PE id; ValueError when bad."""
    try:
        if getattr(args, "file", None):
            given = load_input_file(args.file)
        elif getattr(args, "data", None):
            given = parse_input_json(args.data)
        else:
            given = None
    except D4pyError as error:
        raise ValueError(str(error)) from None
    assert graph is not None, "a graph is needed to name the roots"
    pes, connections = graph.flatten_connections()
    roots = [pe for pe in pes if all(c.target is not pe for c in connections)]
    if given is None:
        return {pe.id: getattr(args, "iter", 1) for pe in roots}
    if not isinstance(given, dict):
        raise ValueError(f"run input must be a JSON object of PE names or ids, not {given!r}")
    by_name: dict[str, str] = {pe.name: pe.id for pe in pes} | {pe.id: pe.id for pe in pes}
    return {by_name.get(str(key), str(key)): value for key, value in given.items()}


def load_graph_and_inputs(args: Any) -> tuple[WorkflowGraph, dict[str, Any]]:
    """Import ``args.module`` (``args.attr`` names the graph if needed); return it and its run input."""
    graph = find_graph(importlib.import_module(args.module), args.module, getattr(args, "attr", None))
    return graph, create_inputs(args, graph)


class ShuffleCommunication:
    """Round robin over ``destinations``, starting where sender ``rank``'s place among ``sources`` says."""

    def __init__(self, rank: int, sources: list[int], destinations: list[int]) -> None:
        self.destinations = list(destinations)
        self.turn = sources.index(rank) % len(self.destinations) - 1
        self.name = None

    def getDestination(self, data: Any) -> list[int]:  # noqa: N802 - 1.x name
        self.turn = (self.turn + 1) % len(self.destinations)
        return [self.destinations[self.turn]]


class GroupByCommunication:
    """Which of ``destinations`` an item goes to when grouped by fields ``groupby`` of ``input_name``.

    The same key always goes to the same destination, by d4py's stable digest
    (1.x's ``hash`` differed between processes).
    """

    def __init__(self, destinations: list[int], input_name: str, groupby: list[int]) -> None:
        self.destinations, self.input_name, self.groupby = list(destinations), input_name, list(groupby)
        self.name = self.groupby

    def getDestination(self, data: dict[str, Any]) -> list[int]:  # noqa: N802 - 1.x name
        item = data[self.input_name]
        key = tuple(item[index] for index in self.groupby)
        return [self.destinations[stable_digest(key) % len(self.destinations)]]


class AllToOneCommunication:
    """Everything to the first of ``destinations`` (grouping ``'global'``)."""

    def __init__(self, destinations: list[int]) -> None:
        self.destinations, self.name = list(destinations), "global"

    def getDestination(self, data: Any) -> list[int]:  # noqa: N802 - 1.x name
        return self.destinations[:1]


class OneToAllCommunication:
    """Everything to every one of ``destinations`` (grouping ``'all'``)."""

    def __init__(self, destinations: list[int]) -> None:
        self.destinations, self.name = list(destinations), "all"

    def getDestination(self, data: Any) -> list[int]:  # noqa: N802 - 1.x name
        return list(self.destinations)
