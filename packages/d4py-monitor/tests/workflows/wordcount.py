"""Word counts: lines (run input -d, or the producer of ``produced``) split into words, counted per word.

The counter names the parents of each count (``note_input``, ``write_derived``), so provenance traces a
count to exactly the lines that contain its word, and describes each count (``item_metadata``).
"""

from d4py import GenericPE, IterativePE, ProducerPE, WorkflowGraph

LINES = ["the quick brown fox", "the lazy dog", "a quick dog", "fox and dog", "the end"]


class Lines(ProducerPE):
    def _process(self, inputs):
        for line in LINES:
            self.write("output", line)


class Split(IterativePE):
    def _process(self, line):
        for word in line.split():
            self.write("output", (word, 1))


class Count(GenericPE):
    def __init__(self):
        super().__init__()
        self._add_input("input", grouping=[0])
        self._add_output("output")
        self.numprocesses = 3

    def _preprocess(self):
        self.counts = {}

    def _process(self, inputs):
        word, n = inputs["input"]
        self.counts[word] = self.counts.get(word, 0) + n
        self.note_input(word)

    def _postprocess(self):
        for word, total in sorted(self.counts.items()):
            self.write_derived("output", (word, total), word)

    def item_metadata(self, port, item):
        word, total = item
        return {"word": word, "count": total}


def word_count(source=None):
    flow, split, count = WorkflowGraph(), Split(), Count()
    split.numprocesses = 2
    if source is not None:
        flow.connect(source, "output", split, "input")
    flow.connect(split, "output", count, "input")
    return flow


graph = word_count()
produced = word_count(Lines())
