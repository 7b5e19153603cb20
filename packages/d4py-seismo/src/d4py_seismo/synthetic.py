"""A synthetic station network that records one noise source with known delays.

Every station records the same broadband noise, delayed by the travel time
from a point source off the network (rounded to whole samples), plus noise
of its own. The cross-correlation of two stations therefore peaks exactly at
the difference of their delays, at any network size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from obspy import Stream, Trace, UTCDateTime
from obspy.core.util import AttribDict
from obspy.geodetics import gps2dist_azimuth

from d4py import GenericPE, ProducerPE
from d4py_seismo.items import Correlation

__all__ = ["CheckLags", "SyntheticNetwork", "SyntheticWaveforms"]

CENTRE = (46.0, 8.0)  # latitude, longitude of the network's centre
SPREAD_DEGREES = 1.5  # stations lie in a square of this side
SOURCE_OFFSET_DEGREES = (-3.0, -3.0)  # the noise source, relative to the centre


@dataclass(frozen=True)
class SyntheticNetwork:
    """``stations`` vertical channels ``SY.Snnn..BHZ`` recording ``hours`` of data."""

    stations: int = 50
    hours: float = 1.0
    sampling_rate: float = 20.0
    velocity_km_s: float = 3.0
    local_noise: float = 0.5
    seed: int = 2026
    starttime: str = "2026-01-01T00:00:00"

    def __post_init__(self) -> None:
        if self.stations < 2:
            raise ValueError(f"SyntheticNetwork: stations must be at least 2, not {self.stations}")
        if self.hours <= 0 or self.sampling_rate <= 0:
            raise ValueError("SyntheticNetwork: hours and sampling_rate must be positive")

    @property
    def samples(self) -> int:
        """Samples in every station's record."""
        return round(self.hours * 3600 * self.sampling_rate)

    def ids(self) -> list[str]:
        """Every station's trace id, in station order."""
        return [f"SY.S{number:03d}..BHZ" for number in range(self.stations)]

    def coordinates(self) -> np.ndarray:
        """Latitude and longitude of every station, one row each."""
        return _geometry(self)[0].copy()

    def delays(self) -> np.ndarray:
        """Every station's delay after the earliest one, in whole samples."""
        return _geometry(self)[1].copy()

    def expected_lag(self, first: str, second: str) -> int:
        """The lag, in samples, at which ``second`` best matches ``first``."""
        delays = dict(zip(self.ids(), self.delays().tolist(), strict=True))
        return int(delays[second] - delays[first])

    def trace(self, number: int) -> Trace:
        """Station ``number``'s record, with its coordinates in ``stats.coordinates``."""
        delays = self.delays()
        longest = int(delays.max())
        start = longest - int(delays[number])
        source = _noise(self.seed, self.samples + longest)[start : start + self.samples]
        local = np.random.default_rng((self.seed, number)).standard_normal(self.samples)
        latitude, longitude = self.coordinates()[number]
        network, station, location, channel = self.ids()[number].split(".")
        stats = {
            "network": network,
            "station": station,
            "location": location,
            "channel": channel,
            "sampling_rate": self.sampling_rate,
            "starttime": UTCDateTime(self.starttime),
            "coordinates": AttribDict({"latitude": float(latitude), "longitude": float(longitude), "elevation": 0.0}),
        }
        return Trace(data=source + self.local_noise * local, header=stats)

    def stream(self) -> Stream:
        """Every station's record."""
        return Stream([self.trace(number) for number in range(self.stations)])


@lru_cache(maxsize=8)
def _geometry(network: SyntheticNetwork) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(network.seed)
    offsets = rng.uniform(-SPREAD_DEGREES / 2, SPREAD_DEGREES / 2, (network.stations, 2))
    coordinates = np.asarray(CENTRE) + offsets
    source = (CENTRE[0] + SOURCE_OFFSET_DEGREES[0], CENTRE[1] + SOURCE_OFFSET_DEGREES[1])
    metres = np.array([gps2dist_azimuth(*source, lat, lon)[0] for lat, lon in coordinates])
    samples = np.rint(metres / 1000 / network.velocity_km_s * network.sampling_rate).astype(np.int64)
    return coordinates, samples - samples.min()


@lru_cache(maxsize=2)
def _noise(seed: int, samples: int) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(samples)
    noise.flags.writeable = False
    return noise


class SyntheticWaveforms(ProducerPE):
    """Write every station's record of a :class:`SyntheticNetwork`, one ``Trace`` each."""

    def __init__(self, network: SyntheticNetwork | None = None) -> None:
        super().__init__()
        self.network = network or SyntheticNetwork()
        self.outputconnections["output"]["type"] = Trace

    def _process(self, inputs: Any) -> None:
        for number in range(self.network.stations):
            self.write("output", self.network.trace(number))


class CheckLags(GenericPE):
    """Compare each correlation's peak with the network's injected delays; write a summary at the end."""

    def __init__(self, network: SyntheticNetwork) -> None:
        super().__init__()
        self._add_input("input", grouping="global", tuple_type=Correlation)
        self._add_output("output")
        self.delays = dict(zip(network.ids(), network.delays().tolist(), strict=True))
        self.checked = 0
        self.wrong: list[str] = []

    def _process(self, inputs: dict[str, Any]) -> None:
        pair: Correlation = inputs["input"]
        self.checked += 1
        expected = self.delays[pair.second] - self.delays[pair.first]
        if pair.peak_lag != expected:
            self.wrong.append(f"{pair.first}-{pair.second}: {pair.peak_lag} samples, injected {expected}")

    def _postprocess(self) -> None:
        self.write(
            "output",
            {"pairs": self.checked, "at the injected lag": self.checked - len(self.wrong), "wrong": self.wrong[:5]},
        )
