"""Connected ports whose declared types disagree."""

from d4py import WorkflowGraph, iterative, producer


@producer
def names() -> str:
    return "ada"


@iterative
def square(x: int) -> int:
    return x * x


graph = WorkflowGraph()
graph.connect(names(), "output", square(), "input")
