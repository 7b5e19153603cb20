"""Each preparation step against ObsPy's own functions, on real traces."""

from __future__ import annotations

import numpy as np
import pytest
from obspy import Inventory, Stream, Trace, UTCDateTime

from d4py_seismo import processing


def _same(ours: Trace, theirs: Trace) -> None:
    assert ours.stats.sampling_rate == theirs.stats.sampling_rate
    assert ours.stats.starttime == theirs.stats.starttime
    np.testing.assert_array_equal(ours.data, theirs.data)


@pytest.mark.parametrize(
    ("step", "params", "obspy_call"),
    [
        (processing.demean, {}, lambda t: t.detrend("demean")),
        (processing.detrend, {"kind": "linear"}, lambda t: t.detrend("linear")),
        (processing.decimate, {"factor": 4}, lambda t: t.decimate(4)),
        (
            processing.bandpass,
            {"freqmin": 1.0, "freqmax": 10.0},
            lambda t: t.filter("bandpass", freqmin=1.0, freqmax=10.0, corners=4, zerophase=True),
        ),
    ],
    ids=["demean", "detrend", "decimate", "bandpass"],
)
def test_steps_match_obspy_and_leave_the_input_alone(real_stream: Stream, step, params, obspy_call) -> None:
    for trace in real_stream:
        original = trace.data.copy()
        _same(step(trace, **params), obspy_call(trace.copy()))
        np.testing.assert_array_equal(trace.data, original)


def test_remove_response_matches_obspy(real_stream: Stream, real_inventory: Inventory) -> None:
    pre_filt = (0.5, 1.0, 40.0, 45.0)
    for trace in real_stream:
        ours = processing.remove_response(trace, real_inventory, output="DISP", pre_filt=pre_filt)
        theirs = trace.copy().remove_response(inventory=real_inventory, output="DISP", pre_filt=pre_filt)
        _same(ours, theirs)
        assert np.abs(ours.data).max() < 1e-3  # metres, not counts


def test_onebit_keeps_only_the_sign(real_stream: Stream) -> None:
    trace = real_stream[0]
    result = processing.onebit(trace)
    np.testing.assert_array_equal(result.data, np.sign(trace.data.astype(float)))
    assert set(np.unique(result.data)) <= {-1.0, 0.0, 1.0}


def test_running_absolute_mean_divides_by_the_centred_mean_amplitude(real_stream: Stream) -> None:
    trace = real_stream[0]
    result = processing.running_absolute_mean(trace, window_seconds=0.5)  # 51 samples at 100 Hz
    amplitude = np.abs(trace.data.astype(float))
    for sample in (100, 1500, 2900):
        expected = trace.data[sample] / amplitude[sample - 25 : sample + 26].mean()
        assert result.data[sample] == pytest.approx(expected, rel=1e-9)


def test_whitening_flattens_the_band_and_ignores_the_amplitude(real_stream: Stream) -> None:
    trace = real_stream[0]
    white = processing.whiten(trace, freqmin=2.0, freqmax=20.0, smooth_hz=0.5)
    louder = trace.copy()
    louder.data = louder.data * 1000.0
    np.testing.assert_allclose(processing.whiten(louder, 2.0, 20.0, 0.5).data, white.data, rtol=1e-9, atol=1e-12)
    spectrum = np.abs(np.fft.rfft(white.data))
    frequencies = np.fft.rfftfreq(white.stats.npts, white.stats.delta)
    outside = (frequencies < 1.9) | (frequencies > 20.1)
    assert spectrum[outside].max() < 1e-9 * spectrum.max()
    inside = spectrum[(frequencies > 3) & (frequencies < 19)]
    assert inside.std() / inside.mean() < 0.5  # the raw band varies by orders of magnitude


def test_spectra_cut_windows_aligned_on_the_epoch() -> None:
    rate, start = 20.0, UTCDateTime("2026-01-01T00:05:00")
    trace = Trace(
        np.random.default_rng(0).standard_normal(int(3600 * rate)), {"sampling_rate": rate, "starttime": start}
    )
    result = processing.spectra(trace, window_seconds=600, max_lag_seconds=100)
    # 00:05-01:05: the whole windows are 00:10-00:20 ... 00:50-01:00.
    assert len(result.windows) == 5
    assert result.windows[0] * 600 == pytest.approx(UTCDateTime("2026-01-01T00:10:00").timestamp)
    assert result.fft_size == 16384  # >= 12,000 + 2,000 samples
    offset = int(300 * rate)
    np.testing.assert_array_equal(result.spectra[0], np.fft.rfft(trace.data[offset : offset + 12000], 16384))


def test_spectra_refuse_a_lag_as_long_as_the_window() -> None:
    trace = Trace(np.zeros(1000), {"sampling_rate": 10.0})
    with pytest.raises(ValueError, match="max_lag_seconds=50 must be shorter than window_seconds=50"):
        processing.spectra(trace, window_seconds=50, max_lag_seconds=50)
