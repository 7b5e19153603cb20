"""Word count that provenance can trace: each count back to exactly the lines that hold its word.

    d4py run d4py.examples.wordcount -d '{"Split": ["the quick brown fox", "the lazy dog"]}'
    d4py run d4py.examples.wordcount -f lines.json -b multi --provenance full   # with d4py-monitor
    d4py prov explain last

``Split`` writes ``(word, 1)`` for each word of each line it is given;
``Count`` (three instances, grouped by word) adds them up and writes
``(word, total)`` per word at the end. It names each total's parents (the
inputs noted under its word: ``note_input`` and ``write_derived``), so a
traced run derives each total from that word's items only, not from
everything the instance read, and describes each total (``item_metadata``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from d4py import GenericPE, IterativePE, WorkflowGraph


class Split(IterativePE):
    """Write ``(word, 1)`` for each word of a line."""

    def _process(self, line: str) -> None:
        for word in line.split():
            self.write("output", (word, 1))


class Count(GenericPE):
    """Add up ``(word, n)`` per word; write ``(word, total)`` per word once every line is in."""

    def __init__(self) -> None:
        super().__init__(numprocesses=3)
        self._add_input("input", grouping=[0])
        self._add_output("output")

    def _preprocess(self) -> None:
        self.totals: dict[str, int] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        word, n = inputs["input"]
        self.totals[word] = self.totals.get(word, 0) + n
        self.note_input(word)  # for provenance: this input counts toward `word`

    def _postprocess(self) -> None:
        for word, total in sorted(self.totals.items()):
            self.write_derived("output", (word, total), word)  # derived from that word's inputs only

    def item_metadata(self, port: str, item: Any) -> Mapping[str, Any]:
        word, total = item
        return {"word": word, "count": total}


graph = WorkflowGraph()
graph.connect(Split(), "output", Count(), "input")
