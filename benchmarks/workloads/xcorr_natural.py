"""Cross-correlation of every station pair as the papers draw it, and as a seismologist writes it.

Stations are prepared on several instances; one PE gathers the spectra and,
as each arrives, forms its pair with every spectrum before it, writing
``(i, j, spectrum_i, spectrum_j)`` to parallel CrossCorrelate instances; a
global sink keeps each pair's peak lag. Each spectrum is in STATIONS - 1
pairs: this is the design in which large arrays are written many times.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xcorr_lib import peak_lag
from xcorr_pes import WORKERS, KeepLags, Prepare, Stations

from d4py import GenericPE, IterativePE, WorkflowGraph


class Pairs(GenericPE):
    def __init__(self) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")
        self.spectra: dict[int, Any] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        station, spectrum = inputs["input"]
        for other, known in self.spectra.items():
            i, j = min(station, other), max(station, other)
            first, second = (spectrum, known) if i == station else (known, spectrum)
            self.write("output", (i, j, first, second))
        self.spectra[station] = spectrum


class CrossCorrelate(IterativePE):
    def _process(self, pair: tuple[int, int, Any, Any]) -> tuple[int, int, int]:
        i, j, first, second = pair
        return i, j, peak_lag(first, second)


stations, prepare_pe, pairs, correlate, keep = Stations(), Prepare(), Pairs(), CrossCorrelate(), KeepLags()
prepare_pe.numprocesses = correlate.numprocesses = WORKERS
graph = WorkflowGraph()
graph.connect(stations, "output", prepare_pe, "input")
graph.connect(prepare_pe, "output", pairs, "input")
graph.connect(pairs, "output", correlate, "input")
graph.connect(correlate, "output", keep, "input")
