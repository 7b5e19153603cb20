"""Words of three lines, through a PE that raises on the word "dog"."""

import sys

from d4py import WorkflowGraph
from d4py.testing.pes import Fails, Lines, SplitWords

graph = WorkflowGraph()
lines, split, faulty = Lines(["the cat sat", "the dog sat down"]), SplitWords(), Fails(bad=("dog", 1))
graph.connect(lines, "output", split, "input")
graph.connect(split, "output", faulty, "input")

if __name__ == "__main__":
    from prov_fixtures import record_traced

    record_traced(graph, sys.argv[1])
