"""The smallest workflow: a producer writes one item to a sink (dispel4py 1.x API).

What a user waits for here is start-up and teardown, nearly nothing else.
"""

from dispel4py.base import ConsumerPE, ProducerPE
from dispel4py.workflow_graph import WorkflowGraph


class One(ProducerPE):
    def _process(self, inputs):
        self.write("output", 1)


class Keep(ConsumerPE):
    def _process(self, data):
        self.kept = data


graph = WorkflowGraph()
graph.connect(One(), "output", Keep(), "input")
