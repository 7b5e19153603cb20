"""The small multigraph behind WorkflowGraph.graph, and planning's cycle and order."""

from __future__ import annotations

from d4py import WorkflowGraph
from d4py.digraph import MultiDiGraph, find_cycle, topological_order
from d4py.testing.pes import Numbers, Pass


def test_graph_graph_answers_what_dispel4py_scripts_ask_of_networkx():
    graph = WorkflowGraph()
    source, first, second = Numbers(3), Pass(), Pass()
    graph.connect(source, "output", first, "input")
    graph.connect(source, "output", second, "input")
    nx_like = graph.graph
    assert list(nx_like.nodes) == nx_like.nodes() == [source, first, second] and len(nx_like) == 3
    assert nx_like.edges(data=True) == [
        (source, first, {"output": "output", "input": "input"}),
        (source, second, {"output": "output", "input": "input"}),
    ]
    assert [target for _, target in nx_like.out_edges(source)] == [first, second]
    assert nx_like.in_edges(source) == [] and list(nx_like.predecessors(first)) == [source]
    assert list(nx_like.successors(source)) == [first, second] and nx_like.number_of_edges() == 2


def test_parallel_edges_are_kept():
    graph = MultiDiGraph()
    graph.add_edge("a", "b", output="x")
    graph.add_edge("a", "b", output="y")
    assert graph.edges() == [("a", "b"), ("a", "b")] and list(graph.successors("a")) == ["b"]


def test_topological_order_takes_the_smallest_ready_node_first():
    links = [("c", "a"), ("b", "a")]
    assert topological_order("abc", links) == ["b", "c", "a"]
    assert topological_order("abc", links, key=lambda node: -ord(node)) == ["c", "b", "a"]
    assert topological_order("abc", [*links, ("a", "b")]) is None


def test_find_cycle_names_the_nodes_around_it():
    assert find_cycle("abcd", [("a", "b"), ("b", "c"), ("c", "d")]) is None
    assert find_cycle("abcd", [("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")]) == ["b", "c", "d"]
