"""Words of three lines counted: Lines -> SplitWords -> WordCounter (2 instances, by word)."""

import sys

from d4py import WorkflowGraph
from d4py.testing.pes import Lines, SplitWords, WordCounter

LINES = ["the cat sat", "the dog sat down", "a cat ran"]

graph = WorkflowGraph()
lines, split, count = Lines(LINES), SplitWords(), WordCounter(numprocesses=2)
graph.connect(lines, "output", split, "input")
graph.connect(split, "output", count, "input")

if __name__ == "__main__":
    from prov_fixtures import record_traced

    record_traced(graph, sys.argv[1])
