"""Functions chained into a composite, fed by a PE from d4py's test kit."""

from d4py import WorkflowGraph, create_iterative_chain
from d4py.testing.pes import Numbers


def double(x):
    """Twice the item."""
    return 2 * x


def plus(x, n):
    return x + n


chain = create_iterative_chain([double, (plus, {"n": 1})])
graph = WorkflowGraph()
graph.connect(Numbers(3), "output", chain, "input")
