"""The d4py-seismo xcorr workflow at benchmark scale: BENCH_STATIONS stations, results to BENCH_OUT."""

from __future__ import annotations

import os

from d4py_seismo import SyntheticNetwork, SyntheticWaveforms, TracePrep, xcorr_graph

network = SyntheticNetwork(stations=int(os.environ.get("BENCH_STATIONS", "50")))
prep = TracePrep(freqmin=0.2, freqmax=5.0, window_seconds=600.0, max_lag_seconds=120.0)
graph = xcorr_graph(SyntheticWaveforms(network), prep, max_lag_seconds=120.0, output_dir=os.environ["BENCH_OUT"])
