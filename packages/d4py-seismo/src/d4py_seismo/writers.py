"""Writers of cross-correlation results: a NumPy archive and a PNG record section."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from d4py import GenericPE
from d4py_seismo.items import Correlation

__all__ = ["WriteCorrelations", "plot_correlations", "save_correlations"]

TICKS = 8
IMAGE_PIXELS = (600, 900)  # at most this many rows and columns reach the image: more cannot show
CHUNK_ROWS = 1024  # pairs shrunk at a time, so the full-resolution rows are never all in memory at once


def _by_distance(correlations: Sequence[Correlation]) -> list[Correlation]:
    """Pairs ordered by inter-station distance (pairs without coordinates last), then by name."""
    return sorted(
        correlations,
        key=lambda pair: (pair.distance_km is None, pair.distance_km or 0.0, pair.first, pair.second),
    )


def save_correlations(correlations: Sequence[Correlation], path: Path) -> None:
    """Write ``path`` (``.npz``): one row per pair, ordered by distance.

    Arrays: ``first``, ``second`` (station ids), ``distance_km`` (NaN when
    unknown), ``windows`` (windows stacked), ``peak_lag_s``, ``lags_s`` (the
    lag axis) and ``functions`` (one row of lags per pair, float32).
    """
    ordered = _by_distance(correlations)
    lags = ordered[0].lags_seconds() if ordered else np.zeros(0)
    np.savez(
        path,
        first=np.array([pair.first for pair in ordered], dtype=str),
        second=np.array([pair.second for pair in ordered], dtype=str),
        distance_km=np.array([np.nan if pair.distance_km is None else pair.distance_km for pair in ordered]),
        windows=np.array([pair.windows for pair in ordered], dtype=np.int64),
        peak_lag_s=np.array([pair.peak_lag / pair.sampling_rate for pair in ordered]),
        lags_s=lags,
        functions=np.array([pair.function for pair in ordered], dtype=np.float32).reshape(len(ordered), lags.size),
    )


def plot_correlations(correlations: Sequence[Correlation], path: Path, title: str = "Cross-correlations") -> None:
    """Draw every pair's correlation function as one row of an image, ordered by distance."""
    ordered = _by_distance(correlations)
    figure = Figure(figsize=(8, 6), dpi=120)
    axes = figure.add_subplot()
    if ordered:
        lags = ordered[0].lags_seconds()
        axes.imshow(
            _image(ordered, *IMAGE_PIXELS),
            aspect="auto",
            cmap="seismic",
            vmin=-1,
            vmax=1,
            interpolation="nearest",
            extent=(lags[0], lags[-1], len(ordered) - 0.5, -0.5),
        )
        peaks = [pair.peak_lag / pair.sampling_rate for pair in ordered]
        axes.plot(peaks, range(len(ordered)), ",", color="black")
        ticks = np.linspace(0, len(ordered) - 1, min(TICKS, len(ordered))).round().astype(int)
        axes.set_yticks(ticks, [_distance_label(ordered[row]) for row in ticks])
    axes.set_xlabel("lag (s)")
    axes.set_ylabel("station pairs, by inter-station distance (km)")
    axes.set_title(f"{title}: {len(ordered):,} pairs")
    figure.savefig(path)


def _image(ordered: Sequence[Correlation], rows: int, columns: int) -> np.ndarray:
    """Every pair's function scaled to a peak of 1, shrunk to at most ``rows`` x ``columns`` cells."""
    shrunk = np.concatenate(
        [
            _shrink(np.stack([pair.function for pair in ordered[start : start + CHUNK_ROWS]]), columns, axis=1)
            for start in range(0, len(ordered), CHUNK_ROWS)
        ]
    )
    peaks = np.abs(shrunk).max(axis=1, keepdims=True)  # shrinking keeps each row's peak
    return _shrink(shrunk / np.where(peaks > 0, peaks, 1.0), rows, axis=0)


def _shrink(values: np.ndarray, limit: int, axis: int) -> np.ndarray:
    """At most ``limit`` cells along ``axis``, each the value of largest magnitude in its block.

    Plain resampling would drop one-sample correlation peaks; this keeps them.
    """
    size = values.shape[axis]
    if size <= limit:
        return values
    starts = np.arange(0, size, -(-size // limit))
    high, low = np.maximum.reduceat(values, starts, axis=axis), np.minimum.reduceat(values, starts, axis=axis)
    return np.where(high >= -low, high, low)


def _distance_label(pair: Correlation) -> str:
    return "?" if pair.distance_km is None else f"{pair.distance_km:.0f}"


class WriteCorrelations(GenericPE):
    """Collect every :class:`Correlation`, then write ``correlations.npz`` and ``correlations.png``.

    ``output_dir`` is resolved when the PE is built, so every backend writes
    to the same place. At the end, writes one summary dict on ``output``: the
    number of pairs and the two paths.
    """

    def __init__(self, output_dir: str | Path = "xcorr-results", title: str = "Cross-correlations") -> None:
        super().__init__()
        self._add_input("input", grouping="global", tuple_type=Correlation)
        self._add_output("output")
        self.output_dir = Path(output_dir).resolve()
        self.title = title
        self.correlations: list[Correlation] = []

    def _process(self, inputs: dict[str, Any]) -> None:
        self.correlations.append(inputs["input"])

    def _postprocess(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        archive, plot = self.output_dir / "correlations.npz", self.output_dir / "correlations.png"
        save_correlations(self.correlations, archive)
        plot_correlations(self.correlations, plot, self.title)
        self.write("output", {"pairs": len(self.correlations), "archive": str(archive), "plot": str(plot)})
