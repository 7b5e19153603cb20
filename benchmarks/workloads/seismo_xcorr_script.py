"""The xcorr workflow's work as a plain script on one core: the same ObsPy/NumPy functions, no d4py.

Generates the synthetic network, prepares every trace (the steps of
TracePrep, in its order), correlates every pair, writes the archive and
the plot, and prints the seconds taken.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from d4py_seismo import SyntheticNetwork, correlate
from d4py_seismo.processing import bandpass, demean, detrend, onebit, spectra, whiten
from d4py_seismo.writers import plot_correlations, save_correlations

started = time.perf_counter()
network = SyntheticNetwork(stations=int(os.environ.get("BENCH_STATIONS", "50")))
prepared = []
for number in range(network.stations):
    trace = bandpass(detrend(demean(network.trace(number))), freqmin=0.2, freqmax=5.0)
    trace = whiten(onebit(trace), freqmin=0.2, freqmax=5.0)
    prepared.append(spectra(trace, window_seconds=600.0, max_lag_seconds=120.0))
pairs = [correlate(first, second, 120.0) for i, first in enumerate(prepared) for second in prepared[i + 1 :]]
out = Path(os.environ["BENCH_OUT"])
out.mkdir(parents=True, exist_ok=True)
save_correlations(pairs, out / "correlations.npz")
plot_correlations(pairs, out / "correlations.png")
print(json.dumps({"seconds": time.perf_counter() - started}))
