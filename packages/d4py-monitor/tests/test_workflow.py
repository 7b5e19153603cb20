"""The workflow as recorded: a graph described as data, and a hash of its content."""

from __future__ import annotations

from d4py import WorkflowGraph, build_plan
from d4py.testing.pes import KeyCounter, Numbers, Pair
from d4py_monitor.workflow import describe_graph, describe_workflow, graph_hash


def keyed(grouping) -> WorkflowGraph:
    graph = WorkflowGraph()
    pair = Pair()
    graph.connect(Numbers(3), "output", pair, "input")
    graph.connect(pair, "output", KeyCounter(grouping=grouping, numprocesses=2), "input")
    return graph


def test_the_hash_follows_the_graph_not_the_ids_or_the_budget():
    one, again, wider = (describe_graph(build_plan(keyed([0]), processes=n)) for n in (None, None, 8))
    assert [pe["id"] for pe in one["pes"]] != [pe["id"] for pe in again["pes"]]  # built twice: new ids
    assert graph_hash(one) == graph_hash(again) == graph_hash(wider)
    assert graph_hash(one) != graph_hash(describe_graph(build_plan(keyed("global"))))


def test_a_workflow_given_as_a_file_is_named_after_it(tmp_path):
    source = tmp_path / "stations.py"
    source.write_text("")
    described = describe_workflow(build_plan(keyed([0])), str(source), "graph")
    assert (described["name"], described["source"], described["attr"]) == ("stations:graph", str(source), "graph")
    assert described["hash"] == graph_hash(described["graph"])
    assert describe_workflow(build_plan(keyed([0])), "some.module", None)["name"] == "some.module"
