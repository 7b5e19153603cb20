"""A synthetic earthquake: synthetic seismograms, and "observed" ones that differ by known amounts.

Each station's three components carry a P and an S wavelet and a surface-wave
train, arriving later with distance. The observed records are the synthetic
ones delayed by a whole number of samples and scaled by a factor, both known
per station, plus a little noise: the misfit workflow must recover them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from obspy import Stream, Trace, UTCDateTime
from obspy.core.util import AttribDict

from d4py import ProducerPE
from d4py_seismo.misfit import Hypocentre

__all__ = ["EventWaveforms", "SyntheticEvent"]

Kind = Literal["observed", "synthetic"]
COMPONENTS = "ZNE"
P_KM_S, S_KM_S, SURFACE_KM_S = 6.0, 3.5, 3.0
KM_PER_DEGREE = 111.19


@dataclass(frozen=True)
class SyntheticEvent:
    """``stations`` three-component stations ``XS.Mnn..BH?`` recording ``seconds`` of one event.

    The stations lie due north of the epicentre, ``distance_km(n)`` away.
    """

    stations: int = 4
    seconds: float = 300.0
    sampling_rate: float = 5.0
    seed: int = 7
    max_shift_samples: int = 8
    noise: float = 0.01
    origin: str = "2026-03-01T12:00:00"
    latitude: float = 45.0
    longitude: float = 8.0
    depth_km: float = 10.0
    lead_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.stations < 1:
            raise ValueError(f"SyntheticEvent: stations must be at least 1, not {self.stations}")
        if self.seconds <= 0 or self.sampling_rate <= 0:
            raise ValueError("SyntheticEvent: seconds and sampling_rate must be positive")
        if not 0 <= self.max_shift_samples < self.seconds * self.sampling_rate:
            raise ValueError(
                f"SyntheticEvent: max_shift_samples must be at least 0 and shorter than the record, "
                f"not {self.max_shift_samples}"
            )

    @property
    def hypocentre(self) -> Hypocentre:
        """Where and when the event happened; the records start ``lead_seconds`` before it."""
        return Hypocentre(self.latitude, self.longitude, self.depth_km, UTCDateTime(self.origin) + self.lead_seconds)

    def distance_km(self, station: int) -> float:
        """Epicentral distance of station ``station``."""
        return 150.0 + 120.0 * station

    def shift(self, station: int) -> int:
        """Samples by which the observed records lag the synthetic ones (negative: they lead)."""
        rng = np.random.default_rng((self.seed, station, 0))
        return int(rng.integers(-self.max_shift_samples, self.max_shift_samples + 1))

    def amplitude(self, station: int) -> float:
        """Observed amplitude over synthetic amplitude."""
        return float(np.random.default_rng((self.seed, station, 1)).uniform(0.6, 1.6))

    def ids(self, station: int) -> list[str]:
        """The station's three channel ids."""
        return [f"XS.M{station:02d}..BH{component}" for component in COMPONENTS]

    def trace(self, kind: Kind, station: int, component: str) -> Trace:
        """One component of one station, observed or synthetic."""
        samples = round(self.seconds * self.sampling_rate)
        time = np.arange(samples) / self.sampling_rate
        distance = self.distance_km(station)
        weights = {"Z": (1.0, 0.4, 0.8), "N": (0.3, 1.0, 0.6), "E": (0.3, 0.8, 1.0)}[component]
        since_origin = time - self.lead_seconds
        data = (
            weights[0] * _ricker(since_origin - distance / P_KM_S, 4.0)
            + weights[1] * 1.5 * _ricker(since_origin - distance / S_KM_S, 6.0)
            + weights[2] * _surface(since_origin - distance / SURFACE_KM_S)
        )
        if kind == "observed":
            data = self.amplitude(station) * _delayed(data, self.shift(station))
            data += self.noise * np.random.default_rng((self.seed, station, ord(component))).standard_normal(samples)
        network, code, location, channel = f"XS.M{station:02d}..BH{component}".split(".")
        header = {
            "network": network,
            "station": code,
            "location": location,
            "channel": channel,
            "sampling_rate": self.sampling_rate,
            "starttime": UTCDateTime(self.origin),
            "coordinates": AttribDict(
                {"latitude": self.latitude + distance / KM_PER_DEGREE, "longitude": self.longitude, "elevation": 0.0}
            ),
        }
        return Trace(data=data, header=header)

    def stream(self, kind: Kind) -> Stream:
        """Every component of every station."""
        return Stream(
            [self.trace(kind, station, component) for station in range(self.stations) for component in COMPONENTS]
        )


def _ricker(time: np.ndarray, period: float) -> np.ndarray:
    argument = (np.pi * time / period) ** 2
    return (1 - 2 * argument) * np.exp(-argument)


def _surface(time: np.ndarray) -> np.ndarray:
    envelope = np.exp(-(((time - 15) / 12) ** 2))
    return 0.8 * envelope * np.sin(2 * np.pi * time / 10)


def _delayed(data: np.ndarray, samples: int) -> np.ndarray:
    shifted = np.zeros_like(data)
    if samples >= 0:
        shifted[samples:] = data[: data.size - samples]
    else:
        shifted[:samples] = data[-samples:]
    return shifted


class EventWaveforms(ProducerPE):
    """Write the observed or the synthetic records of a :class:`SyntheticEvent`, one ``Trace`` each."""

    def __init__(self, event: SyntheticEvent, kind: Kind) -> None:
        super().__init__()
        if kind not in ("observed", "synthetic"):
            raise ValueError(f"EventWaveforms: kind must be 'observed' or 'synthetic', not {kind!r}")
        self.event, self.kind = event, kind
        self.outputconnections["output"]["type"] = Trace

    def _process(self, inputs: Any) -> None:
        for trace in self.event.stream(self.kind):
            self.write("output", trace)
