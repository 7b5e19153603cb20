"""Word count: LINES lines of synthetic text, split, counted by parallel group_by instances,
gathered by one global sink (dispel4py 1.x API)."""

import os
import random

from dispel4py.base import ProducerPE
from dispel4py.core import GenericPE
from dispel4py.workflow_graph import WorkflowGraph

LINES = int(os.environ.get("BENCH_LINES", "20000"))
COUNTERS = int(os.environ.get("BENCH_COUNTERS", "2"))
VOCABULARY = [f"word{n}" for n in range(2000)]


class Lines(ProducerPE):
    def _process(self, inputs):
        rng = random.Random(42)
        for _ in range(LINES):
            self.write("output", " ".join(rng.choices(VOCABULARY, k=10)))


class SplitWords(GenericPE):
    def __init__(self):
        GenericPE.__init__(self)
        self._add_input("input")
        self._add_output("output")

    def _process(self, inputs):
        for word in inputs["input"].split():
            self.write("output", (word, 1))


class CountWords(GenericPE):
    def __init__(self):
        GenericPE.__init__(self)
        self._add_input("input", grouping=[0])
        self._add_output("output")
        self.counts = {}

    def _process(self, inputs):
        word = inputs["input"][0]
        self.counts[word] = self.counts.get(word, 0) + 1

    def _postprocess(self):
        for word, count in self.counts.items():
            self.write("output", (word, count))


class Gather(GenericPE):
    def __init__(self):
        GenericPE.__init__(self)
        self._add_input("input", grouping="global")
        self.total = 0
        self.words = 0

    def _process(self, inputs):
        self.total += inputs["input"][1]
        self.words += 1

    def _postprocess(self):
        if self.total != 10 * LINES:
            raise RuntimeError(f"gathered {self.total} words, expected {10 * LINES}")


lines, split, count, gather = Lines(), SplitWords(), CountWords(), Gather()
count.numprocesses = COUNTERS
graph = WorkflowGraph()
graph.connect(lines, "output", split, "input")
graph.connect(split, "output", count, "input")
graph.connect(count, "output", gather, "input")
