"""A workflow whose second PE says "ready" on stderr and then blocks until stopped."""

import sys
import threading

from d4py import IterativePE, WorkflowGraph
from d4py.testing.pes import Numbers


class Blocks(IterativePE):
    def _process(self, data):
        print("ready", file=sys.stderr, flush=True)
        threading.Event().wait()


graph = WorkflowGraph()
source, blocks = Numbers(1), Blocks()
graph.connect(source, "output", blocks, "input")
graph.partitions = [[source], [blocks]]
