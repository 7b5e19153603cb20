"""A workflow whose second PE says "ready" into the FIFO named by D4PY_READY_FIFO, then blocks until stopped.

Spark captures what tasks print, so the test listens on a FIFO, not on stderr.
"""

import os
import threading

from d4py import IterativePE, WorkflowGraph
from d4py.testing.pes import Numbers


class Waits(IterativePE):
    def _process(self, data):
        with open(os.environ["D4PY_READY_FIFO"], "w") as fifo:
            fifo.write("ready\n")
        threading.Event().wait()


graph = WorkflowGraph()
graph.connect(Numbers(1), "output", Waits(), "input")
