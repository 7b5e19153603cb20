"""Test kit for d4py workflows: run a graph, collect outputs, compare as multisets.

    from d4py.testing import run_graph, assert_same_items

    result = run_graph(graph, inputs=10)
    assert_same_items(result.output("Doubler"), [0, 2, 4, ...])

``d4py.testing.contract.BackendContract`` is the conformance suite every
backend inherits; it needs pytest. ``d4py.testing.observing.InstanceWatch``
is a plugin that observes every instance of a run, for tests of plugins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from d4py.backend import RunResult
from d4py.graph import WorkflowGraph
from d4py.inputs import RunInput
from d4py.runner import run

__all__ = ["as_multiset", "assert_same_items", "run_graph"]


def run_graph(
    graph: WorkflowGraph,
    inputs: RunInput = None,
    backend: str = "simple",
    *,
    processes: int | None = None,
    options: list[str] | None = None,
    check_types: bool = False,
    plugins: Sequence[object] = (),
) -> RunResult:
    """Run ``graph`` on ``backend`` and return its RunResult (a thin, stable wrapper of ``d4py.run``)."""
    return run(
        graph,
        inputs,
        backend=backend,
        processes=processes,
        options=options or [],
        check_types=check_types,
        plugins=plugins,
    )


def _hashable(item: Any) -> Any:
    if isinstance(item, Mapping):
        return ("mapping", tuple(sorted((repr(k), _hashable(v)) for k, v in item.items())))
    if isinstance(item, (list, tuple)):
        return (type(item).__name__, tuple(_hashable(v) for v in item))
    if isinstance(item, (set, frozenset)):
        return ("set", tuple(sorted(repr(v) for v in item)))
    tobytes = getattr(item, "tobytes", None)  # NumPy arrays: compare dtype, shape and contents
    if callable(tobytes) and hasattr(item, "shape"):
        return ("array", str(item.dtype), tuple(item.shape), tobytes())
    try:
        hash(item)
    except TypeError:
        return ("repr", repr(item))
    return item


def as_multiset(items: Iterable[Any]) -> Counter[Any]:
    """Count items, turning lists, dicts and arrays into comparable, hashable values."""
    return Counter(_hashable(item) for item in items)


def assert_same_items(actual: Iterable[Any], expected: Iterable[Any]) -> None:
    """Assert both hold the same items, each as many times, in any order."""
    got, want = as_multiset(actual), as_multiset(expected)
    if got != want:
        missing, extra = want - got, got - want
        raise AssertionError(
            f"items differ: {sum(missing.values())} missing {list(missing.items())[:5]}, "
            f"{sum(extra.values())} unexpected {list(extra.items())[:5]}"
        )
