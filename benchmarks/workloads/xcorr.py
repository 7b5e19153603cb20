"""Cross-correlation of every station pair as a d4py workflow.

Prepare runs on several instances; every spectrum is broadcast (grouping
'all') to the CrossCorrelate instances, and each instance correlates the
pairs it owns as soon as both spectra have arrived, so no pair ships its
spectra anywhere. Pair (i, j) belongs to instance (i + j) mod the instance
count, so the pairs of each arriving spectrum are shared out at once. One
global sink keeps each pair's peak lag.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xcorr_lib import peak_lag
from xcorr_pes import WORKERS, KeepLags, Prepare, Stations

from d4py import GenericPE, WorkflowGraph


class CrossCorrelate(GenericPE):
    def __init__(self) -> None:
        super().__init__(numprocesses=WORKERS)
        self._add_input("input", grouping="all")
        self._add_output("output")
        self.spectra: dict[int, Any] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        station, spectrum = inputs["input"]
        for other, known in self.spectra.items():
            i, j = min(station, other), max(station, other)
            if (i + j) % self.instance_count == self.instance_index:
                first, second = (spectrum, known) if i == station else (known, spectrum)
                self.write("output", (i, j, peak_lag(first, second)))
        self.spectra[station] = spectrum


stations, prepare_pe, correlate, keep = Stations(), Prepare(), CrossCorrelate(), KeepLags()
prepare_pe.numprocesses = WORKERS
graph = WorkflowGraph()
graph.connect(stations, "output", prepare_pe, "input")
graph.connect(prepare_pe, "output", correlate, "input")
graph.connect(correlate, "output", keep, "input")
