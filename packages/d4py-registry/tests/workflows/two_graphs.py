"""Two graphs in one module: CWL exports name one with -a."""

from d4py import WorkflowGraph, iterative


@iterative
def square(x: int) -> int:
    return x * x


@iterative
def negate(x: int) -> int:
    return -x


squares = WorkflowGraph()
squares.add(square())
negatives = WorkflowGraph()
negatives.add(negate())
