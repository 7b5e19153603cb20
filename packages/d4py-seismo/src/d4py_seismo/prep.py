"""Trace preparation PEs, one per step, and ``TracePrep``, the steps chained as one composite.

    from d4py_seismo.prep import Bandpass, Demean, TracePrep

    graph.connect(read, "output", Bandpass(freqmin=0.1, freqmax=1.0), "input")
    graph.connect(read, "output", TracePrep(freqmin=0.1, freqmax=1.0), "input")

Every step PE takes the keyword parameters of the function of the same name
in :mod:`d4py_seismo.processing`, reads an ObsPy ``Trace`` on ``input`` and
writes the prepared ``Trace`` on ``output``; ``Spectra`` writes a
:class:`~d4py_seismo.items.StationSpectra`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

from obspy import Inventory

from d4py import CompositePE, GenericPE, iterative
from d4py_seismo import processing

__all__ = [
    "Bandpass",
    "Decimate",
    "Demean",
    "Detrend",
    "OneBit",
    "RemoveResponse",
    "RunningAbsoluteMean",
    "Spectra",
    "TracePrep",
    "Whiten",
]

Demean = iterative(processing.demean)
Detrend = iterative(processing.detrend)
Decimate = iterative(processing.decimate)
RemoveResponse = iterative(processing.remove_response)
Bandpass = iterative(processing.bandpass)
OneBit = iterative(processing.onebit)
RunningAbsoluteMean = iterative(processing.running_absolute_mean)
Whiten = iterative(processing.whiten)
Spectra = iterative(processing.spectra)

Normalisation = Literal["onebit", "running-mean"] | None


class TracePrep(CompositePE):
    """The tracePrep of the dispel4py xcorr paper, as one composite from traces to spectra.

    Steps, in order: demean, linear detrend, decimate (when ``decimate_by`` is
    given), remove the instrument response (when ``inventory`` is given),
    band-pass, temporal normalisation (``"onebit"``, ``"running-mean"`` over
    ``normalisation_seconds``, or None), spectral whitening over the band
    (unless ``whiten=False``), and the windowed FFT. One-to-one steps, so
    every backend runs them fused in one process per instance.
    """

    def __init__(
        self,
        *,
        freqmin: float,
        freqmax: float,
        window_seconds: float = 600.0,
        max_lag_seconds: float = 120.0,
        decimate_by: int | None = None,
        inventory: Inventory | None = None,
        normalisation: Normalisation = "onebit",
        normalisation_seconds: float = 20.0,
        whiten: bool = True,
    ) -> None:
        super().__init__()
        if not 0 < freqmin < freqmax:
            raise ValueError(f"TracePrep: need 0 < freqmin < freqmax, got freqmin={freqmin}, freqmax={freqmax}")
        if max_lag_seconds >= window_seconds:
            raise ValueError(
                f"TracePrep: max_lag_seconds={max_lag_seconds} must be shorter than window_seconds={window_seconds}"
            )
        steps: list[GenericPE] = [Demean(), Detrend(kind="linear")]
        if decimate_by is not None:
            steps.append(Decimate(factor=decimate_by))
        if inventory is not None:
            steps.append(RemoveResponse(inventory=inventory))
        steps.append(Bandpass(freqmin=freqmin, freqmax=freqmax))
        steps.extend(_normalisation(normalisation, normalisation_seconds))
        if whiten:
            steps.append(Whiten(freqmin=freqmin, freqmax=freqmax))
        steps.append(Spectra(window_seconds=window_seconds, max_lag_seconds=max_lag_seconds))
        self._map_input("input", steps[0], "input")
        for upstream, downstream in pairwise(steps):
            self.connect(upstream, "output", downstream, "input")
        self._map_output("output", steps[-1], "output")


def _normalisation(kind: Any, seconds: float) -> list[GenericPE]:
    if kind is None:
        return []
    if kind == "onebit":
        return [OneBit()]
    if kind == "running-mean":
        return [RunningAbsoluteMean(window_seconds=seconds)]
    raise ValueError(f"TracePrep: normalisation must be 'onebit', 'running-mean' or None, not {kind!r}")
