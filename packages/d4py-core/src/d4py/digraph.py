"""A small directed multigraph and the two algorithms planning needs: a cycle, and a stable topological order.

d4py used networkx for these, and importing networkx was about 90 ms of the
130 ms a ``d4py run`` spent importing d4py (2 cores, 2026-11-27). A workflow
graph has tens of nodes; this is all of networkx that d4py used.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

__all__ = ["MultiDiGraph", "find_cycle", "topological_order"]


class NodeView:
    """The nodes, in insertion order: iterate, test membership, or call as ``nodes()`` / ``nodes(data=True)``."""

    def __init__(self, store: dict[Any, dict[str, Any]]) -> None:
        self._store = store

    def __iter__(self) -> Iterator[Any]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, node: object) -> bool:
        return node in self._store

    def __call__(self, data: bool = False) -> list[Any]:
        return list(self._store.items()) if data else list(self._store)


class MultiDiGraph:
    """Nodes with attributes and parallel directed edges with attributes.

    ``WorkflowGraph.graph`` is one. It answers the part of networkx's
    ``MultiDiGraph`` interface that dispel4py workflows and scripts use on
    ``graph.graph``: ``nodes``, ``edges``, ``in_edges``, ``out_edges``,
    ``predecessors``, ``successors``, ``add_node``, ``add_edge``.
    """

    def __init__(self) -> None:
        self._nodes: dict[Any, dict[str, Any]] = {}
        self._edges: list[tuple[Any, Any, dict[str, Any]]] = []

    @property
    def nodes(self) -> NodeView:
        return NodeView(self._nodes)

    def add_node(self, node: Hashable, **attributes: Any) -> None:
        self._nodes.setdefault(node, {}).update(attributes)

    def add_nodes_from(self, nodes: Iterable[Hashable]) -> None:
        for node in nodes:
            self.add_node(node)

    def add_edge(self, source: Hashable, target: Hashable, **attributes: Any) -> None:
        self.add_node(source)
        self.add_node(target)
        self._edges.append((source, target, dict(attributes)))

    def edges(self, data: bool = False) -> list[Any]:
        """Every edge as ``(source, target)``, or ``(source, target, attributes)`` with ``data``."""
        return [(s, t, d) if data else (s, t) for s, t, d in self._edges]

    def in_edges(self, node: Hashable, data: bool = False) -> list[Any]:
        return [edge for edge in self.edges(data) if edge[1] == node]

    def out_edges(self, node: Hashable, data: bool = False) -> list[Any]:
        return [edge for edge in self.edges(data) if edge[0] == node]

    def predecessors(self, node: Hashable) -> Iterator[Any]:
        return iter(dict.fromkeys(s for s, t, _ in self._edges if t == node))

    def successors(self, node: Hashable) -> Iterator[Any]:
        return iter(dict.fromkeys(t for s, t, _ in self._edges if s == node))

    def has_node(self, node: Hashable) -> bool:
        return node in self._nodes

    def number_of_nodes(self) -> int:
        return len(self._nodes)

    def number_of_edges(self) -> int:
        return len(self._edges)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return node in self._nodes


def _successors(nodes: Iterable[Any], links: Iterable[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    following: dict[Any, list[Any]] = {node: [] for node in nodes}
    for source, target in links:
        following.setdefault(source, []).append(target)
        following.setdefault(target, [])
    return following


def find_cycle(nodes: Iterable[Any], links: Iterable[tuple[Any, Any]]) -> list[Any] | None:
    """Nodes around one cycle, in link order (the first not repeated at the end), or None."""
    following = _successors(nodes, links)
    state: dict[Any, int] = {}  # 1: on the current path, 2: finished
    for start in following:
        if start in state:
            continue
        path, stack = [start], [iter(following[start])]
        state[start] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                return path[path.index(target) :]
            elif target not in state:
                state[target] = 1
                path.append(target)
                stack.append(iter(following[target]))
    return None


def topological_order(
    nodes: Iterable[Any], links: Iterable[tuple[Any, Any]], key: Callable[[Any], Any] | None = None
) -> list[Any] | None:
    """Nodes with every link's source before its target, the smallest ``key`` first among the ready; None if cyclic."""
    following = _successors(nodes, links)
    rank = key or (lambda node: node)
    waiting = dict.fromkeys(following, 0)
    for targets in following.values():
        for target in targets:
            waiting[target] += 1
    ready = [(rank(node), number, node) for number, (node, count) in enumerate(waiting.items()) if count == 0]
    heapq.heapify(ready)
    numbers = {node: number for number, node in enumerate(following)}
    order = []
    while ready:
        _, _, node = heapq.heappop(ready)
        order.append(node)
        for target in following[node]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, (rank(target), numbers[target], target))
    return order if len(order) == len(following) else None
