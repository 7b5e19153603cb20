"""A workflow whose second PE says "ready" on stderr and then blocks until stopped."""

from d4py import WorkflowGraph
from d4py.testing.pes import Blocks, Numbers

graph = WorkflowGraph()
source, blocks = Numbers(1), Blocks()
graph.connect(source, "output", blocks, "input")
graph.partitions = [[source], [blocks]]
