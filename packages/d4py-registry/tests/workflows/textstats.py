"""Text statistics: words counted by key, and their lengths.

The PEs here cover what the registry must describe: ports declared in
__init__, a function PE, a plain function used through SimpleFunctionPE,
and PEs whose __init__ needs arguments.
"""
# SPDX-License-Identifier: Apache-2.0

from d4py import GenericPE, ProducerPE, SimpleFunctionPE, WorkflowGraph, iterative

__author__ = "Ada Lovelace"


class Sentences(ProducerPE):
    """Emit each of the given sentences."""

    def __init__(self, sentences):
        super().__init__()
        self.sentences = sentences

    def _process(self, inputs):
        for sentence in self.sentences:
            self.write("output", sentence)


class SplitWords(GenericPE):
    """Split sentences into (word, 1) pairs."""

    def __init__(self):
        super().__init__()
        self._add_input("text", tuple_type=str)
        self._add_output("pairs", tuple_type=tuple[str, int])

    def _process(self, inputs):
        for word in inputs["text"].split():
            self.write("pairs", (word.lower(), 1))


class CountWords(GenericPE):
    """Count each word: one instance sees every pair of its words."""

    def __init__(self):
        super().__init__(numprocesses=2)
        self._add_input("pairs", grouping=[0], tuple_type=tuple[str, int])
        self._add_output("counts", tuple_type=tuple[str, int])
        self.counts = {}

    def _process(self, inputs):
        word, n = inputs["pairs"]
        self.counts[word] = self.counts.get(word, 0) + n

    def _postprocess(self):
        for word, n in sorted(self.counts.items()):
            self.write("counts", (word, n))


class Threshold(GenericPE):
    """Keep counts of at least a minimum (not used in the graph)."""

    def __init__(self, minimum):
        super().__init__()
        self._add_input("counts", "global", tuple[str, int])
        self._add_output("kept", tuple_type=tuple[str, int])
        self.minimum = minimum


@iterative
def word_length(pair: tuple[str, int]) -> int:
    """The length of a counted word."""
    return len(pair[0])


def shout(word):
    """A word in capitals."""
    return word.upper()


sentences = Sentences(["the cat sat", "The dog sat"])
split, count = SplitWords(), CountWords()
graph = WorkflowGraph()
graph.connect(sentences, "output", split, "text")
graph.connect(split, "pairs", count, "pairs")
graph.connect(count, "counts", word_length(), "input")
graph.connect(sentences, "output", SimpleFunctionPE(shout), "input")
