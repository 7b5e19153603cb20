"""A module with two graphs: the loader must be told which."""

from d4py import WorkflowGraph
from d4py.testing.pes import Numbers, Pass

first = WorkflowGraph()
first.connect(Numbers(3), "output", Pass(), "input")
second = WorkflowGraph()
second.connect(Numbers(4), "output", Pass(), "input")
