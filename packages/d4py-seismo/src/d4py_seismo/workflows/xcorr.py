"""Ambient-noise cross-correlation of a synthetic network: the README's main job.

    d4py run --backend multi d4py_seismo.workflows.xcorr

Fifty stations record one hour at 20 Hz of a common noise source, each with
a known delay. Every trace is prepared (demean, detrend, band-pass, one-bit
normalisation, whitening, FFT of 10-minute windows), every one of the 1,225
pairs is cross-correlated and stacked over the windows, and the results go to
``xcorr-results/`` (``correlations.npz`` and ``correlations.png``).
``CheckLags`` reports how many pairs peak at the injected lag.

For your own waveforms, copy this file and replace ``SyntheticWaveforms``
with ``ReadWaveforms("path/to/*.mseed", inventory=...)``.
"""

from __future__ import annotations

from d4py_seismo import CheckLags, SyntheticNetwork, SyntheticWaveforms, TracePrep, xcorr_graph

network = SyntheticNetwork(stations=50, hours=1.0, sampling_rate=20.0)
prep = TracePrep(freqmin=0.2, freqmax=5.0, window_seconds=600.0, max_lag_seconds=120.0)
graph = xcorr_graph(
    SyntheticWaveforms(network),
    prep,
    max_lag_seconds=120.0,
    output_dir="xcorr-results",
    extra_sinks=(CheckLags(network),),
    velocity_km_s=network.velocity_km_s,
)
