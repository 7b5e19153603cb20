"""The cross-correlation computation, shared by the d4py workflow and the plain NumPy script.

Synthetic stations record one common noise source, each delayed by a known
number of samples plus its own noise. Preparation: demean, detrend, taper,
band-pass, spectral whitening, FFT. A pair is cross-correlated from the two
spectra; its peak lag must equal the difference of the injected delays.
"""

from __future__ import annotations

import os

import numpy as np

STATIONS = int(os.environ.get("BENCH_STATIONS", "100"))
SAMPLES = 1 << 15
MAX_DELAY = 200
FFT_SIZE = 2 * SAMPLES  # zero-padded: linear, not circular, correlation
BAND = (0.02, 0.35)  # band-pass corners, as fractions of the sampling rate


def delays() -> np.ndarray:
    return np.random.default_rng(7).integers(0, MAX_DELAY, STATIONS)


def trace(station: int) -> np.ndarray:
    """The station's record: the shared source, delayed, plus local noise."""
    source = np.random.default_rng(1).standard_normal(SAMPLES + MAX_DELAY)
    delay = int(delays()[station])
    noise = np.random.default_rng(100 + station).standard_normal(SAMPLES)
    return source[MAX_DELAY - delay : MAX_DELAY - delay + SAMPLES] + 0.5 * noise + 0.001 * np.arange(SAMPLES)


def prepare(samples: np.ndarray) -> np.ndarray:
    """Demean, detrend, taper, band-pass, whiten; return the spectrum."""
    x = samples - samples.mean()
    t = np.arange(x.size)
    slope, intercept = np.polyfit(t, x, 1)
    x = x - (slope * t + intercept)
    edge = x.size // 20
    window = np.ones(x.size)
    ramp = 0.5 * (1 - np.cos(np.linspace(0, np.pi, edge)))
    window[:edge], window[-edge:] = ramp, ramp[::-1]
    spectrum = np.fft.rfft(x * window, FFT_SIZE)
    frequencies = np.fft.rfftfreq(FFT_SIZE)
    spectrum[(frequencies < BAND[0]) | (frequencies > BAND[1])] = 0
    amplitude = np.convolve(np.abs(spectrum), np.ones(21) / 21, mode="same")
    return spectrum / np.maximum(amplitude, 1e-12)


def peak_lag(first: np.ndarray, second: np.ndarray) -> int:
    """The lag, in samples, at which the second station best matches the first."""
    correlation = np.fft.irfft(np.conj(first) * second, FFT_SIZE)
    window = np.concatenate([correlation[-MAX_DELAY:], correlation[: MAX_DELAY + 1]])
    return int(np.argmax(window)) - MAX_DELAY


def check(lags: dict[tuple[int, int], int]) -> None:
    """Raise unless every pair was found once, at the injected lag."""
    injected = delays()
    expected = STATIONS * (STATIONS - 1) // 2
    if len(lags) != expected:
        raise RuntimeError(f"{len(lags)} pairs, expected {expected}")
    wrong = [(i, j) for (i, j), lag in lags.items() if lag != injected[j] - injected[i]]
    if wrong:
        raise RuntimeError(f"{len(wrong)} pairs at the wrong lag, e.g. {wrong[:3]}")
