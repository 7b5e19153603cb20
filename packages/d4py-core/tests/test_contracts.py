"""Type contracts: checked before a run, and per item when asked."""

from __future__ import annotations

from typing import Any, Optional, Union

import pytest

from d4py import GenericPE, TypeContractError, WorkflowGraph, build_plan, iterative, producer, run
from d4py.contracts import _assignable, check_item


@pytest.mark.parametrize(
    ("out", "inp", "ok"),
    [
        (int, int, True),
        (int, float, True),
        (bool, int, True),
        (str, int, False),
        (int, Optional[int], True),
        (Union[int, str], int, False),
        (tuple[str, int], tuple, True),
        (tuple[str, int], tuple[str, int], True),
        (tuple[str, int], tuple[int, int], False),
        (list[int], tuple, False),
        (Any, int, True),
        (None, str, True),
        (["word", "count"], ["w", "c"], True),
        (["word"], ["w", "c"], False),
    ],
)
def test_assignability(out, inp, ok):
    assert _assignable(out, inp) is ok


def _typed(in_type=None, out_type=None, grouping=None):
    pe = GenericPE()
    pe._add_input("input", grouping=grouping, tuple_type=in_type)
    pe._add_output("output", tuple_type=out_type)
    return pe


def test_mismatch_names_both_ends():
    graph = WorkflowGraph()
    a, b = _typed(out_type=str), _typed(in_type=int)
    graph.connect(a, "output", b, "input")
    with pytest.raises(TypeContractError) as caught:
        build_plan(graph)
    message = str(caught.value)
    assert f"PE '{a.id}' output 'output' produces str" in message
    assert f"PE '{b.id}' input 'input' expects int" in message


def test_group_by_index_must_fit_declared_items():
    graph = WorkflowGraph()
    a, b = _typed(out_type=tuple[str, int]), _typed(grouping=[2])
    graph.connect(a, "output", b, "input")
    with pytest.raises(
        TypeContractError, match=r"groups by \[2\] but its items are declared tuple\[str, int\], with 2 fields"
    ):
        build_plan(graph)


def test_group_by_needs_indexable_items():
    graph = WorkflowGraph()
    a, b = _typed(out_type=int), _typed(grouping=[0])
    graph.connect(a, "output", b, "input")
    with pytest.raises(TypeContractError, match="cannot be indexed"):
        build_plan(graph)


def test_group_by_on_dispel4py_field_lists():
    graph = WorkflowGraph()
    a, b = _typed(out_type=["word"]), _typed(grouping=[1])
    graph.connect(a, "output", b, "input")
    with pytest.raises(TypeContractError, match=r"its items have 1 fields \['word'\]"):
        build_plan(graph)


def test_checked_run_reports_the_first_offending_item():
    @producer
    def mixed() -> Any:
        yield from [1, 2, "three", 4]

    @iterative
    def double(x: int) -> int:
        return x * 2

    graph = WorkflowGraph()
    source, target = mixed(), double()
    graph.connect(source, "output", target, "input")
    assert run(graph).output(target.id) == [2, 4, "threethree", 8]  # unchecked runs let it through
    with pytest.raises(
        TypeContractError, match=rf"PE '{target.id}' \(instance 0\) input 'input' declares int but got str: 'three'"
    ):
        run(graph, check_types=True)


def test_item_checks_are_shallow_and_accept_ints_as_floats():
    assert check_item(1, float) and not check_item(True, str)
    assert check_item((1, 2), tuple[str, str])
    assert check_item(None, Optional[int])
