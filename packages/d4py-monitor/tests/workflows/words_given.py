"""Words of the lines given as run input counted: SplitWords -> WordCounter (2 instances, by word).

As a script: ``words_given.py OUT [SHARE]`` traces SHARE of the lines' chains (all by default).
"""

import sys

from d4py import WorkflowGraph
from d4py.testing.pes import SplitWords, WordCounter

LINES = ["the cat sat", "the dog sat down", "a cat ran"]

graph = WorkflowGraph()
split, count = SplitWords(), WordCounter(numprocesses=2)
graph.connect(split, "output", count, "input")

if __name__ == "__main__":
    from prov_fixtures import record_traced

    share = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    record_traced(graph, sys.argv[1], {split: [{"input": line} for line in LINES]}, share)
