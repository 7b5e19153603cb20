"""Writers of cross-correlation results: a NumPy archive and a PNG record section."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from scipy.signal import butter, sosfiltfilt

from d4py import GenericPE
from d4py_seismo.items import Correlation

__all__ = ["WriteCorrelations", "plot_correlations", "save_correlations"]

DISPLAY_BAND_HZ = (0.1, 0.5)  # wavelets a few seconds long: visible on a lag axis of minutes
WIGGLES = 40  # pairs drawn as wavelets, spread evenly over the distances
SECTION_BINS = 60  # distance bins of the section of every pair
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


def plot_correlations(
    correlations: Sequence[Correlation],
    path: Path,
    title: str = "Cross-correlations",
    velocity_km_s: float | None = None,
    band_hz: tuple[float, float] = DISPLAY_BAND_HZ,
) -> None:
    """Draw a record section: correlations band-passed to ``band_hz``, lag against inter-station distance.

    Left, the wavelets of up to ``WIGGLES`` pairs spread evenly over the
    distances; right, every pair, in distance bins, on an amplitude scale
    (each pair normalised to a peak of 1). With
    ``velocity_km_s``, dashed lines mark lag = ±distance / velocity, where
    waves crossing the network at that speed arrive. Pairs without
    coordinates cannot be placed on a distance axis: when no pair has them,
    the rows are the pairs in name order instead.
    """
    ordered = _by_distance(correlations)
    figure = Figure(figsize=(8, 6), dpi=120)
    placed = [pair for pair in ordered if pair.distance_km is not None]
    if not placed:
        _plot_rows(figure, ordered, title)
        figure.savefig(path)
        return
    lags = placed[0].lags_seconds()
    distances = np.array([pair.distance_km for pair in placed], dtype=float)
    low, high = band_hz[0], min(band_hz[1], 0.45 * placed[0].sampling_rate)
    wiggles, section = figure.subplots(1, 2, sharey=True, width_ratios=(1, 1.25))
    _wiggles(wiggles, placed, lags, distances, (low, high))
    shown = _section(section, figure, placed, lags, distances, (low, high))
    for axes in (wiggles, section):
        axes.set_xlim(*shown)
        axes.set_xlabel("lag (s)")
        if velocity_km_s:
            reach = np.array([0.0, _axis_top(distances)])
            for sign in (-1, 1):
                axes.plot(sign * reach / velocity_km_s, reach, "--", color="0.35", linewidth=0.8)
    wiggles.set_ylim(_axis_top(distances), 0)
    wiggles.set_ylabel("inter-station distance (km)")
    guide = f", dashed: {velocity_km_s:g} km/s" if velocity_km_s else ""
    figure.suptitle(f"{title}: {len(placed):,} pairs, {low:g}-{high:g} Hz{guide}")
    figure.savefig(path)


def _axis_top(distances: np.ndarray) -> float:
    """The far end of the distance axis: a little past the farthest pair (1 km when all are colocated)."""
    return max(float(distances.max()) * 1.05, 1.0)


def _band_passed(functions: np.ndarray, sampling_rate: float, band: tuple[float, float]) -> np.ndarray:
    """Zero-phase band-pass, for display; the archive keeps the functions as computed."""
    sos = butter(4, band, btype="bandpass", fs=sampling_rate, output="sos")
    return np.asarray(sosfiltfilt(sos, functions, axis=-1))


def _normalised(pairs: Sequence[Correlation], band: tuple[float, float]) -> np.ndarray:
    """The pairs' functions, band-passed and each scaled to a peak of 1."""
    filtered = _band_passed(np.stack([pair.function for pair in pairs]), pairs[0].sampling_rate, band)
    peaks = np.abs(filtered).max(axis=1, keepdims=True)
    return filtered / np.where(peaks > 0, peaks, 1.0)


def _wiggles(axes: Any, placed: Sequence[Correlation], lags: np.ndarray, distances: np.ndarray, band: Any) -> None:
    # The pairs nearest to evenly spaced distances, so that every part of the section shows.
    targets = np.linspace(distances.min(), distances.max(), min(WIGGLES, len(placed)))
    chosen = np.unique(np.abs(distances[None, :] - targets[:, None]).argmin(axis=1))
    traces = _normalised([placed[row] for row in chosen], band)
    height = 0.8 * max(distances.max(), 1.0) / max(len(chosen), 1)  # a trace's peak, in km of the axis
    for trace, distance in zip(traces, distances[chosen], strict=True):
        curve = distance - height * trace  # distance grows downward: positive lobes point up
        axes.plot(lags, curve, color="black", linewidth=0.5)
        axes.fill_between(lags, distance, curve, where=trace > 0, color="firebrick", linewidth=0)
    axes.set_title(f"{len(chosen)} pairs", fontsize="medium")


def _section(
    axes: Any, figure: Figure, placed: Sequence[Correlation], lags: np.ndarray, distances: np.ndarray, band: Any
) -> tuple[float, float]:
    """Every pair, stacked in distance bins; returns the lag range worth showing."""
    bins = min(SECTION_BINS, len(placed))
    edges = np.linspace(0.0, _axis_top(distances), bins + 1)
    which = np.clip(np.searchsorted(edges, distances, side="right") - 1, 0, bins - 1)
    # Each bin keeps, lag by lag, the value of largest magnitude among its pairs: averaging would cancel
    # pairs whose arrivals differ (their lag depends on the pair's azimuth, not on distance alone).
    binned = np.zeros((bins, lags.size))
    for start in range(0, len(placed), CHUNK_ROWS):
        rows = _normalised(placed[start : start + CHUNK_ROWS], band)
        for row, bin_ in zip(rows, which[start : start + CHUNK_ROWS], strict=True):
            binned[bin_] = np.where(np.abs(row) > np.abs(binned[bin_]), row, binned[bin_])
    shrunk = _shrink(binned, IMAGE_PIXELS[1], 1)
    empty = np.bincount(which, minlength=bins) == 0  # no pair at these distances: left blank, not zero
    image = np.ma.masked_array(shrunk, np.broadcast_to(empty[:, None], shrunk.shape))
    picture = axes.imshow(
        image,
        aspect="auto",
        cmap="seismic",
        vmin=-1,
        vmax=1,
        interpolation="nearest",
        extent=(lags[0], lags[-1], edges[-1], edges[0]),
    )
    figure.colorbar(picture, ax=axes, label="correlation (each pair scaled to a peak of 1)")
    axes.set_title(f"all pairs, in {bins} distance bins", fontsize="medium")
    energy = np.abs(np.ma.filled(image, 0.0)).max(axis=0)
    strong = np.flatnonzero(energy > 0.5 * energy.max()) if energy.max() > 0 else np.array([0, energy.size - 1])
    span = np.linspace(lags[0], lags[-1], energy.size)
    reach = max(abs(span[strong[0]]), abs(span[strong[-1]])) * 1.3 + 5.0
    return max(lags[0], -reach), min(lags[-1], reach)


def _plot_rows(figure: Figure, ordered: Sequence[Correlation], title: str) -> None:
    """Pairs without coordinates: one image row each, in name order."""
    axes = figure.add_subplot()
    if ordered:
        lags = ordered[0].lags_seconds()
        picture = axes.imshow(
            _image(ordered, *IMAGE_PIXELS),
            aspect="auto",
            cmap="seismic",
            vmin=-1,
            vmax=1,
            interpolation="nearest",
            extent=(lags[0], lags[-1], len(ordered) - 0.5, -0.5),
        )
        figure.colorbar(picture, ax=axes, label="correlation (each pair scaled to a peak of 1)")
    axes.set_xlabel("lag (s)")
    axes.set_ylabel("station pairs (no coordinates: no distances)")
    axes.set_title(f"{title}: {len(ordered):,} pairs")


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


class WriteCorrelations(GenericPE):
    """Collect every :class:`Correlation`, then write ``correlations.npz`` and ``correlations.png``.

    ``output_dir`` is resolved when the PE is built, so every backend writes
    to the same place. ``velocity_km_s``, if known, draws the moveout lines on
    the record section (see :func:`plot_correlations`). At the end, writes one summary dict on ``output``: the
    number of pairs and the two paths.
    """

    def __init__(
        self,
        output_dir: str | Path = "xcorr-results",
        title: str = "Cross-correlations",
        velocity_km_s: float | None = None,
    ) -> None:
        super().__init__()
        self._add_input("input", grouping="global", tuple_type=Correlation)
        self._add_output("output")
        self.output_dir = Path(output_dir).resolve()
        self.title, self.velocity_km_s = title, velocity_km_s
        self.correlations: list[Correlation] = []

    def _process(self, inputs: dict[str, Any]) -> None:
        self.correlations.append(inputs["input"])

    def _postprocess(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        archive, plot = self.output_dir / "correlations.npz", self.output_dir / "correlations.png"
        save_correlations(self.correlations, archive)
        plot_correlations(self.correlations, plot, self.title, self.velocity_km_s)
        self.write("output", {"pairs": len(self.correlations), "archive": str(archive), "plot": str(plot)})
