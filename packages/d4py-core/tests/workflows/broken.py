"""A workflow whose second PE raises on one item."""

from d4py import IterativePE, ProducerPE, WorkflowGraph


class Count(ProducerPE):
    def _process(self, inputs):
        for i in range(10):
            self.write("output", i)


class Reciprocal(IterativePE):
    def _process(self, x):
        return 1 / (x - 4)


graph = WorkflowGraph()
graph.connect(Count(), "output", Reciprocal(), "input")
