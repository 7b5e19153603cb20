"""Station statistics: a small monitoring workflow on synthetic sensor data.

    d4py run d4py.examples.station_stats -i 3

Each call of ``Stations`` emits one window of readings for every station,
with a few injected spikes. Readings are calibrated (two instances), then
teed: ``Summarise`` keeps per-station statistics (grouped by station, three
instances) and ``Detect`` flags readings above a threshold. ``Report``
gathers both globally and emits one row per station.
"""

from __future__ import annotations

import math
import random
from typing import Any

from d4py import GenericPE, ProducerPE, WorkflowGraph, iterative

Reading = tuple[str, int, float]
STATIONS = [f"NET.S{n:02d}" for n in range(12)]
SAMPLES = 500
THRESHOLD = 40.0


class Stations(ProducerPE):
    """Emit one window of ``(station, sample, counts)`` readings per call; spikes are injected."""

    def __init__(self, seed: int = 2026) -> None:
        super().__init__()
        self.outputconnections["output"]["type"] = tuple[str, int, float]
        self.seed = seed
        self.window = 0

    def _process(self, inputs: dict[str, Any]) -> None:
        rng = random.Random(self.seed + self.window)
        start = self.window * SAMPLES
        for station in STATIONS:
            spike = rng.randrange(SAMPLES) if rng.random() < 0.5 else -1
            for sample in range(SAMPLES):
                counts = 100 * math.sin(sample / 20) + rng.gauss(0, 30)
                if sample == spike:
                    counts += 400 * rng.choice((-1, 1))
                self.write("output", (station, start + sample, counts))
        self.window += 1


@iterative
def calibrate(reading: Reading, gain: float = 0.1) -> Reading:
    """Convert counts to physical units."""
    station, sample, counts = reading
    return station, sample, counts * gain


@iterative
def detect(reading: Reading, threshold: float = THRESHOLD) -> Reading | None:
    """Pass on readings whose magnitude exceeds ``threshold``."""
    return reading if abs(reading[2]) > threshold else None


class Summarise(GenericPE):
    """Per-station count, mean and peak; emitted once every reading has arrived."""

    def __init__(self) -> None:
        super().__init__(numprocesses=3)
        self._add_input("input", grouping=[0], tuple_type=tuple[str, int, float])
        self._add_output("output")
        self.stats: dict[str, list[float]] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        station, _, value = inputs["input"]
        count, total, peak = self.stats.get(station, [0, 0.0, 0.0])
        self.stats[station] = [count + 1, total + value, max(peak, abs(value))]

    def _postprocess(self) -> None:
        for station, (count, total, peak) in self.stats.items():
            self.write("output", ("summary", station, int(count), round(total / count, 3), round(peak, 3)))


class Report(GenericPE):
    """Join summaries and detections into one row per station, sorted by name."""

    def __init__(self) -> None:
        super().__init__()
        self._add_input("summaries", grouping="global")
        self._add_input("detections", grouping="global")
        self._add_output("output")
        self.rows: dict[str, dict[str, Any]] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        if "summaries" in inputs:
            _, station, count, mean, peak = inputs["summaries"]
            self.rows.setdefault(station, {"detections": 0}).update(readings=count, mean=mean, peak=peak)
        else:
            station = inputs["detections"][0]
            self.rows.setdefault(station, {"detections": 0})["detections"] += 1

    def _postprocess(self) -> None:
        for station in sorted(self.rows):
            self.write("output", {"station": station, **self.rows[station]})


stations, calibrated, detected = Stations(), calibrate(), detect()
calibrated.numprocesses = 2
summarise, report = Summarise(), Report()

graph = WorkflowGraph()
graph.connect(stations, "output", calibrated, "input")
graph.connect(calibrated, "output", summarise, "input")
graph.connect(calibrated, "output", detected, "input")
graph.connect(summarise, "output", report, "summaries")
graph.connect(detected, "output", report, "detections")
