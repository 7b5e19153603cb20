"""ITEMS small ints through three one-to-one stages into one sink (dispel4py 1.x API)."""

import os

from dispel4py.base import ConsumerPE, IterativePE, ProducerPE
from dispel4py.workflow_graph import WorkflowGraph

ITEMS = int(os.environ.get("BENCH_ITEMS", "200000"))


class Numbers(ProducerPE):
    def _process(self, inputs):
        for i in range(ITEMS):
            self.write("output", i)


class AddOne(IterativePE):
    def _process(self, data):
        return data + 1


class Count(ConsumerPE):
    def __init__(self):
        ConsumerPE.__init__(self)
        self.count = 0

    def _process(self, data):
        self.count += 1

    def _postprocess(self):
        if self.count != ITEMS:
            raise RuntimeError(f"the sink counted {self.count} items, expected {ITEMS}")


producer = Numbers()
stages = [AddOne(), AddOne(), AddOne()]
sink = Count()
graph = WorkflowGraph()
graph.connect(producer, "output", stages[0], "input")
graph.connect(stages[0], "output", stages[1], "input")
graph.connect(stages[1], "output", stages[2], "input")
graph.connect(stages[2], "output", sink, "input")
if os.environ.get("BENCH_SPLIT"):  # one process per PE: measures the transport, not fusion
    graph.partitions = [[producer], *([s] for s in stages), [sink]]
