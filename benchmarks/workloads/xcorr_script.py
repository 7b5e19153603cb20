"""The plain NumPy cross-correlation, on one core: the anchor of the xcorr benchmark."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xcorr_lib import STATIONS, check, peak_lag, prepare, trace

started = time.perf_counter()
spectra = [prepare(trace(station)) for station in range(STATIONS)]
lags = {(i, j): peak_lag(spectra[i], spectra[j]) for i in range(STATIONS) for j in range(i + 1, STATIONS)}
seconds = time.perf_counter() - started
check(lags)
print(json.dumps({"seconds": seconds}))
