"""Numbers given as run input, scaled and summed.

A CWL engine must pass this text on as it is, never evaluating $(inputs.x) or ${return 1}.
"""

from d4py import GenericPE, WorkflowGraph, iterative


@iterative
def scale(x: int, factor: int = 10) -> int:
    return x * factor


class Total(GenericPE):
    def __init__(self):
        super().__init__()
        self._add_input("input", grouping="global", tuple_type=int)
        self._add_output("total", tuple_type=int)
        self._add_output("seen", tuple_type=int)
        self.sum = 0

    def _process(self, inputs):
        self.sum += inputs["input"]
        self.write("seen", inputs["input"])

    def _postprocess(self):
        self.write("total", self.sum)


graph = WorkflowGraph()
graph.connect(scale(factor=10), "output", Total(), "input")
