"""Rapid assessment: peak ground motion per station, as GeoJSON and a map.

``PeakGroundMotion`` removes each channel's instrument response three times
(to acceleration, velocity and displacement) and writes the peaks;
``WriteAssessment`` keeps, per station, the largest peak over its channels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from obspy import Inventory, Trace

from d4py import GenericPE, iterative
from d4py_seismo.items import PeakMotion

__all__ = ["PeakGroundMotion", "WriteAssessment", "peak_motion", "station_peaks", "write_geojson"]

OUTPUTS = {"pga": "ACC", "pgv": "VEL", "pgd": "DISP"}


def peak_motion(
    trace: Trace,
    inventory: Inventory,
    pre_filt: tuple[float, float, float, float] | None = None,
    water_level: float | None = 60.0,
) -> PeakMotion:
    """The channel's peak absolute acceleration, velocity and displacement, responses removed."""
    peaks: dict[str, float] = {}
    for name, output in OUTPUTS.items():
        try:
            corrected = trace.copy().remove_response(
                inventory=inventory, output=output, pre_filt=pre_filt, water_level=water_level
            )
        except ValueError as error:
            raise ValueError(f"cannot remove the response of {trace.id}: {error}") from None
        peaks[name] = float(np.abs(corrected.data).max())
    coordinates = trace.stats.get("coordinates") or {}
    return PeakMotion(
        channel=trace.id,
        latitude=coordinates.get("latitude"),
        longitude=coordinates.get("longitude"),
        **peaks,
    )


PeakGroundMotion = iterative(peak_motion)


def station_peaks(channels: Sequence[PeakMotion]) -> list[PeakMotion]:
    """Per station, the largest PGA, PGV and PGD over its channels (each may come from a different one)."""
    by_station: dict[str, list[PeakMotion]] = {}
    for channel in channels:
        by_station.setdefault(channel.station, []).append(channel)
    return [
        PeakMotion(
            channel=f"{station}..",
            pga=max(c.pga for c in group),
            pgv=max(c.pgv for c in group),
            pgd=max(c.pgd for c in group),
            latitude=group[0].latitude,
            longitude=group[0].longitude,
        )
        for station, group in sorted(by_station.items())
    ]


def write_geojson(stations: Sequence[PeakMotion], path: Path) -> None:
    """A GeoJSON FeatureCollection: one Point per station with its peaks (stations without coordinates left out)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [peak.longitude, peak.latitude]},
            "properties": {"station": peak.station, "pga_m_s2": peak.pga, "pgv_m_s": peak.pgv, "pgd_m": peak.pgd},
        }
        for peak in stations
        if peak.latitude is not None and peak.longitude is not None
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=2))


def plot_map(stations: Sequence[PeakMotion], path: Path) -> None:
    """Stations at their coordinates, coloured by PGV on a logarithmic scale."""
    placed = [peak for peak in stations if peak.latitude is not None and peak.longitude is not None]
    figure = Figure(figsize=(7, 6), dpi=120)
    axes = figure.add_subplot()
    if placed:
        pgv = np.array([peak.pgv for peak in placed])
        points = axes.scatter(
            np.array([peak.longitude for peak in placed], dtype=float),
            np.array([peak.latitude for peak in placed], dtype=float),
            c=pgv,
            s=90,
            cmap="inferno_r",
            norm=LogNorm(vmin=pgv.min(), vmax=max(pgv.max(), pgv.min() * 1.001)),
            edgecolors="black",
        )
        for peak in placed:
            axes.annotate(peak.station, (peak.longitude, peak.latitude), textcoords="offset points", xytext=(6, 6))
        figure.colorbar(points, ax=axes, label="PGV (m/s)")
        axes.margins(0.2)
    axes.set_xlabel("longitude (°)")
    axes.set_ylabel("latitude (°)")
    axes.set_title(f"Peak ground velocity: {len(placed)} stations")
    figure.savefig(path)


class WriteAssessment(GenericPE):
    """Collect every channel's :class:`PeakMotion`; at the end write ``peak-motion.geojson`` and ``peak-motion.png``.

    Writes one summary dict on ``output``: the per-station peaks and the two paths.
    """

    def __init__(self, output_dir: str | Path = "assessment-results") -> None:
        super().__init__()
        self._add_input("input", grouping="global", tuple_type=PeakMotion)
        self._add_output("output")
        self.output_dir = Path(output_dir).resolve()
        self.channels: list[PeakMotion] = []

    def _process(self, inputs: dict[str, Any]) -> None:
        self.channels.append(inputs["input"])

    def _postprocess(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        stations = station_peaks(self.channels)
        geojson, image = self.output_dir / "peak-motion.geojson", self.output_dir / "peak-motion.png"
        write_geojson(stations, geojson)
        plot_map(stations, image)
        peaks = {peak.station: {"pga": peak.pga, "pgv": peak.pgv, "pgd": peak.pgd} for peak in stations}
        self.write("output", {"stations": peaks, "geojson": str(geojson), "map": str(image)})
