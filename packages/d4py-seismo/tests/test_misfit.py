"""Misfit: pyflex windows on a synthetic event recover the known shifts and amplitudes, on every backend."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from matplotlib.image import imread
from obspy import Trace

from d4py import PEFailure, ProducerPE
from d4py.plugins import backend_registry
from d4py.testing import run_graph
from d4py_seismo.event import EventWaveforms, SyntheticEvent
from d4py_seismo.misfit import misfit_graph, select_windows
from d4py_seismo.processing import bandpass

pytest.importorskip("pyflex")

EVENT = SyntheticEvent()
BAND = {"freqmin": 0.02, "freqmax": 0.5}


def _run(folder: Path, backend: str = "simple", observed: ProducerPE | None = None) -> dict[str, dict[str, Any]]:
    graph = misfit_graph(
        observed or EventWaveforms(EVENT, "observed"),
        EventWaveforms(EVENT, "synthetic"),
        hypocentre=EVENT.hypocentre,
        output_dir=folder,
        **BAND,
    )
    result = run_graph(graph, backend=backend, processes=4 if backend != "simple" else None)
    return {summary["station"]: summary for summary in result.output("PlotStations")}


@pytest.fixture(scope="module")
def simple_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return _run(tmp_path_factory.mktemp("misfit"))


def test_every_window_recovers_the_station_shift_and_amplitude(simple_run: dict[str, dict[str, Any]]) -> None:
    assert sorted(simple_run) == [f"XS.M{n:02d}" for n in range(EVENT.stations)]
    for station in range(EVENT.stations):
        summary = simple_run[f"XS.M{station:02d}"]
        assert summary["windows"] >= EVENT.stations - 1  # at least one per component
        assert summary["shifts_s"] == [EVENT.shift(station) / EVENT.sampling_rate]
        assert summary["dlna"] == pytest.approx([math.log(EVENT.amplitude(station))] * summary["windows"], abs=0.03)


def test_one_image_per_station(simple_run: dict[str, dict[str, Any]]) -> None:
    for station, summary in simple_run.items():
        image = Path(summary["image"])
        assert image.name == f"misfit-{station}.png"
        pixels = imread(image)
        assert pixels.shape[:2] == (858, 990)  # three panels
        assert pixels[..., :3].std() > 0.05


@pytest.mark.parametrize("backend", ["multi", "mpi", "spark"])
def test_other_backends_find_the_same_windows(
    backend: str, simple_run: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    if backend not in backend_registry():
        pytest.skip(f"d4py-{backend} is not installed")
    other = _run(tmp_path, backend)
    for station, summary in simple_run.items():
        assert {**other[station], "image": None} == {**summary, "image": None}
        assert Path(other[station]["image"]).is_file()


class ObservedPlusOne(EventWaveforms):
    """The event's observed records and one more channel that has no synthetic partner."""

    def _process(self, inputs: Any) -> None:
        super()._process(inputs)
        stray = EVENT.trace("observed", 0, "Z")
        stray.stats.station = "M99"
        self.write("output", stray)


def test_an_observed_channel_without_a_synthetic_is_named(tmp_path: Path) -> None:
    with pytest.raises(PEFailure, match=r"JoinTraces") as failure:
        _run(tmp_path, observed=ObservedPlusOne(EVENT, "observed"))
    assert "no partner for: observed XS.M99.Z" in failure.value.traceback_text


def test_a_hypocentre_needs_station_coordinates() -> None:
    observed, synthetic = (bandpass(EVENT.trace(kind, 0, "Z"), **BAND) for kind in ("observed", "synthetic"))
    del observed.stats.coordinates
    with pytest.raises(ValueError, match=r"XS.M00..BHZ: stats.coordinates is missing"):
        select_windows(observed, synthetic, EVENT.hypocentre, min_period=2, max_period=50)


def test_event_waveforms_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind must be 'observed' or 'synthetic', not 'real'"):
        EventWaveforms(EVENT, "real")  # type: ignore[arg-type]


def test_observed_differs_from_synthetic_by_the_known_shift() -> None:
    station = 2
    synthetic: Trace = EVENT.trace("synthetic", station, "N")
    observed: Trace = EVENT.trace("observed", station, "N")
    shift = EVENT.shift(station)
    clean = observed.data / EVENT.amplitude(station)
    expected = synthetic.data[max(0, -shift) : synthetic.data.size - max(0, shift)]
    got = clean[max(0, shift) : clean.size - max(0, -shift)]
    assert abs(got - expected).max() < 10 * EVENT.noise / EVENT.amplitude(station)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"stations": 0}, "stations must be at least 1, not 0"),
        ({"seconds": 0}, "seconds and sampling_rate must be positive"),
        ({"sampling_rate": -5}, "seconds and sampling_rate must be positive"),
        ({"max_shift_samples": -1}, "max_shift_samples must be at least 0 and shorter than the record, not -1"),
        ({"seconds": 1, "max_shift_samples": 5}, "max_shift_samples .* shorter than the record, not 5"),
    ],
)
def test_a_synthetic_event_refuses_bad_parameters(parameters: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"SyntheticEvent: {message}"):
        SyntheticEvent(**parameters)
