"""Cross-correlation: recovered lags against the injected delays, equal on every installed backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from d4py import GenericPE, PEFailure, ProducerPE, WorkflowGraph
from d4py.plugins import backend_registry
from d4py.testing import run_graph
from d4py_seismo import (
    CheckLags,
    CrossCorrelatePairs,
    StationSpectra,
    SyntheticNetwork,
    SyntheticWaveforms,
    TracePrep,
    correlate,
    xcorr_graph,
)
from d4py_seismo.processing import spectra

OTHER_BACKENDS = ["multi", "mpi", "spark"]


def _prep() -> TracePrep:
    return TracePrep(freqmin=0.2, freqmax=5.0, window_seconds=300, max_lag_seconds=100)


def _run(network: SyntheticNetwork, folder: Path, backend: str = "simple") -> dict[str, Any]:
    graph = xcorr_graph(
        SyntheticWaveforms(network), _prep(), max_lag_seconds=100, output_dir=folder, extra_sinks=(CheckLags(network),)
    )
    result = run_graph(graph, backend=backend, processes=3 if backend != "simple" else None)
    [written] = result.output("WriteCorrelations")
    [checked] = result.output("CheckLags")
    return {"written": written, "checked": checked, "archive": dict(np.load(written["archive"]))}


@pytest.fixture(scope="module")
def simple_run(small_network: SyntheticNetwork, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(small_network, tmp_path_factory.mktemp("simple"))


def test_every_pair_peaks_at_the_injected_lag(simple_run: dict[str, Any], small_network: SyntheticNetwork) -> None:
    assert simple_run["checked"] == {"pairs": 28, "at the injected lag": 28, "wrong": []}
    archive = simple_run["archive"]
    for first, second, peak in zip(archive["first"], archive["second"], archive["peak_lag_s"], strict=True):
        assert peak * 20 == small_network.expected_lag(str(first), str(second))
    assert set(archive["windows"]) == {3}  # 15 minutes: three 5-minute windows stacked


def test_the_archive_and_plot_are_written(simple_run: dict[str, Any]) -> None:
    archive = simple_run["archive"]
    assert simple_run["written"]["pairs"] == 28
    assert archive["functions"].shape == (28, 4001)  # ±100 s at 20 Hz
    assert np.all(np.diff(archive["distance_km"]) >= 0)  # ordered by distance
    assert 0 < archive["distance_km"][0] < archive["distance_km"][-1] < 250
    image = imread(simple_run["written"]["plot"])
    assert image.shape[:2] == (720, 960)
    assert image[..., :3].std() > 0.05  # not a blank canvas


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_other_backends_give_the_same_correlations(
    backend: str, simple_run: dict[str, Any], small_network: SyntheticNetwork, tmp_path: Path
) -> None:
    if backend not in backend_registry():
        pytest.skip(f"d4py-{backend} is not installed")
    other = _run(small_network, tmp_path, backend)
    assert other["checked"] == simple_run["checked"]
    for name, values in simple_run["archive"].items():
        np.testing.assert_array_equal(other["archive"][name], values, err_msg=name)


EVENTS: list[str] = []  # simple runs copies of the PEs in this process: they share module state


class Replay(ProducerPE):
    """Write the given spectra, recording in ``EVENTS`` when each one left."""

    def __init__(self, items: list[StationSpectra]) -> None:
        super().__init__()
        self.items = items

    def _process(self, inputs: Any) -> None:
        for item in self.items:
            EVENTS.append(f"sent {item.station}")
            self.write("output", item)


class Record(GenericPE):
    def __init__(self) -> None:
        super().__init__()
        self._add_input("input")

    def _process(self, inputs: dict[str, Any]) -> None:
        EVENTS.append(f"pair {inputs['input'].first}-{inputs['input'].second}")


def _spectra(network: SyntheticNetwork, count: int) -> list[StationSpectra]:
    return [spectra(network.trace(n), window_seconds=300, max_lag_seconds=100) for n in range(count)]


def test_pairs_leave_as_soon_as_both_spectra_are_in(small_network: SyntheticNetwork) -> None:
    EVENTS.clear()
    graph, correlate = WorkflowGraph(), CrossCorrelatePairs(numprocesses=1)
    graph.connect(Replay(_spectra(small_network, 3)), "output", correlate, "input")
    graph.connect(correlate, "output", Record(), "input")
    run_graph(graph)
    assert EVENTS == [
        "sent SY.S000..BHZ",
        "sent SY.S001..BHZ",
        "pair SY.S000..BHZ-SY.S001..BHZ",
        "sent SY.S002..BHZ",
        "pair SY.S000..BHZ-SY.S002..BHZ",
        "pair SY.S001..BHZ-SY.S002..BHZ",
    ]


def test_a_station_twice_fails_naming_the_pe(small_network: SyntheticNetwork) -> None:
    [once] = _spectra(small_network, 1)
    graph = WorkflowGraph()
    graph.connect(Replay([once, once]), "output", CrossCorrelatePairs(numprocesses=1), "input")
    with pytest.raises(PEFailure, match=r"PE 'CrossCorrelatePairs\d+' .* on item .*SY.S000..BHZ") as failure:
        run_graph(graph)
    assert "ValueError: station SY.S000..BHZ arrived twice" in failure.value.traceback_text


def test_stations_prepared_differently_are_refused(small_network: SyntheticNetwork) -> None:
    first = spectra(small_network.trace(0), window_seconds=300, max_lag_seconds=100)
    coarse = small_network.trace(1).decimate(2)
    second = spectra(coarse, window_seconds=300, max_lag_seconds=100)
    with pytest.raises(ValueError, match=r"SY.S000..BHZ and SY.S001..BHZ were prepared differently.*decimate"):
        correlate(first, second, 100)


def test_trace_prep_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="TracePrep: need 0 < freqmin < freqmax"):
        TracePrep(freqmin=5.0, freqmax=1.0)
    with pytest.raises(ValueError, match="TracePrep: max_lag_seconds=600 must be shorter"):
        TracePrep(freqmin=0.1, freqmax=1.0, window_seconds=600, max_lag_seconds=600)
    with pytest.raises(ValueError, match="normalisation must be 'onebit', 'running-mean' or None"):
        TracePrep(freqmin=0.1, freqmax=1.0, normalisation="clip")  # type: ignore[arg-type]


def test_the_image_keeps_one_sample_peaks_of_either_sign() -> None:
    from d4py_seismo.writers import _shrink

    values = np.zeros((3, 4801))
    values[0, 17], values[1, 4800], values[2, 2000] = -0.9, 0.7, 1.0
    values[2, 2001] = -0.4
    shrunk = _shrink(values, 900, axis=1)
    assert shrunk.shape == (3, 801)  # blocks of 6 samples
    assert (shrunk[0, 2], shrunk[1, 800], shrunk[2, 333]) == (-0.9, 0.7, 1.0)
    assert np.count_nonzero(shrunk) == 3


def test_pairs_without_coordinates_are_still_drawn(tmp_path: Path) -> None:
    from d4py_seismo.items import Correlation
    from d4py_seismo.writers import plot_correlations

    rng = np.random.default_rng(0)
    pairs = [Correlation(f"A{i}", f"B{i}", 20.0, 1, rng.standard_normal(401)) for i in range(5)]
    plot_correlations(pairs, tmp_path / "rows.png")
    image = imread(tmp_path / "rows.png")
    assert image.shape[:2] == (720, 960) and image[..., :3].std() > 0.05
