"""The PEs both cross-correlation designs share: stations, their preparation, and the sink that checks the lags."""

from __future__ import annotations

import os
from typing import Any

from xcorr_lib import STATIONS, check, prepare, trace

from d4py import GenericPE, IterativePE, ProducerPE

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


class Stations(ProducerPE):
    def _process(self, inputs: Any) -> None:
        for station in range(STATIONS):
            self.write("output", station)


class Prepare(IterativePE):
    def _process(self, station: int) -> tuple[int, Any]:
        return station, prepare(trace(station))


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
