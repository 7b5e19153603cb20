"""Rapid assessment on ObsPy's real recording: peaks against ObsPy's own response removal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from obspy import Inventory, Stream

from d4py_seismo.assessment import peak_motion, station_peaks
from d4py_seismo.sources import read_waveforms

PRE_FILT = (0.5, 1.0, 40.0, 45.0)


def test_peaks_match_obspy_response_removal(real_stream: Stream, real_inventory: Inventory) -> None:
    for trace in real_stream:
        peak = peak_motion(trace, real_inventory, pre_filt=PRE_FILT)
        for value, output in ((peak.pga, "ACC"), (peak.pgv, "VEL"), (peak.pgd, "DISP")):
            corrected = trace.copy().remove_response(inventory=real_inventory, output=output, pre_filt=PRE_FILT)
            assert value == np.abs(corrected.data).max()
        assert peak.pga > peak.pgv > peak.pgd > 0  # 1-40 Hz motion: m/s² > m/s > m


def test_a_station_keeps_the_largest_peak_of_its_channels(real_stream: Stream, real_inventory: Inventory) -> None:
    channels = [peak_motion(t, real_inventory, PRE_FILT) for t in read_waveforms([real_stream], real_inventory)]
    [station] = station_peaks(channels)
    assert station.station == "BW.RJOB"
    assert station.pgv == max(c.pgv for c in channels)
    assert station.latitude == pytest.approx(47.737, abs=1e-3)


def test_a_channel_without_a_response_is_named(real_stream: Stream, real_inventory: Inventory) -> None:
    trace = real_stream[0].copy()
    trace.stats.station = "NOPE"
    with pytest.raises(ValueError, match=r"cannot remove the response of BW.NOPE..EHZ"):
        peak_motion(trace, real_inventory)


def test_the_workflow_writes_geojson_and_a_map(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "d4py", "run", "d4py_seismo.workflows.rapid_assessment", "--json"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    [summary] = next(ports["output"] for pe, ports in json.loads(done.stdout)["outputs"].items())
    collection = json.loads(Path(summary["geojson"]).read_text())
    [feature] = collection["features"]
    assert feature["geometry"]["type"] == "Point"
    longitude, latitude = feature["geometry"]["coordinates"]
    assert (latitude, longitude) == pytest.approx((47.737, 12.796), abs=1e-3)
    assert feature["properties"]["pgv_m_s"] == summary["stations"]["BW.RJOB"]["pgv"]
    assert imread(summary["map"]).shape[:2] == (720, 840)
