"""Reading waveforms: files, folders, patterns and streams, merged per channel, with coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from obspy import Inventory, Stream

from d4py.testing import run_graph
from d4py_seismo import ReadWaveforms, TracePrep, read_waveforms, xcorr_graph


def _write_in_halves(stream: Stream, folder: Path) -> None:
    middle = stream[0].stats.starttime + 15
    stream.slice(endtime=middle - stream[0].stats.delta).write(str(folder / "first.mseed"), format="MSEED")
    stream.slice(starttime=middle).write(str(folder / "second.mseed"), format="MSEED")


def test_a_folder_of_pieces_reads_back_as_one_trace_per_channel(real_stream: Stream, tmp_path: Path) -> None:
    _write_in_halves(real_stream, tmp_path)
    stream = read_waveforms([tmp_path])
    assert [trace.id for trace in stream] == sorted(trace.id for trace in real_stream)
    for trace in stream:
        [original] = real_stream.select(id=trace.id)
        assert trace.stats.npts == original.stats.npts
        np.testing.assert_array_equal(trace.data, original.data)


def test_patterns_and_streams_are_sources_too(real_stream: Stream, tmp_path: Path) -> None:
    _write_in_halves(real_stream, tmp_path)
    assert len(read_waveforms([str(tmp_path / "*.mseed")])) == 3
    assert len(read_waveforms([real_stream])) == 3


def test_an_inventory_gives_coordinates(real_stream: Stream, real_inventory: Inventory) -> None:
    for trace in read_waveforms([real_stream], inventory=real_inventory):
        assert trace.stats.coordinates.latitude == pytest.approx(47.737, abs=1e-3)


def test_a_missing_path_fails_when_the_pe_is_built(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"no waveform files at {tmp_path}/nothing-here"):
        ReadWaveforms(tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="give at least one file"):
        ReadWaveforms()


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a waveform")
    with pytest.raises(ValueError, match=r"cannot read waveforms from .*notes.txt"):
        read_waveforms([tmp_path])


def test_xcorr_on_real_traces(real_stream: Stream, real_inventory: Inventory, tmp_path: Path) -> None:
    _write_in_halves(real_stream, tmp_path)
    prep = TracePrep(freqmin=1.0, freqmax=20.0, window_seconds=10, max_lag_seconds=2, inventory=real_inventory)
    graph = xcorr_graph(ReadWaveforms(tmp_path, inventory=real_inventory), prep, max_lag_seconds=2, output_dir=tmp_path)
    [written] = run_graph(graph).output("WriteCorrelations")
    archive = np.load(written["archive"])
    assert written["pairs"] == 3  # the three components of BW.RJOB, pairwise
    assert set(archive["distance_km"]) == {0.0}
    assert archive["functions"].shape == (3, 401)
    assert np.all(archive["windows"] >= 2)
