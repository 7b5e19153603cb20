"""dispel4py.workflow_graph, served by d4py."""

from typing import Any

from d4py import graph as d4py_graph
from d4py.drawing import render, to_dot
from d4py.graph import PENumbers as WorkflowNode

__all__ = ["WorkflowGraph", "WorkflowNode", "draw", "drawDot"]


class WorkflowGraph(d4py_graph.WorkflowGraph):
    """dispel4py.workflow_graph.WorkflowGraph: ports are checked when the graph is planned, not at ``connect``.

    1.x never checked them, and its code connects first and declares after;
    a port that is still missing when the graph runs is a usage error naming
    the PE and the port.
    """

    def connect(self, source: Any, output: str, target: Any, input: str) -> None:  # noqa: A002
        if source is target:
            super().connect(source, output, target, input)  # d4py's message: graphs have no cycles
        self.add(source)
        self.add(target)
        self.graph.add_edge(source, target, output=output, input=input)


def draw(graph: WorkflowGraph) -> str:
    """Return the graph in Graphviz DOT."""
    return to_dot(graph)


def drawDot(graph: WorkflowGraph) -> bytes:  # noqa: N802 - dispel4py name
    """Return the graph drawn as PNG (needs Graphviz's ``dot``)."""
    return render(graph, "png")
