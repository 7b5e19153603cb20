"""PEs built from annotated functions."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest

from d4py import WorkflowGraph, consumer, iterative, producer, run

SEEN: list[int] = []


@producer
def countdown(start: int = 3) -> Iterator[int]:
    yield from range(start, 0, -1)


@iterative
def scale(x: int, factor: int = 2) -> int:
    return x * factor


@iterative
def explode(x: int) -> Iterator[int]:
    for _ in range(x):
        yield x


@consumer
def remember(x: int) -> None:
    SEEN.append(x)


def test_function_pes_run_with_bound_parameters():
    graph = WorkflowGraph()
    source, scaled = countdown(start=4), scale(factor=10)
    graph.connect(source, "output", scaled, "input")
    assert run(graph).output(scaled.id) == [40, 30, 20, 10]


def test_generators_emit_each_item_and_consumers_consume():
    SEEN.clear()
    graph = WorkflowGraph()
    source, many = countdown(), explode()
    graph.connect(source, "output", many, "input")
    graph.connect(many, "output", remember(), "input")
    run(graph)
    assert SEEN == [3, 3, 3, 2, 2, 1]


def test_annotations_become_port_types():
    assert scale().inputconnections["input"]["type"] is int
    assert explode().outputconnections["output"]["type"] is int
    assert "output" not in remember().outputconnections


def test_unknown_parameter_is_refused_at_construction():
    with pytest.raises(TypeError):
        scale(facter=3)


def test_function_pes_pickle_for_parallel_backends():
    copy = pickle.loads(pickle.dumps(scale(factor=7)))
    assert copy.params == {"factor": 7} and copy._function(2, **copy.params) == 14
