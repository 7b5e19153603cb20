"""A pipeline whose sink raises in postprocess, after taking every item."""

from d4py import WorkflowGraph
from d4py.pe import ConsumerPE
from d4py.testing.pes import Numbers


class Summary(ConsumerPE):
    def _process(self, data):
        pass

    def _postprocess(self):
        raise ValueError("no summary of 5 items")


graph = WorkflowGraph()
graph.connect(Numbers(5), "output", Summary(), "input")
