"""A fast producer of ITEMS items into a slow consumer (dispel4py 1.x API)."""

import os

from dispel4py.base import ConsumerPE, ProducerPE
from dispel4py.workflow_graph import WorkflowGraph

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
PAYLOAD = "x" * 100


class Fast(ProducerPE):
    def _process(self, inputs):
        for i in range(ITEMS):
            self.write("output", (i, PAYLOAD))


class Slow(ConsumerPE):
    def _process(self, data):
        total = 0
        for k in range(40):  # a few microseconds of work per item
            total += k * data[0]


producer, consumer = Fast(), Slow()
graph = WorkflowGraph()
graph.connect(producer, "output", consumer, "input")
graph.partitions = [[producer], [consumer]]
