"""A word-frequency workflow: fan-in, group_by on string keys, and a global gather."""

from d4py import GenericPE, ProducerPE, WorkflowGraph, iterative

TEXTS = ["the quick brown fox", "jumps over the lazy dog", "the dog barks"]


class Lines(ProducerPE):
    def _process(self, inputs):
        for line in TEXTS:
            self.write("output", line)


class MoreLines(ProducerPE):
    def _process(self, inputs):
        self.write("output", "the end")


class SplitWords(GenericPE):
    def __init__(self):
        super().__init__()
        self._add_input("input")
        self._add_output("output", tuple_type=tuple[str, int])

    def _process(self, inputs):
        for word in inputs["input"].split():
            self.write("output", (word, 1))


class CountWords(GenericPE):
    def __init__(self):
        super().__init__(numprocesses=3)
        self._add_input("input", grouping=[0], tuple_type=tuple[str, int])
        self._add_output("output")
        self.counts = {}

    def _process(self, inputs):
        word, n = inputs["input"]
        self.counts[word] = self.counts.get(word, 0) + n

    def _postprocess(self):
        for word, n in self.counts.items():
            self.write("output", (word, n))


class Gather(GenericPE):
    def __init__(self):
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")
        self.all = {}

    def _process(self, inputs):
        word, n = inputs["input"]
        self.all[word] = n

    def _postprocess(self):
        self.write("output", sorted(self.all.items()))


@iterative
def shout(pair: tuple) -> str:
    return pair[0].upper()


lines, more, split, count, gather = Lines(), MoreLines(), SplitWords(), CountWords(), Gather()
graph = WorkflowGraph()
graph.connect(lines, "output", split, "input")
graph.connect(more, "output", split, "input")
graph.connect(split, "output", count, "input")
graph.connect(count, "output", gather, "input")
