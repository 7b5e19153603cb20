"""Ten numbers through a PE that describes what it writes, and whose description raises for multiples of 3."""

from d4py import IterativePE, WorkflowGraph
from d4py.testing.pes import Numbers


class Describe(IterativePE):
    def _process(self, number):
        return number * 10

    def item_metadata(self, port, item):
        if item % 30 == 0:
            raise ValueError(f"no description of {item}")
        return {"tens": item // 10, "even": item % 20 == 0}


graph = WorkflowGraph()
graph.connect(Numbers(10), "output", Describe(), "input")
