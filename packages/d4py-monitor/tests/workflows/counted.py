"""A pipeline of 300 numbers into a PE of three instances that counts them by key."""

from d4py import WorkflowGraph
from d4py.testing.pes import KeyCounter, Numbers, Pair, Pass

ITEMS = 300

graph = WorkflowGraph()
source, middle, pair, counter = Numbers(ITEMS), Pass(), Pair(), KeyCounter(grouping=[0], numprocesses=3)
graph.connect(source, "output", middle, "input")
graph.connect(middle, "output", pair, "input")
graph.connect(pair, "output", counter, "input")
