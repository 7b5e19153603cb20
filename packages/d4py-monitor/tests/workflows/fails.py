"""A pipeline whose last PE raises on the item 13."""

from d4py import WorkflowGraph
from d4py.testing.pes import Fails, Numbers, Pass

graph = WorkflowGraph()
source, middle, faulty = Numbers(40), Pass(), Fails(bad=13)
graph.connect(source, "output", middle, "input")
graph.connect(middle, "output", faulty, "input")
