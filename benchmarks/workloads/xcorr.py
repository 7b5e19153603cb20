"""Cross-correlation of every station pair as a d4py workflow.

Prepare runs on several instances; every spectrum is broadcast (grouping
'all') to the CrossCorrelate instances, and each instance correlates the
pairs it owns as soon as both spectra have arrived, so no pair ships its
spectra anywhere. Pair (i, j) belongs to instance (i + j) mod the instance
count, so the pairs of each arriving spectrum are shared out at once. One
global sink keeps each pair's peak lag.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xcorr_lib import STATIONS, check, peak_lag, prepare, trace

from d4py import GenericPE, IterativePE, ProducerPE, WorkflowGraph

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


class Stations(ProducerPE):
    def _process(self, inputs: Any) -> None:
        for station in range(STATIONS):
            self.write("output", station)


class Prepare(IterativePE):
    def _process(self, station: int) -> tuple[int, Any]:
        return station, prepare(trace(station))


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


class KeepLags(GenericPE):
    def __init__(self) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self.lags: dict[tuple[int, int], int] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        i, j, lag = inputs["input"]
        self.lags[(i, j)] = lag

    def _postprocess(self) -> None:
        check(self.lags)


stations, prepare_pe, correlate, keep = Stations(), Prepare(), CrossCorrelate(), KeepLags()
prepare_pe.numprocesses = WORKERS
graph = WorkflowGraph()
graph.connect(stations, "output", prepare_pe, "input")
graph.connect(prepare_pe, "output", correlate, "input")
graph.connect(correlate, "output", keep, "input")
