"""A pipeline whose middle PE takes a few milliseconds an item: the bottleneck, by a wide margin."""

import time

from d4py import IterativePE, WorkflowGraph
from d4py.testing.pes import Numbers, Pass


class Slow(IterativePE):
    """Passes each item on after 3 ms of work (a sleep stands for it: the time counts as busy)."""

    def _process(self, data):
        time.sleep(0.003)
        return data


graph = WorkflowGraph()
source, first, slow, last = Numbers(200), Pass(), Slow(), Pass()
graph.connect(source, "output", first, "input")
graph.connect(first, "output", slow, "input")
graph.connect(slow, "output", last, "input")
