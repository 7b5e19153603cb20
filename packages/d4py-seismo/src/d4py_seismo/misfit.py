"""Misfit: observed against synthetic seismograms, in windows picked by pyflex.

Both branches are prepared alike, joined per station and component
(group_by on both inputs of ``JoinTraces``), windowed by pyflex, and measured:
per window, the time shift at the cross-correlation peak and the amplitude
misfit dlnA = ln(A_observed / A_synthetic). ``PlotStations`` draws one image
per station.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from obspy import Trace, UTCDateTime

from d4py import GenericPE, WorkflowGraph
from d4py_seismo.prep import Bandpass, Demean, Detrend

__all__ = [
    "ChannelMisfit",
    "Hypocentre",
    "JoinTraces",
    "MisfitWindow",
    "PlotStations",
    "SelectWindows",
    "misfit_graph",
    "select_windows",
    "station_component",
]


@dataclass(frozen=True)
class Hypocentre:
    """The event's location and origin time; pyflex needs them to reject windows outside the arrivals."""

    latitude: float
    longitude: float
    depth_km: float
    origin_time: UTCDateTime


@dataclass(frozen=True)
class MisfitWindow:
    """One window: its time range after the first sample, shift (observed minus synthetic), dlnA and peak CC."""

    start_s: float
    end_s: float
    shift_s: float
    dlna: float
    max_cc: float


@dataclass(frozen=True, eq=False)
class ChannelMisfit:
    """One channel's windows, with both prepared traces for drawing."""

    channel: str
    windows: tuple[MisfitWindow, ...]
    observed: Trace
    synthetic: Trace

    @property
    def station(self) -> str:
        network, station, _, _ = self.channel.split(".")
        return f"{network}.{station}"


def station_component(trace: Trace) -> tuple[str, str, str]:
    """The join key: network, station and the component letter (the channel code's last)."""
    return trace.stats.network, trace.stats.station, trace.stats.channel[-1:]


class JoinTraces(GenericPE):
    """Pair each observed trace with the synthetic one of the same station and component.

    Inputs ``observed`` and ``synthetic`` are grouped by :func:`station_component`,
    so both traces of a pair reach the same instance; a pair leaves as soon as
    its second trace arrives. A trace still unpaired at the end is reported as
    an error naming it.
    """

    def __init__(self, numprocesses: int = 2) -> None:
        super().__init__(numprocesses=numprocesses)
        self._add_input("observed", grouping=station_component, tuple_type=Trace)
        self._add_input("synthetic", grouping=station_component, tuple_type=Trace)
        self._add_output("output")
        self.waiting: dict[tuple[str, tuple[str, str, str]], Trace] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        [(port, trace)] = inputs.items()
        other = "synthetic" if port == "observed" else "observed"
        key = station_component(trace)
        partner = self.waiting.pop((other, key), None)
        if partner is None:
            self.waiting[(port, key)] = trace
        else:
            pair = {port: trace, other: partner}
            self.write("output", (pair["observed"], pair["synthetic"]))

    def _postprocess(self) -> None:
        if self.waiting:
            missing = ", ".join(f"{port} {'.'.join(key)}" for port, key in sorted(self.waiting))
            raise ValueError(f"no partner for: {missing}; every observed channel needs a synthetic one and back")


def select_windows(
    observed: Trace, synthetic: Trace, hypocentre: Hypocentre | None = None, **config: Any
) -> tuple[MisfitWindow, ...]:
    """Run pyflex on one channel pair; ``config`` holds ``pyflex.Config``'s keywords.

    With a ``hypocentre`` (and the observed trace's ``stats.coordinates``),
    pyflex keeps only windows between the first arrival and the slowest
    surface waves, as FLEXWIN does; without one it considers the whole record,
    which on long quiet stretches can take pyflex minutes.
    """
    import pyflex  # an optional dependency: d4py-seismo[misfit]

    event = station = None
    if hypocentre is not None:
        coordinates = observed.stats.get("coordinates")
        if not coordinates:
            raise ValueError(f"{observed.id}: stats.coordinates is missing; pyflex needs the station's location")
        station = pyflex.Station(latitude=coordinates["latitude"], longitude=coordinates["longitude"])
        event = pyflex.Event(
            latitude=hypocentre.latitude,
            longitude=hypocentre.longitude,
            depth_in_m=hypocentre.depth_km * 1000.0,
            origin_time=hypocentre.origin_time,
        )
    selector = pyflex.WindowSelector(
        _ptp_safe(observed), _ptp_safe(synthetic), pyflex.Config(**config), event=event, station=station
    )
    delta = observed.stats.delta
    return tuple(
        MisfitWindow(
            start_s=window.left * delta,
            end_s=window.right * delta,
            shift_s=float(window.cc_shift) * delta,
            dlna=float(window.dlnA),
            max_cc=float(window.max_cc_value),
        )
        for window in selector.select_windows()
    )


class _PtpArray(np.ndarray):
    """An array with the ``ptp`` method that NumPy 2 removed and pyflex 0.2.0 still calls."""

    def ptp(self, *args: Any, **kwargs: Any) -> Any:
        return np.ptp(np.asarray(self), *args, **kwargs)


def _ptp_safe(trace: Trace) -> Trace:
    result = trace.copy()
    result.data = np.asarray(result.data, dtype=np.float64).view(_PtpArray)
    return result


class SelectWindows(GenericPE):
    """Pick windows with pyflex and measure each; reads (observed, synthetic), writes :class:`ChannelMisfit`."""

    def __init__(self, hypocentre: Hypocentre | None = None, numprocesses: int = 2, **config: Any) -> None:
        super().__init__(numprocesses=numprocesses)
        self._add_input("input")
        self._add_output("output", tuple_type=ChannelMisfit)
        self.hypocentre, self.config = hypocentre, config

    def _process(self, inputs: dict[str, Any]) -> None:
        observed, synthetic = inputs["input"]
        windows = select_windows(observed, synthetic, self.hypocentre, **self.config)
        self.write("output", ChannelMisfit(observed.id, windows, observed, synthetic))


def plot_station(channels: Sequence[ChannelMisfit], path: Path) -> None:
    """One panel per component: observed (black) over synthetic (red), windows shaded and labelled."""
    figure = Figure(figsize=(9, 2.4 * len(channels) + 0.6), dpi=110)
    axes_list = figure.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
    for axes, channel in zip(axes_list, sorted(channels, key=lambda c: c.channel), strict=True):
        time = channel.observed.times()
        axes.plot(time, channel.observed.data, color="black", linewidth=0.8, label="observed")
        axes.plot(channel.synthetic.times(), channel.synthetic.data, color="tab:red", linewidth=0.8, label="synthetic")
        for number, window in enumerate(channel.windows):
            axes.axvspan(window.start_s, window.end_s, color="tab:blue", alpha=0.15)
            axes.annotate(  # alternate heights so that labels of narrow neighbours do not overlap
                f"{window.shift_s:+.1f} s\ndlnA {window.dlna:+.2f}",
                ((window.start_s + window.end_s) / 2, 0.98 - 0.2 * (number % 2)),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=7,
            )
        axes.set_ylabel(channel.channel.rsplit(".", 1)[-1])
    axes_list[0].legend(loc="upper right", fontsize=7)
    axes_list[0].set_title(f"{channels[0].station}: observed against synthetic, pyflex windows")
    axes_list[-1].set_xlabel("time after the first sample (s)")
    figure.savefig(path)


def _station_of(item: ChannelMisfit) -> str:
    return item.station


class PlotStations(GenericPE):
    """Group channels by station; at the end draw ``misfit-NET.STA.png`` per station and summarise it."""

    def __init__(self, output_dir: str | Path = "misfit-results", numprocesses: int = 2) -> None:
        super().__init__(numprocesses=numprocesses)
        self._add_input("input", grouping=_station_of, tuple_type=ChannelMisfit)
        self._add_output("output")
        self.output_dir = Path(output_dir).resolve()
        self.stations: dict[str, list[ChannelMisfit]] = {}

    def _process(self, inputs: dict[str, Any]) -> None:
        item: ChannelMisfit = inputs["input"]
        self.stations.setdefault(item.station, []).append(item)

    def _postprocess(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        for station, channels in sorted(self.stations.items()):
            image = self.output_dir / f"misfit-{station}.png"
            plot_station(channels, image)
            windows = [window for channel in channels for window in channel.windows]
            self.write(
                "output",
                {
                    "station": station,
                    "image": str(image),
                    "windows": len(windows),
                    "shifts_s": sorted({round(window.shift_s, 6) for window in windows}),
                    "dlna": [round(window.dlna, 3) for window in windows],
                },
            )


def misfit_graph(
    observed: GenericPE,
    synthetic: GenericPE,
    *,
    freqmin: float,
    freqmax: float,
    hypocentre: Hypocentre | None = None,
    output_dir: str | Path = "misfit-results",
    **pyflex_config: Any,
) -> WorkflowGraph:
    """Prepare both branches alike (demean, detrend, band-pass), join, window with pyflex, draw per station.

    ``pyflex_config`` goes to ``pyflex.Config``; its periods default to the band's.
    See :func:`select_windows` for why a ``hypocentre`` matters.
    """
    pyflex_config.setdefault("min_period", 1 / freqmax)
    pyflex_config.setdefault("max_period", 1 / freqmin)
    graph = WorkflowGraph()
    join, select, plot = JoinTraces(), SelectWindows(hypocentre, **pyflex_config), PlotStations(output_dir)
    for source, port in ((observed, "observed"), (synthetic, "synthetic")):
        demean, detrend, bandpass = Demean(), Detrend(kind="linear"), Bandpass(freqmin=freqmin, freqmax=freqmax)
        graph.connect(source, "output", demean, "input")
        graph.connect(demean, "output", detrend, "input")
        graph.connect(detrend, "output", bandpass, "input")
        graph.connect(bandpass, "output", join, port)
    graph.connect(join, "output", select, "input")
    graph.connect(select, "output", plot, "input")
    return graph
