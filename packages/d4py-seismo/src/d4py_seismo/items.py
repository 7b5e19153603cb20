"""The items that flow between the cross-correlation PEs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Correlation", "PeakMotion", "StationSpectra"]


@dataclass(frozen=True, eq=False)
class StationSpectra:
    """One station's record, cut into aligned time windows and Fourier transformed.

    Window ``k`` starts ``k * window_samples / sampling_rate`` seconds after the
    UTC epoch, so windows with the same number cover the same time at every
    station. ``spectra`` has one row per entry of ``windows``; each row is the
    real FFT of the window zero-padded to ``fft_size`` samples.
    """

    station: str
    sampling_rate: float
    window_samples: int
    fft_size: int
    windows: tuple[int, ...]
    spectra: np.ndarray
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, eq=False)
class Correlation:
    """The stacked cross-correlation of two stations, from ``-max_lag`` to ``+max_lag`` samples.

    A peak at a positive lag means that ``second`` records the common signal
    later than ``first``.
    """

    first: str
    second: str
    sampling_rate: float
    windows: int
    function: np.ndarray
    distance_km: float | None = None

    @property
    def max_lag(self) -> int:
        """The largest lag held, in samples."""
        return (self.function.size - 1) // 2

    @property
    def peak_lag(self) -> int:
        """The lag of the largest value, in samples."""
        return int(np.argmax(self.function)) - self.max_lag

    def lags_seconds(self) -> np.ndarray:
        """The lag of every sample of ``function``, in seconds."""
        return np.arange(-self.max_lag, self.max_lag + 1) / self.sampling_rate


@dataclass(frozen=True)
class PeakMotion:
    """Peak ground acceleration (m/s²), velocity (m/s) and displacement (m) of one channel."""

    channel: str
    pga: float
    pgv: float
    pgd: float
    latitude: float | None = None
    longitude: float | None = None

    @property
    def station(self) -> str:
        """``NET.STA`` of the channel."""
        network, station, _, _ = self.channel.split(".")
        return f"{network}.{station}"
