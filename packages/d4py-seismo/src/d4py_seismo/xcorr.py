"""Ambient-noise cross-correlation: every station pair, correlated as soon as both spectra are in.

``CrossCorrelatePairs`` receives every station's spectra on each of its
instances (grouping ``'all'``); an instance correlates the pairs it owns, by
a stable digest of the two station ids, when the second spectrum of the pair
arrives. Nothing waits for the whole network, and no pair ships its spectra.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from obspy.geodetics import gps2dist_azimuth

from d4py import GenericPE, stable_digest
from d4py_seismo.items import Correlation, StationSpectra

__all__ = ["CrossCorrelatePairs", "correlate"]


def correlate(first: StationSpectra, second: StationSpectra, max_lag_seconds: float) -> Correlation:
    """Cross-correlate two stations over their common windows and stack (average) the windows.

    The stack is formed in the frequency domain, which equals averaging the
    windows' correlation functions, with one inverse FFT per pair.
    """
    if first.sampling_rate != second.sampling_rate or first.fft_size != second.fft_size:
        raise ValueError(
            f"stations {first.station} and {second.station} were prepared differently "
            f"({first.sampling_rate} Hz, FFT {first.fft_size} against {second.sampling_rate} Hz, FFT "
            f"{second.fft_size}); decimate them to one sampling rate and use one TracePrep"
        )
    max_lag = round(max_lag_seconds * first.sampling_rate)
    common = sorted(set(first.windows) & set(second.windows))
    if common:
        rows_first = [first.windows.index(number) for number in common]
        rows_second = [second.windows.index(number) for number in common]
        cross = np.einsum("ij,ij->j", np.conj(first.spectra[rows_first]), second.spectra[rows_second])
        stacked = np.fft.irfft(cross / len(common), first.fft_size)
        function = np.concatenate([stacked[-max_lag:], stacked[: max_lag + 1]])
    else:
        function = np.zeros(2 * max_lag + 1)
    return Correlation(
        first=first.station,
        second=second.station,
        sampling_rate=first.sampling_rate,
        windows=len(common),
        function=function,
        distance_km=_distance_km(first, second),
    )


def _distance_km(first: StationSpectra, second: StationSpectra) -> float | None:
    places = (first.latitude, first.longitude, second.latitude, second.longitude)
    if any(value is None for value in places):
        return None
    metres, _, _ = gps2dist_azimuth(*places)
    return float(metres) / 1000


class CrossCorrelatePairs(GenericPE):
    """Correlate every pair of stations, each pair on exactly one instance, as spectra arrive.

    Input ``input``: :class:`StationSpectra`, one per station (grouping
    ``'all'``). Output ``output``: one :class:`Correlation` per pair, with
    ``first`` the smaller station id. Each instance keeps every spectrum it
    has seen, so memory grows with the network, not with the pairs.
    """

    def __init__(self, max_lag_seconds: float = 120.0, numprocesses: int = 4) -> None:
        super().__init__(numprocesses=numprocesses)
        self._add_input("input", grouping="all", tuple_type=StationSpectra)
        self._add_output("output", tuple_type=Correlation)
        self.max_lag_seconds = max_lag_seconds
        self.seen: dict[str, StationSpectra] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        arrived: StationSpectra = inputs["input"]
        if arrived.station in self.seen:
            raise ValueError(
                f"station {arrived.station} arrived twice; merge each channel's traces into one "
                "before preparation (ReadWaveforms does)"
            )
        for station, known in self.seen.items():
            first, second = (known, arrived) if station < arrived.station else (arrived, known)
            if stable_digest((first.station, second.station)) % self.instance_count == self.instance_index:
                self.write("output", correlate(first, second, self.max_lag_seconds))
        self.seen[arrived.station] = arrived
