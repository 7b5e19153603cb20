"""What the run page works out: the bottleneck as defined in analysis.py, the graph's columns, the matrix."""

from __future__ import annotations

from d4py_monitor.dashboard.analysis import bottleneck, compare, filter_summaries, layers, matrix, totals
from d4py_monitor.record import InstanceRecord, RunRecord, RunSummary


def run_of(instances: list[InstanceRecord], connections: list[tuple[str, str]]) -> RunRecord:
    pes = list(dict.fromkeys(i.pe for i in instances))
    graph = {
        "pes": [{"id": pe} for pe in pes],
        "connections": [
            {"from": a, "output": "output", "to": b, "input": "input", "grouping": "shuffle"} for a, b in connections
        ],
    }
    workflow = {"name": "w", "source": None, "attr": None, "hash": "0", "graph": graph}
    run = RunRecord("r", workflow, "multi", {}, None, {}, 0.0, 1.0, "ok", None, "h", 1, {})
    run.instances = instances
    return run


def instance(pe: str, index: int, busy: float, blocked: float = 0.0) -> InstanceRecord:
    return InstanceRecord(pe, index, "h", 1, busy_s=busy, blocked_s=blocked)


def test_the_bottleneck_is_the_most_busy_time_per_instance_not_in_all():
    # Wide: 4 instances, 2.0 s busy in all but 0.5 s each; Narrow: one instance, 0.8 s.
    run = run_of(
        [
            instance("Source", 0, 0.1, blocked=0.7),
            *(instance("Wide", n, 0.5, blocked=0.1) for n in range(4)),
            instance("Narrow", 0, 0.8),
        ],
        [("Source", "Wide"), ("Wide", "Narrow")],
    )
    found = bottleneck(run)
    assert found is not None and found["pe"] == "Narrow"
    assert found["feeders"] == ["Wide"] and round(found["feeders_blocked_s"], 6) == 0.4
    assert (
        found["reason"]
        == "0.800 s busy per instance (1 instance); the PEs feeding it (Wide) were blocked 0.400 s sending"
    )


def test_a_root_can_be_the_bottleneck_and_among_equals_the_first_in_the_graph_is():
    run = run_of([instance("Source", 0, 0.9), instance("Sink", 0, 0.9)], [("Source", "Sink")])
    found = bottleneck(run)
    assert found is not None and found["pe"] == "Source" and found["feeders"] == []
    assert found["reason"] == "0.900 s busy per instance (1 instance)"


def test_no_busy_time_names_no_bottleneck():
    assert bottleneck(run_of([instance("Source", 0, 0.0)], [])) is None
    assert bottleneck(run_of([], [])) is None


def test_columns_follow_the_longest_path_from_a_root():
    graph = {
        "pes": [{"id": pe} for pe in "ABCDE"],
        "connections": [{"from": a, "to": b} for a, b in [("A", "B"), ("B", "C"), ("A", "C"), ("C", "D"), ("E", "D")]],
    }
    assert layers(graph) == {"A": 0, "B": 1, "C": 2, "D": 3, "E": 0}


def test_the_matrix_adds_up_what_each_instance_sent_to_each():
    a = InstanceRecord("A", 0, "h", 1, sent=[{"pe": "B", "index": 1, "items": 3, "bytes": 30}])
    b0, b1 = InstanceRecord("B", 0, "h", 1), InstanceRecord("B", 1, "h", 1)
    assert matrix([a, b0, b1]) == {"senders": ["A[0]"], "receivers": ["B[1]"], "cells": [["A[0]", "B[1]", 3, 30]]}
    assert matrix([b0, b1]) is None  # not recorded: the page says so


def test_totals_add_instances_and_their_seconds_per_pe():
    first = InstanceRecord("P", 0, "h", 1, reads={"input": 2}, busy_s=0.5, series=[(10, 2, 0, 0.5, 0.0, 0.0)])
    second = InstanceRecord("P", 1, "h", 1, reads={"input": 3}, busy_s=0.25, series=[(10, 3, 0, 0.25, 0.0, 0.0)])
    (p,) = totals(run_of([first, second], [])).values()
    assert (p.instances, p.items_in, p.busy_per_instance) == (2, 5, 0.375)
    assert p.to_json()["series"] == [[10, 5, 0, 0.75, 0.0, 0.0]]


def test_compare_puts_the_pes_of_a_first_then_those_only_in_b():
    a = run_of([instance("X", 0, 0.1), instance("Y", 0, 0.1)], [])
    b = run_of([instance("Y", 0, 0.2), instance("Z", 0, 0.2)], [])
    b.workflow["hash"] = "1"
    compared = compare(a, b)
    assert [(pe["pe"], pe["a"] is not None, pe["b"] is not None) for pe in compared["pes"]] == [
        ("X", True, False),
        ("Y", True, True),
        ("Z", False, True),
    ]
    assert compared["same_graph"] is False


def test_filters_match_text_anywhere_in_any_case_and_the_rest_exactly():
    runs = [
        RunSummary("abc123", "wordcount", "multi", "ok", 0, 1),
        RunSummary("def456", "xcorr", "mpi", "failed", 0, 1),
        RunSummary("0fa789", "word", "simple", "ok", 0, 1),
    ]
    assert [r.id for r in filter_summaries(runs, "WORD")] == ["abc123", "0fa789"]
    assert [r.id for r in filter_summaries(runs, "fa")] == ["def456", "0fa789"]  # 'failed' and the id
    assert [r.id for r in filter_summaries(runs, workflow="word")] == ["0fa789"]
    assert [r.id for r in filter_summaries(runs, "word", status="ok", backend="multi")] == ["abc123"]
    assert filter_summaries(runs, backend="spark") == []
