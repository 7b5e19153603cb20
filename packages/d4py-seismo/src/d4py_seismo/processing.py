"""Trace preparation as plain functions on ObsPy traces.

Each function returns a new trace and leaves its argument as it was, so a
trace that is teed to two branches is never changed under the other one.
The PEs in :mod:`d4py_seismo.prep` wrap these functions.
"""

from __future__ import annotations

import math

import numpy as np
from obspy import Inventory, Trace
from scipy.ndimage import uniform_filter1d

from d4py_seismo.items import StationSpectra

__all__ = [
    "bandpass",
    "decimate",
    "demean",
    "detrend",
    "onebit",
    "remove_response",
    "running_absolute_mean",
    "spectra",
    "whiten",
]


def demean(trace: Trace) -> Trace:
    """Subtract the mean."""
    return trace.copy().detrend("demean")


def detrend(trace: Trace, kind: str = "linear") -> Trace:
    """Remove a trend with ObsPy's ``detrend`` (``linear``, ``simple``, ``constant``, ...)."""
    return trace.copy().detrend(kind)


def decimate(trace: Trace, factor: int) -> Trace:
    """Low-pass against aliasing, then keep every ``factor``-th sample."""
    return trace.copy().decimate(factor)


def remove_response(
    trace: Trace,
    inventory: Inventory,
    output: str = "VEL",
    pre_filt: tuple[float, float, float, float] | None = None,
    water_level: float | None = 60.0,
) -> Trace:
    """Deconvolve the instrument response found in ``inventory`` for the trace's channel."""
    return trace.copy().remove_response(inventory=inventory, output=output, pre_filt=pre_filt, water_level=water_level)


def bandpass(trace: Trace, freqmin: float, freqmax: float, corners: int = 4, zerophase: bool = True) -> Trace:
    """Butterworth band-pass between ``freqmin`` and ``freqmax`` Hz."""
    return trace.copy().filter("bandpass", freqmin=freqmin, freqmax=freqmax, corners=corners, zerophase=zerophase)


def onebit(trace: Trace) -> Trace:
    """Temporal normalisation: keep only the sign of every sample."""
    result = trace.copy()
    result.data = np.sign(result.data).astype(np.float64)
    return result


def running_absolute_mean(trace: Trace, window_seconds: float) -> Trace:
    """Temporal normalisation: divide by the mean absolute amplitude in a centred window."""
    half = max(1, round(window_seconds * trace.stats.sampling_rate / 2))
    weights = uniform_filter1d(np.abs(trace.data.astype(np.float64)), size=2 * half + 1, mode="nearest")
    result = trace.copy()
    result.data = trace.data / np.maximum(weights, np.finfo(np.float64).tiny)
    return result


def whiten(trace: Trace, freqmin: float, freqmax: float, smooth_hz: float = 0.02) -> Trace:
    """Spectral whitening: flatten the amplitude spectrum between ``freqmin`` and ``freqmax`` Hz.

    The spectrum is divided by its amplitude smoothed over ``smooth_hz``;
    frequencies outside the band are set to zero.
    """
    samples = trace.stats.npts
    spectrum = np.fft.rfft(trace.data.astype(np.float64))
    frequencies = np.fft.rfftfreq(samples, d=trace.stats.delta)
    bins = max(1, round(smooth_hz * samples * trace.stats.delta))
    amplitude = uniform_filter1d(np.abs(spectrum), size=bins, mode="nearest")
    spectrum /= np.maximum(amplitude, np.finfo(np.float64).tiny)
    spectrum[(frequencies < freqmin) | (frequencies > freqmax)] = 0
    result = trace.copy()
    result.data = np.fft.irfft(spectrum, samples)
    return result


def spectra(trace: Trace, window_seconds: float, max_lag_seconds: float) -> StationSpectra:
    """Cut the trace into windows aligned on the UTC epoch and take each window's FFT.

    Windows are zero-padded to a power of two of at least the window plus the
    maximum lag, so correlating two of them is linear, not circular, up to
    that lag. Windows the trace does not fully cover are left out.
    """
    rate = trace.stats.sampling_rate
    window = round(window_seconds * rate)
    max_lag = round(max_lag_seconds * rate)
    if max_lag >= window:
        raise ValueError(f"max_lag_seconds={max_lag_seconds} must be shorter than window_seconds={window_seconds}")
    start = trace.stats.starttime.timestamp
    first = math.ceil(start * rate / window - 1e-6)
    offsets = []
    number = first
    while (offset := round(number * window - start * rate)) + window <= trace.stats.npts:
        offsets.append((number, offset))
        number += 1
    fft_size = 1 << (window + max_lag - 1).bit_length()
    data = trace.data.astype(np.float64)
    rows = np.empty((len(offsets), fft_size // 2 + 1), dtype=np.complex128)
    for row, (_, offset) in enumerate(offsets):
        rows[row] = np.fft.rfft(data[offset : offset + window], fft_size)
    coordinates = trace.stats.get("coordinates") or {}
    return StationSpectra(
        station=trace.id,
        sampling_rate=rate,
        window_samples=window,
        fft_size=fft_size,
        windows=tuple(number for number, _ in offsets),
        spectra=rows,
        latitude=coordinates.get("latitude"),
        longitude=coordinates.get("longitude"),
    )
