"""d4py-seismo: seismology PEs for d4py, on ObsPy.

- :mod:`d4py_seismo.prep`: trace preparation steps as PEs, and ``TracePrep``
- :mod:`d4py_seismo.xcorr`: every station pair's cross-correlation
- :mod:`d4py_seismo.sources`, :mod:`d4py_seismo.writers`: waveforms in, results out
- :mod:`d4py_seismo.misfit`: observed against synthetic in pyflex windows (extra ``misfit``)
- :mod:`d4py_seismo.event`: a synthetic event whose observed records differ by known shifts and amplitudes
- :mod:`d4py_seismo.assessment`: rapid assessment, peak ground motion as GeoJSON and a map
- :mod:`d4py_seismo.synthetic`: a network with known inter-station delays
- :mod:`d4py_seismo.workflows`: ready-to-run workflows; ``xcorr`` is the README's main job
"""

from d4py_seismo.__about__ import __version__
from d4py_seismo.graphs import xcorr_graph
from d4py_seismo.items import Correlation, PeakMotion, StationSpectra
from d4py_seismo.prep import TracePrep
from d4py_seismo.sources import ReadWaveforms, read_waveforms
from d4py_seismo.synthetic import CheckLags, SyntheticNetwork, SyntheticWaveforms
from d4py_seismo.writers import WriteCorrelations
from d4py_seismo.xcorr import CrossCorrelatePairs, correlate

__all__ = [
    "CheckLags",
    "Correlation",
    "CrossCorrelatePairs",
    "PeakMotion",
    "ReadWaveforms",
    "StationSpectra",
    "SyntheticNetwork",
    "SyntheticWaveforms",
    "TracePrep",
    "WriteCorrelations",
    "__version__",
    "correlate",
    "read_waveforms",
    "xcorr_graph",
]
