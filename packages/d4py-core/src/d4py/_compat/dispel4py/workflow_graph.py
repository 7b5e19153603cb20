"""dispel4py.workflow_graph, served by d4py."""

from d4py.drawing import render, to_dot
from d4py.graph import WorkflowGraph

__all__ = ["WorkflowGraph", "draw", "drawDot"]


def draw(graph: WorkflowGraph) -> str:
    """Return the graph in Graphviz DOT."""
    return to_dot(graph)


def drawDot(graph: WorkflowGraph) -> bytes:  # noqa: N802 - dispel4py name
    """Return the graph drawn as PNG (needs Graphviz's ``dot``)."""
    return render(graph, "png")
