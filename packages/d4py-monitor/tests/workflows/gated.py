"""Five numbers through a PE that, on the first, waits until the test opens the pipe named by $D4PY_TEST_GATE."""

import os

from d4py import IterativePE, WorkflowGraph
from d4py.testing.pes import Numbers


class Gate(IterativePE):
    """Pass items on; before the first, block until the test writes a line to the gate (a named pipe)."""

    def __init__(self):
        super().__init__()
        self.opened = False

    def _process(self, data):
        if not self.opened:
            with open(os.environ["D4PY_TEST_GATE"]) as gate:
                gate.readline()
            self.opened = True
        return data


graph = WorkflowGraph()
graph.connect(Numbers(5), "output", Gate(), "input")
