"""Misfit on a synthetic event: observed against synthetic seismograms in pyflex windows.

    pip install 'd4py-seismo[misfit]'
    d4py run d4py_seismo.workflows.misfit

Four three-component stations record one event; the "observed" records are
the synthetic ones shifted and scaled by known amounts per station (see
:class:`~d4py_seismo.event.SyntheticEvent`). Both are prepared alike, joined
per station and component, windowed by pyflex, and measured; one image per
station goes to ``misfit-results/misfit-NET.STA.png``. Each station's output
lists the shifts and dlnA it found, to compare with ``event.shift(n) / 5`` s
and ``ln(event.amplitude(n))``.
"""

from __future__ import annotations

from d4py_seismo.event import EventWaveforms, SyntheticEvent
from d4py_seismo.misfit import misfit_graph

event = SyntheticEvent()
graph = misfit_graph(
    EventWaveforms(event, "observed"),
    EventWaveforms(event, "synthetic"),
    freqmin=0.02,
    freqmax=0.5,
    hypocentre=event.hypocentre,
    output_dir="misfit-results",
)
