"""WorkflowGraph: connect, composites, flattening, partitions, cycles."""

from __future__ import annotations

import pytest

from d4py import CompositePE, CycleError, GraphError, PortError, WorkflowGraph, build_plan, create_iterative_chain
from d4py.testing.pes import Add, Numbers, Pass


def test_connect_rejects_unknown_ports_listing_valid_ones():
    graph = WorkflowGraph()
    with pytest.raises(PortError, match=r"PE 'Numbers\d*' has no output 'out'; its outputs are: 'output'"):
        graph.connect(Numbers(1), "out", Pass(), "input")
    with pytest.raises(PortError, match=r"has no input 'in'; its inputs are: 'input'"):
        graph.connect(Numbers(1), "output", Pass(), "in")


def test_connect_rejects_what_is_not_a_pe():
    with pytest.raises(GraphError, match="expected a PE"):
        WorkflowGraph().connect(object(), "output", Pass(), "input")


def test_ids_are_unique_and_keep_the_name():
    graph = WorkflowGraph()
    a, b = Pass(), Pass()
    graph.connect(a, "output", b, "input")
    assert a.id != b.id and a.id.startswith("Pass") and b.id.startswith("Pass")


def test_cycles_are_rejected_naming_the_pes():
    graph = WorkflowGraph()
    a, b, c = Add(1), Add(2), Add(3)
    graph.connect(a, "output", b, "input")
    graph.connect(b, "output", c, "input")
    graph.connect(c, "output", a, "input")
    with pytest.raises(CycleError, match=rf"{a.id} -> {b.id} -> {c.id} -> {a.id}"):
        build_plan(graph)


def test_self_loop_is_rejected_at_connect():
    a = Add(1)
    with pytest.raises(GraphError, match="to itself"):
        WorkflowGraph().connect(a, "output", a, "input")


def test_composites_flatten_through_nested_mappings():
    inner = create_iterative_chain([lambda x: x])
    outer = CompositePE()
    outer._map_input("input", inner, "input")
    outer._map_output("output", inner, "output")
    graph = WorkflowGraph()
    source, sink = Numbers(1), Pass()
    graph.connect(source, "output", outer, "input")
    graph.connect(outer, "output", sink, "input")
    pes, connections = graph.flatten_connections()
    assert len(pes) == 3
    assert [(c.source.id, c.target.id) for c in connections] == [
        (source.id, connections[0].target.id),
        (connections[0].target.id, sink.id),
    ]


def test_composite_port_names_are_checked():
    chain = create_iterative_chain([lambda x: x])
    with pytest.raises(PortError, match="composite 'CompositePE' has no input 'data'; its inputs are: 'input'"):
        WorkflowGraph().connect(Numbers(1), "output", chain, "data")


def test_in_place_flatten_for_dispel4py_code():
    graph = WorkflowGraph()
    graph.connect(Numbers(1), "output", create_iterative_chain([lambda x: x, lambda x: x]), "input")
    graph.flatten()
    assert len(graph.getContainedObjects()) == 3


def test_empty_graph_is_rejected():
    with pytest.raises(GraphError, match="empty"):
        build_plan(WorkflowGraph())


def test_propagate_types_passes_declared_types_downstream_in_order():
    class Follows(Pass):
        """Declares as output type whatever its input receives, as 1.x PEs could."""

        def setInputTypes(self, types):
            self.received = types

        def getOutputTypes(self):
            return {"output": self.received["input"]}

    source, first, second = Numbers(1), Follows(), Follows()
    source.outputconnections["output"]["type"] = ["number"]
    graph = WorkflowGraph()
    graph.connect(first, "output", second, "input")  # connected before its source: order must not matter
    graph.connect(source, "output", first, "input")
    graph.propagate_types()
    assert first.received == {"input": ["number"]} and second.received == {"input": ["number"]}
